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
- UMAP (McInnes et al. 2018) on the same exact neighbour graph (`lab.measure.umap_layout`:
  umap-learn's graph formulas in numpy and its own layout code, without the import of
  pynndescent that a precomputed graph never uses); spectral start with 200 epochs cold, the
  previous map with 30 epochs warm.

Successive epochs are aligned by orthogonal Procrustes (rotation/reflection + translation,
optional uniform scale) onto the previous epoch's aligned map, so the picture neither flips
nor spins; t-SNE and UMAP also start from that map. Interpretation: distances inside a
t-SNE/UMAP map are only locally meaningful; the k-NN accuracy is measured on the features
themselves, not on the map.

Pure: arrays in, maps and numbers out. `lab.readout.embeddings` runs these over a saved run's
epochs and caches the maps through the run store.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.linalg import eigh

from lab.errors import ConfigError

DEFAULTS: dict[str, dict] = {
    "pca": {},
    "tsne": {"perplexity": 30.0, "early_iter": 125, "n_iter": 250, "warm_early_iter": 15, "warm_iter": 45,
             "theta": 0.8, "n_jobs": 1},
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200, "warm_epochs": 30},
}
ALGORITHMS = tuple(DEFAULTS)  # the embedding algorithms ("method" names a regularizer)


def algorithm_params(algorithm: str, params: dict | None = None) -> dict:
    """The algorithm's full parameter dict: its DEFAULTS updated with `params` (unknown keys refused)."""
    if algorithm not in DEFAULTS:
        raise ConfigError(f"Unknown embedding algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}.")
    params = params or {}
    unknown = sorted(set(params) - set(DEFAULTS[algorithm]))
    if unknown:
        raise ConfigError(f"{algorithm} has no parameter {unknown[0]!r}; its parameters are: "
                          f"{', '.join(DEFAULTS[algorithm]) or 'none'}.")
    return {**DEFAULTS[algorithm], **params}


def procrustes_align(a: np.ndarray, ref: np.ndarray, scale: bool = False) -> np.ndarray:
    """`a` moved onto `ref` (both (n, k)) by the orthogonal map that minimises ||s (a - a_mean) R
    + ref_mean - ref||_F: R = U V^T from the SVD U S V^T of (a - a_mean)^T (ref - ref_mean)
    (Schoenemann 1966), s = trace(S) / ||a - a_mean||^2 when `scale`, else 1."""
    a0, r0 = a - a.mean(0), ref - ref.mean(0)
    u, s, vt = np.linalg.svd(a0.T @ r0)
    norm = (a0 ** 2).sum()
    factor = s.sum() / norm if scale and norm > 0 else 1.0
    return (factor * a0 @ (u @ vt) + ref.mean(0)).astype(np.float32)


def _top_eigenvectors(m: np.ndarray, k: int) -> np.ndarray:
    """(k, d) the eigenvectors of the k largest eigenvalues of the symmetric m, largest first
    (LAPACK computes only those: 2.7 ms against 5.8 ms for all of them at d = 256)."""
    return eigh(m, subset_by_index=[len(m) - k, len(m) - 1])[1][:, ::-1].T


def pca_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, V) of x's top-two principal components, V (k, d) with k = min(2, n, d): the top
    eigenvectors of the centred data's scatter matrix (of its Gram matrix when there are fewer rows
    than columns: the smaller eigenproblem; 4x faster than the SVD of the data at 449 x 256), each
    component's sign set so its largest loading is positive. Other points (a method's learned
    centres) project onto the same map as (p - mean) V^T."""
    mean = np.mean(np.asarray(x, np.float64), 0)
    x0 = np.asarray(x, np.float64) - mean
    n, d = x0.shape
    k = min(2, d, n)
    if d <= n:
        vt = _top_eigenvectors(x0.T @ x0, k)
    else:  # the left singular vectors u; V = x0^T u / |x0^T u|
        vt = _top_eigenvectors(x0 @ x0.T, k) @ x0
        vt /= np.maximum(np.linalg.norm(vt, axis=1, keepdims=True), np.finfo(float).tiny)
    pivot = vt[np.arange(k), np.abs(vt).argmax(1)]
    return mean, vt * np.where(pivot < 0, -1.0, 1.0)[:, None]


def _pca2(x: np.ndarray) -> np.ndarray:
    """Top-two principal component scores (x - mean) V^T (`pca_axes`): the same numbers as
    scikit-learn's `PCA(2, svd_solver="full")` (tests/test_embed.py), without waiting seconds for
    scikit-learn's import. A zero column when x has fewer than 2 dimensions."""
    mean, vt = pca_axes(x)
    return np.pad((np.asarray(x, np.float64) - mean) @ vt.T, ((0, 0), (0, 2 - len(vt))))


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
        z = _pca2(x).astype(np.float64)
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
    from lab.measure.umap_layout import layout

    dist, idx = neighbours(x, n_neighbors - 1)  # UMAP counts each point as its own first neighbour
    n = len(x)
    return layout(x, np.c_[np.arange(n), idx], np.c_[np.zeros(n), dist].astype(np.float32), init, seed, min_dist,
                  n_epochs if init is None else warm_epochs)


def compile_umap_elsewhere() -> subprocess.Popen | None:
    """`warm_umap` in a separate process at the lowest CPU priority (nice 19): on a machine whose
    numba cache lacks UMAP's code, it compiles it there (seconds of CPU) and writes the cache,
    instead of taking the CPU and the GIL from the app's first training run and pages; the app's own
    import then reads the code from the cache. Its output is discarded; a failure only means the app
    compiles in-process, as before. None when the cache has the code already (`compiled_on_disk`): the
    process only read it, 2-3 s at nice 19 before the app's own import could start."""
    from lab.paths import ROOT

    if compiled_on_disk():
        return None
    code = "from lab.measure.embed import warm_umap; warm_umap()"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=lambda: os.nice(19))


def compiled_on_disk() -> bool:
    """Whether numba's disk cache holds the UMAP layout step (`lab.measure.umap_layout._cached_njit`):
    in $NUMBA_CACHE_DIR when set, else in umap-learn's own __pycache__ (numba's two places), looked
    up without importing either."""
    pattern = "layouts._optimize_layout_euclidean_single_epoch-*.nbi"
    if folder := os.environ.get("NUMBA_CACHE_DIR"):
        return next(Path(folder).rglob(pattern), None) is not None
    spec = importlib.util.find_spec("umap")
    return spec is not None and any(next((Path(p) / "__pycache__").glob(pattern), None) is not None
                                    for p in spec.submodule_search_locations or ())


def warm_umap() -> None:
    """Load umap-learn's layout code and draw a tiny map cold and warm-started, so that numba compiles UMAP's
    code paths now (about 5 s with an empty numba cache on 2 busy cores) and not on the first real map."""
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    embed(x, "umap", init=embed(x, "umap", n_epochs=10), warm_epochs=2)


def embed(x: np.ndarray, algorithm: str, *, init: np.ndarray | None = None, seed: int = 0, **params) -> np.ndarray:
    """(n, 2) float32 map of the rows of x (flattened per sample) by "pca", "tsne" or "umap".
    `init`: a previous (n, 2) layout to warm-start t-SNE/UMAP from (ignored by PCA)."""
    p = algorithm_params(algorithm, params)
    x = np.ascontiguousarray(np.asarray(x, np.float32).reshape(len(x), -1))
    if len(x) < 4:
        raise ConfigError(f"An embedding needs at least 4 points; got {len(x)}.")
    if init is not None and np.shape(init) != (len(x), 2):
        raise ConfigError(f"init must have shape ({len(x)}, 2); got {np.shape(init)}.")
    if algorithm == "pca":
        z = _pca2(x)
    elif algorithm == "tsne":
        z = _tsne(x, init, seed, **p)
    else:
        z = _umap(x, init, seed, **p)
    return np.asarray(z, np.float32)


def class_centroids(xy: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, ...) mean position of each class on the map (NaN for a class without points)."""
    return np.array([xy[labels == c].mean(0) if (labels == c).any() else np.full(xy.shape[1:], np.nan)
                     for c in range(n_classes)])


def stratified_folds(labels: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """(n,) fold index of each point: each class's members in a random order (seeded) dealt out
    to the folds in turn, so every fold holds each class in proportion."""
    labels = np.asarray(labels)
    return _folds(labels.tobytes(), labels.dtype.str, folds, seed).copy()


@functools.lru_cache(maxsize=8)
def _folds(labels: bytes, dtype: str, folds: int, seed: int) -> np.ndarray:
    """`stratified_folds` of labels given as bytes, kept: a run's probe labels are the same at every
    epoch and layer, and `knn_accuracy` asks for their folds each time."""
    labels = np.frombuffer(labels, dtype)
    out, rng = np.empty(len(labels), int), np.random.default_rng(seed)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        out[members] = np.arange(len(members)) % folds
    out.setflags(write=False)
    return out


def knn_accuracy(features: np.ndarray, labels: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a k-nearest-neighbour classifier (Euclidean, majority vote, a tie going to
    the smallest label, as scikit-learn's `KNeighborsClassifier`) over `folds` stratified folds
    (`stratified_folds`) of the probe points, in numpy from one float32 distance matrix in which a
    point's own fold is out of reach; of equally near neighbours the first in the data counts.
    Interpretation: how separable the classes are in this representation without training a new head."""
    x = np.asarray(features, np.float32).reshape(len(features), -1)
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    sq = (x * x).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * x @ x.T
    fold = _folds(y.tobytes(), y.dtype.str, folds, seed)
    d2[fold[:, None] == fold[None, :]] = np.inf
    k = min(k, len(x) - np.bincount(fold).max())
    near = np.argpartition(d2, k - 1, axis=1)[:, :k]
    tied = (d2 <= np.take_along_axis(d2, near, 1).max(1, keepdims=True)).sum(1) > k
    near[tied] = np.argsort(d2[tied], axis=1, kind="stable")[:, :k]  # a tie at the k-th: the first ones
    n, c = len(x), len(classes)
    votes = np.bincount((np.arange(n)[:, None] * c + y[near]).ravel(), minlength=n * c).reshape(n, c)
    right = votes.argmax(1) == y
    return float(np.mean([right[fold == f].mean() for f in range(folds) if (fold == f).any()]))
