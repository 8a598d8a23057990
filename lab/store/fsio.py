"""File-system primitives under the run store (which alone knows the run folder's layout):
atomic writes, strict JSON, whether the process a status names is alive, and an exclusive lock on a folder
between processes (a flock on its `.lock` file, released when its descriptor is closed or the
process ends, so a killed process never leaves a stale lock). POSIX only, like the lab."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np


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
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
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
