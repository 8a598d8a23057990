"""The run store: one folder per run under the runs folder, written so a crash loses nothing.

    <runs>/<run_id>/config.json          the validated RunConfig
                    metrics.jsonl        one JSON object per epoch
                    probe.npz            the probe inputs `x` (standardised), labels `y`, class names `classes`
                    snapshots/epoch_NNN.npz   probe snapshot (numpy-only format, see README)
                    status.json          {"status": running|done|stopped|diverged|failed, ...}
                    model.pt             last state_dict (read back with weights_only=True)
                    .lock                held by the writer while training, and by rename/delete

Every file is written to a temporary name in the same folder and renamed into place, so a
process killed at any moment leaves each earlier epoch readable. A run whose status says
"running" but whose process is gone is reported as "interrupted". This is the only module
that touches run folders.
"""
from __future__ import annotations

import io
import json
import math
import os
import shutil
import socket
import time
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from lab.config import RunConfig
from lab.errors import StoreError
from lab.store.fsio import alive, atomic_write, hold, json_bytes, rename_whole
from lab.store.names import check_run_name, new_run_id, runs_root  # runs_root: part of the store API

if TYPE_CHECKING:  # numpy loads where arrays are read or written: the app's first page lists runs without it
    import numpy as np

STATUSES = ("running", "done", "stopped", "diverged", "collapsed", "failed", "interrupted")


def _finite(record: dict) -> dict:
    """NaN/inf become None so metrics.jsonl stays strict JSON (a diverged epoch keeps its row)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}


class RunWriter:
    """Creates a run folder and writes it as training goes. Never overwrites an existing run.
    Snapshots stay within `snapshot_budget` bytes (default $REGLAB_SNAPSHOT_MB, 256): past it,
    the stride between the epochs kept doubles (epoch 0 and the latest are always kept)."""

    def __init__(self, root: Path, cfg: RunConfig, snapshot_budget: int | None = None):
        self.budget, self.stride = snapshot_budget or int(os.environ.get("REGLAB_SNAPSHOT_MB", "256")) * 2**20, 1
        self.id = check_run_name(cfg.name) if cfg.name else new_run_id(cfg)
        root.mkdir(parents=True, exist_ok=True)
        taken = StoreError(f"A run named {self.id!r} already exists in {root}; choose another name.")
        if (root / self.id).exists():
            raise taken
        self.path, self.metrics = root / f".{self.id}.{os.getpid()}.new", []  # built complete, hidden, then
        (self.path / "snapshots").mkdir(parents=True)  # renamed into place: a run list never meets half a run
        self._lock: int | None = _lock(self.path)  # held while training (on the file: the rename keeps it)
        atomic_write(self.path / "config.json", json_bytes(cfg.to_dict()))
        self.status("running")
        if not rename_whole(self.path, root / self.id):  # another writer took the name meanwhile
            raise taken
        self.path = root / self.id

    def status(self, status: str, error: str | None = None, **extra: Any) -> None:
        """Write status.json; "running" records the pid and host so a dead process is noticed, and
        any other status (the run has ended) releases the run's lock."""
        doc = {"status": status, "time": time.time(), "pid": os.getpid(), "host": socket.gethostname(), **extra}
        if error:
            doc["error"] = error
        atomic_write(self.path / "status.json", json_bytes(doc))
        if status != "running" and self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def _npz(self, path: Path, arrays: dict[str, np.ndarray | list[str]]) -> None:
        import numpy as np

        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write(path, buf.getvalue())

    def probe(self, x: np.ndarray, y: np.ndarray, classes: list[str]) -> None:
        """The probe set once per run (its inputs are the same every epoch) and the class names (a str array)."""
        self._npz(self.path / "probe.npz", {"x": x, "y": y, "classes": list(classes)})

    def snapshot(self, epoch: int, arrays: dict[str, np.ndarray]) -> None:
        self._npz(self.path / "snapshots" / f"epoch_{epoch:03d}.npz", arrays)
        while True:  # thin out: drop the epochs off the stride, double it while over the budget
            kept = [e for e in snapshot_epochs(self.path) if e % self.stride == 0 or e == epoch]
            for e in set(snapshot_epochs(self.path)) - set(kept):
                (self.path / "snapshots" / f"epoch_{e:03d}.npz").unlink()
            used = sum((self.path / "snapshots" / f"epoch_{e:03d}.npz").stat().st_size for e in kept)
            if used <= self.budget or self.stride >= epoch:
                return
            self.stride *= 2

    def epoch(self, record: dict) -> None:
        """Append one epoch's metrics (the whole file is rewritten atomically; it is small)."""
        self.metrics.append(_finite(record))
        atomic_write(self.path / "metrics.jsonl", "".join(json.dumps(m) + "\n" for m in self.metrics).encode())

    def model_state(self, state: dict) -> None:
        import torch

        buf = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in state.items()}, buf)
        atomic_write(self.path / "model.pt", buf.getvalue())


@dataclass
class RunRecord:
    """A saved run as read back: id, folder, config, status document and metrics."""

    id: str
    path: Path
    config: RunConfig
    status: dict
    metrics: list[dict] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.status.get("status", "interrupted")

    def final(self, key: str = "test_acc") -> float | None:
        return self.metrics[-1].get(key) if self.metrics else None

    @property
    def snapshot_epochs(self) -> list[int]:
        return snapshot_epochs(self.path)


def _lock(path: Path) -> int:
    """`lab.lock.hold(path)`, or StoreError when the run is in use."""
    if (fd := hold(path)) is None:
        raise StoreError(f"Run {path.name} is in use (training, or being renamed or deleted); "
                         f"stop it or wait until it has ended, then try again.")
    return fd


def in_use(run: RunRecord) -> str | None:
    """Why the run cannot be renamed or deleted now (its status says a live process trains it), or None."""
    return (f"Run {run.id} is being trained by process {run.status.get('pid')} on {run.status.get('host')}; "
            f"stop it or wait until it has ended, then try again.") if run.state == "running" else None


@contextmanager
def _claimed(path: Path) -> Iterator[RunRecord]:
    """The run at `path`, read and held under its lock for a rename or delete; StoreError if in use."""
    load_run(path)  # a run folder, before any lock file is created in it
    fd = _lock(path)
    try:
        rec = load_run(path)
        if reason := in_use(rec):
            raise StoreError(reason)
        yield rec
    finally:
        os.close(fd)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"{path.parent.name}: {path.name} is missing; this is not a complete run folder.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{path.parent.name}: {path.name} is corrupt ({e}); delete the folder or fix the file.") from None


def load_run(run: str | Path, root: Path | None = None) -> RunRecord:
    """Read a run by id (under `root`) or by folder path. A truncated last metrics line (a kill
    mid-write on a file system without atomic rename) is dropped, earlier lines are kept."""
    path = Path(run) if root is None else root / check_run_name(str(run))
    if not path.is_dir():
        raise StoreError(f"No run folder {str(path)!r}; `python -m lab runs` lists the saved runs.")
    cfg_doc = _read_json(path / "config.json")
    if not isinstance(cfg_doc, dict):
        raise StoreError(f"{path.name}: config.json is not a run configuration.")
    try:
        cfg = RunConfig.from_dict(cfg_doc)
    except (TypeError, ValueError) as e:
        raise StoreError(f"{path.name}: config.json is not a run configuration ({e}).") from None
    try:
        status = _read_json(path / "status.json")
    except StoreError:
        status = {"status": "interrupted"}
    if not isinstance(status, dict) or status.get("status") not in STATUSES:
        status = {"status": "interrupted"}
    if status["status"] == "running" and not alive(status):
        status = {**status, "status": "interrupted"}
    metrics = []
    if (path / "metrics.jsonl").exists():
        for line in (path / "metrics.jsonl").read_text(errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            if isinstance(row, dict):
                metrics.append(row)
    return RunRecord(path.name, path, cfg, status, metrics)


def list_runs(root: Path) -> list[RunRecord]:
    """Every readable run under `root`, newest first; unreadable folders are skipped with a warning."""
    out = []
    if not root.is_dir():
        return out
    for p in root.iterdir():
        if not p.is_dir() or p.name.startswith("."):
            continue
        try:
            out.append(load_run(p))
        except StoreError as e:
            warnings.warn(f"Skipped {p.name}: {e}", stacklevel=2)
    return sorted(out, key=lambda r: r.status.get("time", 0), reverse=True)


def snapshot_epochs(path: Path) -> list[int]:
    """Epochs whose snapshot file exists, ascending."""
    numbers = (f.stem.split("_")[1] for f in (path / "snapshots").glob("epoch_*.npz"))
    return sorted(int(n) for n in numbers if n.isdecimal())


def _run_path(run: RunRecord | Path) -> Path:
    return run.path if isinstance(run, RunRecord) else Path(run)


def disk_bytes(run: RunRecord | Path) -> int:
    """The bytes of every file in the run folder (snapshots, model, caches)."""
    return sum(f.stat().st_size for f in _run_path(run).rglob("*") if f.is_file())


def load_snapshot(run: RunRecord | Path, epoch: int) -> dict[str, np.ndarray]:
    """The probe snapshot of one epoch as float32/int arrays (numpy only, no pickle)."""
    path = _run_path(run)
    return _load_npz(path / "snapshots" / f"epoch_{epoch:03d}.npz", path.name, f"snapshot for epoch {epoch}")


def load_probe(run: RunRecord | Path) -> dict[str, np.ndarray]:
    """The run's probe set: `x` (standardised inputs, float32), `y` and, for runs since class names
    were saved, `classes` (the data set's class names, str)."""
    path = _run_path(run)
    return _load_npz(path / "probe.npz", path.name, "probe set (probe.npz)")


def class_names(run: RunRecord | Path) -> list[str] | None:
    """The class names a run saved with its probe set; None for a run from before they were saved."""
    probe = load_probe(run)
    return [str(c) for c in probe["classes"]] if "classes" in probe else None


def _load_npz(path: Path, run_name: str, what: str) -> dict[str, np.ndarray]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: a.astype(np.float32) if a.dtype == np.float16 else a for k in z.files for a in [z[k]]}
    except FileNotFoundError:
        raise StoreError(f"Run {run_name} has no {what}.") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise StoreError(f"The {what} of run {run_name} is corrupt ({e}).") from None


def load_model_state(run: RunRecord) -> dict:
    """The last saved state_dict (torch.load with weights_only=True)."""
    import torch

    try:
        return torch.load(run.path / "model.pt", map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise StoreError(f"Run {run.id} has no saved model (model.pt).") from None
    except Exception as e:  # any unpickling refusal or truncation
        raise StoreError(f"The model file of run {run.id} is unreadable ({e}).") from None


def rename_run(root: Path, old: str, new: str) -> Path:
    """Rename a run folder (and its config's name), not in use, to a new name claimed by creating
    its empty folder first (which the rename replaces)."""
    src, dst = root / check_run_name(old), root / check_run_name(new)
    with _claimed(src) as rec:
        try:
            dst.mkdir()
        except FileExistsError:
            raise StoreError(f"A run named {new!r} already exists; choose another name.") from None
        try:
            os.rename(src, dst)
        except OSError as e:  # something was written into the claimed folder meanwhile
            raise StoreError(f"Could not rename {old} to {new} ({e.strerror}); choose another name.") from None
        atomic_write(dst / "config.json", json_bytes({**rec.config.to_dict(), "name": new}))
    return dst


def restatus(run: RunRecord, status: str, error: str | None, **extra: Any) -> RunRecord:
    """A finished run judged again under a later rule: its status.json rewritten (the earlier
    status kept as `judged_before`), nothing else touched; the record as it now reads."""
    doc = {k: v for k, v in run.status.items() if k != "error"}
    doc.update(status=status, judged_before=run.state, **extra, **({"error": error} if error else {}))
    atomic_write(run.path / "status.json", json_bytes(doc))
    return replace(run, status=doc)


def set_aside(root: Path, run_id: str) -> Path:
    """Move a run folder out of the way, into `<root>/.replaced/<id>-<time>-<4 hex>` (kept, never
    deleted: a study retrains a grid point whose old folder is stale or unfinished)."""
    path = root / check_run_name(run_id)
    aside = root / ".replaced" / f"{run_id}-{time.strftime('%y%m%d-%H%M%S')}-{os.urandom(2).hex()}"
    aside.parent.mkdir(exist_ok=True)
    fd = _lock(path)  # not a run some process still trains
    try:
        os.replace(path, aside)
    finally:
        os.close(fd)
    return aside


def cached(run: RunRecord | Path, name: str, compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, bool]:
    """(array, was_cached): `<run>/cache/<name>` (a .npy file) read back, or `compute()`d, saved
    atomically (renamed, not flushed to disk: it can be computed again) and returned. An unreadable
    file is recomputed; a read-only run folder only loses the cache (with a warning)."""
    path = _run_path(run) / "cache" / name
    if ".." in Path(name).parts or Path(name).is_absolute():
        raise StoreError(f"Invalid cache name {name!r}.")
    import numpy as np

    try:
        return np.load(path, allow_pickle=False), True
    except (OSError, ValueError, EOFError):
        pass
    value = compute()
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, buf.getvalue(), durable=False)
    except OSError as e:
        warnings.warn(f"Could not cache {path.name}: {e}", stacklevel=3)
    return value, False


def delete_run(root: Path, run_id: str) -> None:
    """Delete one run folder (only a folder that is a run under `root`, and not in use)."""
    path = root / check_run_name(run_id)
    with _claimed(path):
        shutil.rmtree(path)
