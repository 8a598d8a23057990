"""2-D maps of a layer's probe representation (PCA, t-SNE, UMAP), aligned from epoch to epoch
and cached next to the run, and k-NN accuracy as a separability number (METHODS.md,
"Measurements").

- PCA: the top two principal components (scikit-learn `PCA`).
- t-SNE (van der Maaten & Hinton 2008) with openTSNE (Policar et al. 2024): perplexity
  affinities on the exact k = 3 x perplexity nearest neighbours, Barnes-Hut gradients
  (theta 0.8) below 10,000 points, FFT above, one thread (threads contend badly on 2 busy
  cores and training runs beside it). Cold: PCA start scaled to std 1e-4 (Kobak & Berens
  2019), 125 iterations at exaggeration 12, then 250 plain (scikit-learn runs 250 + 750).
  Warm: the previous epoch's map as the start, 15 iterations at exaggeration 4 (lets
  neighbourhoods that changed regroup) then 45 plain, so a map per epoch keeps pace with
  training. bench/embed.py checks 2-D k-NN accuracy and trustworthiness against scikit-learn.
- UMAP (McInnes et al. 2018), `umap-learn` imported on first use (the import alone takes
  seconds, the first fit compiles with numba); the same exact neighbour graph; spectral
  start with 200 epochs cold, the previous map with 30 epochs warm.

Successive epochs are aligned by orthogonal Procrustes (rotation/reflection + translation,
optional uniform scale) onto the previous epoch's aligned map, so the picture neither flips
nor spins; t-SNE and UMAP also start from that map. Interpretation: distances inside a
t-SNE/UMAP map are only locally meaningful; the k-NN accuracy is measured on the features
themselves, not on the map.

`embed_run`/`knn_series` read snapshots through `lab.store` and keep each result under
`<run>/cache/embed/`, keyed by layer, method, parameters, seed and the chain of epochs that
led to it (a warm start depends on every earlier map), so a second view only reads files.
"""
from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from lab.errors import ConfigError, LabError
from lab.store import RunRecord, atomic_write, load_snapshot, snapshot_epochs

Progress = Callable[[float, str], None]

DEFAULTS: dict[str, dict] = {
    "pca": {},
    "tsne": {"perplexity": 30.0, "early_iter": 125, "n_iter": 250, "warm_early_iter": 15, "warm_iter": 45,
             "theta": 0.8, "n_jobs": 1},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200, "warm_epochs": 30},
}
METHODS = tuple(DEFAULTS)


def method_params(method: str, params: dict | None = None) -> dict:
    """The method's full parameter dict: its DEFAULTS updated with `params` (unknown keys refused)."""
    if method not in DEFAULTS:
        raise ConfigError(f"Unknown embedding method {method!r}; choose one of {', '.join(METHODS)}.")
    params = params or {}
    unknown = sorted(set(params) - set(DEFAULTS[method]))
    if unknown:
        raise ConfigError(f"{method} has no parameter {unknown[0]!r}; its parameters are: "
                          f"{', '.join(DEFAULTS[method]) or 'none'}.")
    return {**DEFAULTS[method], **params}


def procrustes_align(a: np.ndarray, ref: np.ndarray, scale: bool = False) -> np.ndarray:
    """`a` moved onto `ref` (both (n, k)) by the orthogonal map that minimises ||s (a - a_mean) R
    + ref_mean - ref||_F: R = U V^T from the SVD U S V^T of (a - a_mean)^T (ref - ref_mean)
    (Schoenemann 1966), s = trace(S) / ||a - a_mean||^2 when `scale`, else 1."""
    a0, r0 = a - a.mean(0), ref - ref.mean(0)
    u, s, vt = np.linalg.svd(a0.T @ r0)
    norm = (a0 ** 2).sum()
    factor = s.sum() / norm if scale and norm > 0 else 1.0
    return (factor * a0 @ (u @ vt) + ref.mean(0)).astype(np.float32)


def _pca2(x: np.ndarray, seed: int) -> np.ndarray:
    """Top-two principal component scores; a zero column when x has fewer than 2 dimensions."""
    from sklearn.decomposition import PCA

    k = min(2, x.shape[1], len(x))
    with np.errstate(invalid="ignore", divide="ignore"):  # explained variance ratio of constant data
        z = PCA(k, random_state=seed).fit_transform(x)
    return np.pad(z, ((0, 0), (0, 2 - k)))


def neighbours(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices), each (n, k'), of every row's k' = min(k, n - 1) nearest other rows,
    exact (brute force, Euclidean). Both t-SNE and UMAP start from this graph: the libraries'
    own small-data paths are slower (UMAP calls a Python distance function per pair)."""
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=min(k, len(x) - 1), algorithm="brute").fit(x).kneighbors()


def _tsne(x: np.ndarray, init: np.ndarray | None, seed: int, perplexity: float, early_iter: int, n_iter: int,
          warm_early_iter: int, warm_iter: int, theta: float, n_jobs: int) -> np.ndarray:
    from openTSNE import TSNEEmbedding, affinity, initialization
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    perplexity = min(perplexity, (len(x) - 1) / 3)
    dist, idx = neighbours(x, int(3 * perplexity))
    aff = affinity.PerplexityBasedNN(knn_index=PrecomputedNeighbors(idx, dist), perplexity=perplexity)
    opt = dict(n_jobs=n_jobs, negative_gradient_method="auto", theta=theta, random_state=seed)
    if init is None:
        z = _pca2(x, seed).astype(np.float64)
        std = z[:, 0].std()  # 0 when every point is the same (a dead layer): start from the jitter alone
        start = initialization.jitter(z * (1e-4 / std) if std > 0 else z, random_state=seed)
        schedule = ((early_iter, 12.0, 0.5), (n_iter, None, 0.8))
    else:
        start = np.array(init, np.float64)
        schedule = ((warm_early_iter, 4.0, 0.8), (warm_iter, None, 0.8))
    emb = TSNEEmbedding(start, aff, **opt)
    for steps, exaggeration, momentum in schedule:
        if steps:
            emb = emb.optimize(steps, exaggeration=exaggeration, momentum=momentum)
    return np.asarray(emb)


def _umap(x: np.ndarray, init: np.ndarray | None, seed: int, n_neighbors: int, min_dist: float, n_epochs: int,
          warm_epochs: int) -> np.ndarray:
    import umap  # seconds to import (numba): only when a UMAP map is asked for

    dist, idx = neighbours(x, n_neighbors - 1)  # UMAP counts each point as its own first neighbour
    n = len(x)
    model = umap.UMAP(n_neighbors=idx.shape[1] + 1, min_dist=min_dist, random_state=seed,
                      init="spectral" if init is None else np.asarray(init, np.float32),
                      n_epochs=n_epochs if init is None else warm_epochs, force_approximation_algorithm=True,
                      precomputed_knn=(np.c_[np.arange(n), idx], np.c_[np.zeros(n), dist].astype(np.float32)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state; no search index (no transform)
        return model.fit_transform(x)


def embed(x: np.ndarray, method: str, *, init: np.ndarray | None = None, seed: int = 0, **params) -> np.ndarray:
    """(n, 2) float32 map of the rows of x (flattened per sample) by "pca", "tsne" or "umap".
    `init`: a previous (n, 2) layout to warm-start t-SNE/UMAP from (ignored by PCA)."""
    p = method_params(method, params)
    x = np.ascontiguousarray(np.asarray(x, np.float32).reshape(len(x), -1))
    if len(x) < 4:
        raise ConfigError(f"An embedding needs at least 4 points; got {len(x)}.")
    if init is not None and np.shape(init) != (len(x), 2):
        raise ConfigError(f"init must have shape ({len(x)}, 2); got {np.shape(init)}.")
    if method == "pca":
        z = _pca2(x, seed)
    elif method == "tsne":
        z = _tsne(x, init, seed, **p)
    else:
        z = _umap(x, init, seed, **p)
    return np.asarray(z, np.float32)


def features(snapshot: dict[str, np.ndarray], layer: str) -> np.ndarray:
    """A snapshot's "hidden_<i>" or "logits" as (n, d), conv states flattened per sample."""
    if layer not in snapshot or not (layer == "logits" or layer.startswith("hidden_")):
        have = sorted(k for k in snapshot if k == "logits" or k.startswith("hidden_"))
        raise ConfigError(f"No layer {layer!r} in this run's snapshots; layers are: {', '.join(have)}.")
    a = snapshot[layer].reshape(len(snapshot[layer]), -1).astype(np.float32)
    if not np.isfinite(a).all():
        raise LabError(f"Layer {layer} has non-finite values in this snapshot (a diverging run, or values beyond "
                       f"the float16 range of snapshots); choose an earlier epoch.")
    return a


def _cached(path: Path, compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, bool]:
    """(array, was_cached): read `path`, or compute, save atomically and return. An unreadable
    file is recomputed; a read-only run folder only loses the cache (with a warning)."""
    try:
        return np.load(path, allow_pickle=False), True
    except (OSError, ValueError, EOFError):
        pass
    value = compute()
    buf = io.BytesIO()
    np.save(buf, value, allow_pickle=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, buf.getvalue())
    except OSError as e:
        warnings.warn(f"Could not cache {path.name}: {e}", stacklevel=3)
    return value, False


def _key(**parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _resolve(run: RunRecord | Path | str, epochs: list[int] | None,
             layer: str | None) -> tuple[Path, list[int], str, dict[str, np.ndarray]]:
    """(run folder, epochs (default: every snapshot), layer (default: the last hidden state),
    first snapshot), refusing a run without snapshots or an unknown layer before any work."""
    path = run.path if isinstance(run, RunRecord) else Path(run)
    epochs = list(epochs) if epochs is not None else snapshot_epochs(path)
    if not epochs:
        raise ConfigError(f"Run {path.name} has no snapshots to measure.")
    first = load_snapshot(path, epochs[0])
    hidden = sorted((k for k in first if k.startswith("hidden_")), key=lambda k: int(k.split("_")[1]))
    layer = layer or (hidden[-1] if hidden else "logits")
    features(first, layer)
    return path, epochs, layer, first


def embed_run(run: RunRecord | Path | str, layer: str | None, method: str, epochs: list[int] | None = None,
              params: dict | None = None, progress: Progress | None = None, *, seed: int = 0,
              scale: bool = False) -> dict[str, np.ndarray]:
    """Aligned maps of `layer` (default: the last hidden state) over `epochs` (default: every
    snapshot): {"epoch": (E,), "xy": (E, n, 2), "y": (n,) probe labels}. Each epoch starts from
    (t-SNE/UMAP) and is Procrustes-aligned onto the previous epoch's map; results are cached.
    `progress(fraction, message)` is called after each epoch."""
    p = method_params(method, params)
    path, epochs, layer, first = _resolve(run, epochs, layer)
    maps, prev = [], None
    for i, epoch in enumerate(epochs):
        name = f"{layer}_{method}_{_key(params=p, seed=seed, scale=scale, chain=epochs[:i + 1])}_e{epoch:03d}.npy"

        def compute(epoch=epoch, prev=prev) -> np.ndarray:
            z = embed(features(load_snapshot(path, epoch), layer), method, init=prev, seed=seed, **p)
            return z if prev is None else procrustes_align(z, prev, scale)

        prev, hit = _cached(path / "cache" / "embed" / name, compute)
        maps.append(prev)
        if progress:
            progress((i + 1) / len(epochs), f"{method} of {layer}, epoch {epoch}{' (cached)' if hit else ''}")
    return {"epoch": np.array(epochs), "xy": np.stack(maps), "y": first["probe_y"]}


def class_centroids(xy: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, ...) mean position of each class on the map (NaN for a class without points)."""
    return np.array([xy[labels == c].mean(0) if (labels == c).any() else np.full(xy.shape[1:], np.nan)
                     for c in range(n_classes)])


def knn_accuracy(features: np.ndarray, labels: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a k-nearest-neighbour classifier (Euclidean, majority vote) over
    `folds` stratified cross-validation folds of the probe points. Interpretation: how
    separable the classes are in this representation without training a new head."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x = np.asarray(features, np.float32).reshape(len(features), -1)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class with fewer members than folds
        return float(cross_val_score(KNeighborsClassifier(k), x, labels, cv=cv).mean())


def knn_series(run: RunRecord | Path | str, layer: str | None = None, epochs: list[int] | None = None,
               k: int = 5, folds: int = 5) -> dict[str, np.ndarray]:
    """`knn_accuracy` of `layer` (default: the last hidden state) per epoch, cached:
    {"epoch": (E,), "knn": (E,)}."""
    path, epochs, layer, _ = _resolve(run, epochs, layer)
    out = []
    for epoch in epochs:
        def compute(epoch=epoch) -> np.ndarray:
            snap = load_snapshot(path, epoch)
            return np.array(knn_accuracy(features(snap, layer), snap["probe_y"], k, folds))

        out.append(float(_cached(path / "cache" / "embed" / f"{layer}_knn{k}_f{folds}_e{epoch:03d}.npy", compute)[0]))
    return {"epoch": np.array(epochs, dtype=int), "knn": np.array(out)}
