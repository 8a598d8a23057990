"""A run's 2-D maps over epochs and its k-NN accuracy per epoch, cached in the run folder.

Each result is kept through the store (`lab.store.cached`) under `<run>/cache/embed/`, keyed by
layer, algorithm, parameters, seed and the chain of epochs that led to it (a warm start depends
on every earlier map), so a second view only reads files. The maths is `lab.measure.embed`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from lab.errors import ConfigError
from lab.measure.embed import algorithm_params, embed, knn_accuracy, procrustes_align
from lab.measure.snapshot import feature_layer, features
from lab.readout.series import Load
from lab.store import RunRecord, cached, load_snapshot, snapshot_epochs

Progress = Callable[[float, str], None]


def _key(**parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _resolve(run: RunRecord | Path | str, epochs: list[int] | None, layer: str | None,
             load: Load | None) -> tuple[Path, list[int], str, dict[str, np.ndarray], Load]:
    """(run folder, epochs (default: every snapshot), layer (default: the features), first
    snapshot, `load` or the store's reader), refusing a run without snapshots or an unknown layer
    before any work."""
    path = run.path if isinstance(run, RunRecord) else Path(run)
    epochs = list(epochs) if epochs is not None else snapshot_epochs(path)
    if not epochs:
        raise ConfigError(f"Run {path.name} has no snapshots to measure.")
    load = load or (lambda epoch: load_snapshot(path, epoch))
    first = load(epochs[0])
    layer = layer or feature_layer(first)
    features(first, layer)
    return path, epochs, layer, first, load


def embed_run(run: RunRecord | Path | str, layer: str | None, algorithm: str, epochs: list[int] | None = None,
              params: dict | None = None, progress: Progress | None = None, *, seed: int = 0,
              scale: bool = False, load: Load | None = None) -> dict[str, np.ndarray]:
    """Aligned maps of `layer` (default: the features) over `epochs` (default: every snapshot):
    {"epoch": (E,), "xy": (E, n, 2), "y": (n,) probe labels}. Each epoch starts from (t-SNE/UMAP)
    and is Procrustes-aligned onto the previous epoch's map; results are cached.
    `progress(fraction, message)` is called after each epoch; `load(epoch)` reads a snapshot that is
    not cached (default: the store; the app passes its own cache of them)."""
    p = algorithm_params(algorithm, params)
    path, epochs, layer, first, load = _resolve(run, epochs, layer, load)
    maps, prev = [], None
    for i, epoch in enumerate(epochs):
        name = f"{layer}_{algorithm}_{_key(params=p, seed=seed, scale=scale, chain=epochs[:i + 1])}_e{epoch:03d}.npy"

        def compute(epoch=epoch, prev=prev) -> np.ndarray:
            z = embed(features(load(epoch), layer), algorithm, init=prev, seed=seed, **p)
            return z if prev is None else procrustes_align(z, prev, scale)

        prev, hit = cached(path, f"embed/{name}", compute)
        maps.append(prev)
        if progress:
            progress((i + 1) / len(epochs), f"{algorithm} of {layer}, epoch {epoch}{' (cached)' if hit else ''}")
    return {"epoch": np.array(epochs), "xy": np.stack(maps), "y": first["probe_y"]}


def knn_series(run: RunRecord | Path | str, layer: str | None = None, epochs: list[int] | None = None,
               k: int = 5, folds: int = 5, load: Load | None = None) -> dict[str, np.ndarray]:
    """`knn_accuracy` of `layer` (default: the features) per epoch, cached: {"epoch": (E,), "knn": (E,)}
    (file names say v2: the folds of `stratified_folds`, not scikit-learn's of earlier versions)."""
    path, epochs, layer, _, load = _resolve(run, epochs, layer, load)
    out = []
    for epoch in epochs:
        def compute(epoch=epoch) -> np.ndarray:
            snap = load(epoch)
            return np.array(knn_accuracy(features(snap, layer), snap["probe_y"], k, folds))

        out.append(float(cached(path, f"embed/{layer}_knn{k}_f{folds}_v2_e{epoch:03d}.npy", compute)[0]))
    return {"epoch": np.array(epochs, dtype=int), "knn": np.array(out)}
