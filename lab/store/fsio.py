"""File-system primitives under the run store (which alone knows the run folder's layout):
atomic writes, strict JSON, a zip unpacked safely, whether the process a status names is alive, and an exclusive lock on a folder
between processes (a flock on its `.lock` file, released when its descriptor is closed or the
process ends, so a killed process never leaves a stale lock). POSIX only, like the lab."""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import stat
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to a temporary sibling, flush it to disk, rename it over `path`, and flush
    the folder too (the rename is an entry of the folder: a power cut could otherwise lose it).
    `durable=False` skips both flushes: for what can be computed again (a cache), a reader never
    sees a half-written file (the rename), and a power cut can at worst leave it empty or gone."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if not durable:
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def json_bytes(obj: Any) -> bytes:
    """Strict JSON (no NaN) of `obj`, tuples and sets as lists, numpy scalars as numbers."""
    return json.dumps(obj, indent=1, allow_nan=False, default=_jsonable).encode()


def _jsonable(o: Any) -> Any:
    if isinstance(o, (tuple, set)):
        return list(o)
    if getattr(o, "shape", None) == () and callable(getattr(o, "item", None)):  # a numpy (or torch) scalar,
        return o.item()  # told without importing numpy (the app's first page has none)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def alive(status: dict) -> bool:
    """Whether the process in a status document ({"pid", "host"}) still runs; a run on another
    host is trusted to say what it does."""
    if status.get("host") != socket.gethostname():
        return True
    try:
        pid = int(status.get("pid", 0))
        if pid <= 0:
            return False
        os.kill(pid, 0)
        return True
    except (OSError, ValueError, OverflowError, TypeError):
        return False


def hold(folder: Path) -> int | None:
    """The descriptor of an exclusive lock on `folder` (close it to release), or None at once when
    another process, or another descriptor of this one, holds it."""
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def rename_whole(folder: Path, target: Path) -> bool:
    """Rename `folder` to `target` (a folder appears whole, in one step); when `target` exists and
    is not empty (taken meanwhile), remove `folder` and return False."""
    try:
        os.rename(folder, target)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return False
    return True


def safe_unzip(archive: Path, into: Path, limit: int, max_files: int, error: type[Exception], cap_note: str) -> None:
    """Unpack `archive` into the folder `into` member by member, never trusting its listing: a
    member whose name is absolute or climbs out with `..`, or a link, raises `error`; so do more
    than `max_files` entries, and unpacked bytes passing `limit` while they are written (a zip bomb
    declares small sizes); `cap_note` says what the limit is."""
    total = 0
    with zipfile.ZipFile(archive) as z:
        members = z.infolist()
        if len(members) > max_files:
            raise error(f"The zip holds {len(members)} entries (at most {max_files}); zip fewer files.")
        for m in members:
            name = PurePosixPath(m.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", m.filename):
                raise error(f"The zip's member {m.filename!r} points outside its folder; zip with relative paths "
                            f"only.")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise error(f"The zip's member {m.filename!r} is a link; zip the files themselves.")
            target = into.joinpath(*name.parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(m) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        raise error(f"The zip unpacks to more than {limit >> 20} MB ({cap_note}).")
                    dst.write(chunk)
