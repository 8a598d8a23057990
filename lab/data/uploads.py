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
import stat
import zipfile
from pathlib import Path, PurePosixPath

from lab.errors import DataError

KIND_SUFFIXES = {"table": (".csv", ".tsv"), "arrays": (".npz",), "images": (".zip",)}  # what each kind uploads
SUFFIXES = tuple(s for suffixes in KIND_SUFFIXES.values() for s in suffixes)
UNPACKED_FACTOR = 5  # a zip may unpack to at most this many times the upload cap
MAX_FILES = 50_000


def upload_cap_mb() -> int:
    """The upload cap in MB: $REGLAB_UPLOAD_MB, default 200."""
    try:
        return max(1, int(os.environ.get("REGLAB_UPLOAD_MB", "200")))
    except ValueError:
        return 200


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


def _unzip(archive: Path, into: Path, limit: int) -> None:
    """Unpack `archive` into the folder `into`, refusing unsafe members and passing the caps."""
    total = 0
    with zipfile.ZipFile(archive) as z:
        members = z.infolist()
        if len(members) > MAX_FILES:
            raise DataError(f"The zip holds {len(members)} entries (at most {MAX_FILES}); zip fewer images.")
        for m in members:
            name = PurePosixPath(m.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or re.match(r"^[A-Za-z]:", m.filename):
                raise DataError(f"The zip's member {m.filename!r} points outside its folder; zip the image folder "
                                f"itself (relative paths only).")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise DataError(f"The zip's member {m.filename!r} is a link; zip the images themselves.")
            target = into.joinpath(*name.parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(m) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        raise DataError(f"The zip unpacks to more than {limit >> 20} MB (at most {UNPACKED_FACTOR} "
                                        f"times the upload cap); zip fewer or smaller images.")
                    dst.write(chunk)


def image_root(folder: Path) -> Path:
    """The image folder inside an unpacked zip: the one top-level folder when the zip wrapped one."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    inner = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
    return inner if inner is not None and any(p.is_dir() for p in inner.iterdir()) else folder


def store(name: str, content: bytes, folder: Path, check, cap_mb: int | None = None) -> Path:
    """Check and store an upload called `name` (its bytes `content`) under `folder`; the path to
    train on (a file, or for a zip the image folder). `check(kind, path)` reads it as the lab would
    (DataError when it cannot). The same content is stored once; a refused upload leaves nothing."""
    cap = upload_cap_mb() if cap_mb is None else cap_mb
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
                _unzip(archive, tmp, cap * UNPACKED_FACTOR << 20)
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
