"""Files a user hands the app: checked like any data file, then stored once, in a folder named
by their content's SHA-256, in the data folder beside the runs (`<runs>/../data/uploads/<hash>/<name>`). A zip
(an image folder) is unpacked member by member, never trusting its own listing: a member whose
name is absolute or climbs out with `..`, or that is a link, is refused, and so is an archive whose
unpacked bytes or file count pass the caps while they are being written. Nothing is imported or
unpickled: an upload is data only."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from pathlib import Path

from lab.errors import DataError
from lab.store.fsio import safe_unzip

KIND_SUFFIXES = {"table": (".csv", ".tsv"), "arrays": (".npz",), "images": (".zip",)}  # what each kind uploads
SUFFIXES = tuple(s for suffixes in KIND_SUFFIXES.values() for s in suffixes)
UNPACKED_FACTOR = 5  # a zip may unpack to at most this many times the upload cap
MAX_FILES = 50_000


def uploads_folder(runs: Path) -> Path:
    """Where uploads are stored: the `data/uploads` folder beside the runs folder."""
    return Path(runs).resolve().parent / "data" / "uploads"


def stored(folder: Path, kind: str | None = None) -> list[Path]:
    """The paths to train on of the uploads stored so far (of `kind` only, when given), newest first."""
    if not folder.is_dir():
        return []
    kept = sorted((p for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".") for p in d.iterdir()),
                  key=lambda p: -p.stat().st_mtime)
    return [image_root(p) if p.is_dir() else p for p in kept
            if kind is None or (".zip" if p.is_dir() else p.suffix.lower()) in KIND_SUFFIXES[kind]]


def image_root(folder: Path) -> Path:
    """The image folder inside an unpacked zip: the one top-level folder when the zip wrapped one."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    inner = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
    return inner if inner is not None and any(p.is_dir() for p in inner.iterdir()) else folder


def store(name: str, content: bytes, folder: Path, check, cap_mb: int) -> Path:
    """Check and store an upload called `name` (its bytes `content`) under `folder`; the path to
    train on (a file, or for a zip the image folder). `check(kind, path)` reads it as the lab would
    (DataError when it cannot). The same content is stored once; a refused upload leaves nothing."""
    cap = cap_mb
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{name}: the lab takes {', '.join(SUFFIXES)} uploads (a zip holds an image folder).")
    if len(content) > cap << 20:
        raise DataError(f"{name} is {len(content) / 2**20:.1f} MB; uploads are capped at {cap} MB "
                        f"(REGLAB_UPLOAD_MB), so train on it from the command line with --data instead.")
    digest = hashlib.sha256(content).hexdigest()[:16]
    stem = re.sub(r"[^\w.-]+", "_", Path(name).stem)[:60] or "data"
    final = folder / digest / (stem if suffix == ".zip" else f"{stem}{suffix}")
    if final.exists():
        return image_root(final) if final.is_dir() else final
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{digest}.{os.getpid()}{'' if suffix == '.zip' else suffix}"
    try:
        if suffix == ".zip":
            archive = tmp.with_name(tmp.name + ".zip")
            archive.write_bytes(content)
            tmp.mkdir()
            try:
                safe_unzip(archive, tmp, cap * UNPACKED_FACTOR << 20, MAX_FILES, DataError,
                           f"at most {UNPACKED_FACTOR} times the upload cap; zip fewer or smaller images")
            except zipfile.BadZipFile:
                raise DataError(f"{name} is not a readable zip file; zip the image folder again.") from None
            finally:
                archive.unlink(missing_ok=True)
        else:
            tmp.write_bytes(content)
        try:
            check({".zip": "images", ".npz": "arrays"}.get(suffix, "table"), image_root(tmp) if tmp.is_dir() else tmp)
        except DataError as e:  # said of the upload's own name, not of the temporary one
            raise DataError(str(e).replace(tmp.name, name)) from None
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return image_root(final) if final.is_dir() else final
