"""Runs you can carry: whole run folders (config, metrics, status, probe set, snapshots, model) in
one zip with a manifest of every file's SHA-256, and the import that checks it before a run folder
appears: safe member names (no absolute paths, `..` or links), capped size and file count while
unpacking, only the files a run folder holds, each hash as the manifest says, every array file read
without pickle, the model read with `weights_only`, and the config checked. An imported run whose
name is taken gets a free one (`-2`, `-3`, ...). Caches are left out (they are computed again)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np

from lab.config import RunConfig
from lab.errors import StoreError
from lab.store import RunRecord, load_run
from lab.store.fsio import atomic_write, json_bytes, safe_unzip
from lab.store.names import check_run_name

FORMAT = 1
ENDED = ("done", "stopped", "diverged", "collapsed", "failed", "interrupted")
FILES = re.compile(r"(config\.json|metrics\.jsonl|status\.json|probe\.npz|model\.pt|snapshots/epoch_\d{3,}\.npz)")
MAX_FILES = 20_000


def _import_cap() -> int:
    """Bytes an import may unpack: $REGLAB_IMPORT_MB, default 4096."""
    try:
        return max(1, int(os.environ.get("REGLAB_IMPORT_MB", "4096"))) << 20
    except ValueError:
        return 4096 << 20


def _files(run: RunRecord) -> list[Path]:
    """The files of a run folder that travel: everything but its lock and caches."""
    return sorted(p for p in run.path.rglob("*") if p.is_file() and FILES.fullmatch(str(p.relative_to(run.path))))


def export(runs: list[RunRecord], out: Path | None = None) -> bytes:
    """The zip of `runs` (ended runs only), written to `out` too when given."""
    if not runs:
        raise StoreError("Name at least one run to export.")
    manifest = {"reglab_runs": FORMAT, "runs": {}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for run in runs:
            if run.state not in ENDED:
                raise StoreError(f"Run {run.id} is {run.state}; export it once it has ended.")
            files = {}
            for f in _files(run):
                rel = f.relative_to(run.path).as_posix()
                data = f.read_bytes()
                z.writestr(f"{run.id}/{rel}", data)
                files[rel] = hashlib.sha256(data).hexdigest()
            manifest["runs"][run.id] = files
        z.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    if out is not None:
        atomic_write(Path(out), buf.getvalue())
    return buf.getvalue()


def _check_run(folder: Path, name: str, files: dict[str, str]) -> None:
    """One unpacked run: exactly the manifest's files, each with its hash, readable without pickle."""
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    if bad := sorted(found - set(files)) or sorted(set(files) - found):
        raise StoreError(f"Run {name} in the bundle does not match its manifest ({bad[0]}); export it again.")
    for rel, digest in files.items():
        if not FILES.fullmatch(rel):
            raise StoreError(f"Run {name} in the bundle holds {rel!r}, which no run folder has; export it again.")
        if hashlib.sha256((folder / rel).read_bytes()).hexdigest() != digest:
            raise StoreError(f"{name}/{rel} in the bundle is not the file its manifest names (changed or corrupt).")
        if rel.endswith(".npz"):
            try:
                with np.load(folder / rel, allow_pickle=False) as z:
                    [z[k] for k in z.files]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
                raise StoreError(f"{name}/{rel} in the bundle is not a plain array file ({e}).") from None
    try:
        RunConfig.from_dict(json.loads((folder / "config.json").read_text()))
        if "model.pt" in files:
            import torch

            torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to read is one line naming the file
        raise StoreError(f"Run {name} in the bundle cannot be read ({type(e).__name__}: {e}).") from None


def _free(root: Path, name: str) -> str:
    """`name`, or `name-2`, `name-3`, ... when taken."""
    candidate, i = name, 1
    while (root / candidate).exists():
        i += 1
        candidate = f"{name}-{i}"[-100:]
    return candidate


def import_bundle(archive: Path, root: Path) -> list[str]:
    """Check the bundle `archive` and add its runs to the runs folder `root`; their ids there."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".import-{os.getpid()}-{os.urandom(3).hex()}"
    tmp.mkdir()
    try:
        try:
            safe_unzip(archive, tmp, _import_cap(), MAX_FILES, StoreError, "REGLAB_IMPORT_MB")
        except zipfile.BadZipFile:
            raise StoreError(f"{Path(archive).name} is not a readable zip file; export the runs again.") from None
        try:
            manifest = json.loads((tmp / "manifest.json").read_text())
            runs = manifest["runs"] if manifest.get("reglab_runs") == FORMAT else None
        except (OSError, ValueError, KeyError, TypeError):
            runs = None
        if not isinstance(runs, dict) or not runs:
            raise StoreError(f"{Path(archive).name} is not a bundle of runs (no manifest.json from `python -m lab "
                             f"runs export`).")
        if extra := sorted({p.name for p in tmp.iterdir()} - set(runs) - {"manifest.json"}):
            raise StoreError(f"{Path(archive).name} holds {extra[0]!r}, which its manifest does not name.")
        for name, files in runs.items():
            _check_run(tmp / check_run_name(name), name, files)
        added = []
        for name in runs:
            new = _free(root, name)
            os.rename(tmp / name, root / new)
            if new != name:
                cfg = json.loads((root / new / "config.json").read_text())
                atomic_write(root / new / "config.json", json_bytes({**cfg, "name": new}))
            added.append(new)
        return [load_run(root / a).id for a in added]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
