"""UMAP (McInnes et al. 2018) from a given exact neighbour graph, without umap-learn's package
import: umap-learn's `umap/__init__` imports pynndescent, whose import compiles about a hundred
numba functions that a precomputed graph never uses (measured here, empty numba cache, 2 busy
cores: 43 s for the import, then 21 s more for the first fit; with a filled cache the import
still loads them all, seconds).

- The fuzzy graph: umap-learn's `fuzzy_simplicial_set` formulas in numpy, vectorized over the
  rows (`smooth_knn_dist`'s bisection for sigma and rho, the memberships exp(-(d - rho)/sigma),
  the fuzzy union A + Aᵀ - A∘Aᵀ); tests check them equal to umap-learn's own.
- The layout: umap-learn's own `spectral_layout` start and its numba SGD
  `optimize_layout_euclidean`, loaded from its modules `umap.layouts` and `umap.spectral`
  without running the package's `__init__`, started and scaled as its
  `simplicial_set_embedding` does, so that a map equals `umap.UMAP(...).fit_transform` with
  the same neighbour graph and seed (tested)."""
from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import sys
import types
import warnings
from typing import Iterator

import numpy as np
import scipy.sparse
from scipy.optimize import curve_fit

FLOAT_MAX = np.finfo(np.float32).max  # umap-learn's NPY_FLOATMAX: "no upper bound yet"
TOLERANCE = 1e-5  # umap-learn's SMOOTH_K_TOLERANCE
MIN_K_DIST_SCALE = 1e-3  # umap-learn's floor on sigma, relative to the mean neighbour distance


def smooth_knn_dist(dist: np.ndarray, k: float, n_iter: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, rho), float32 per row of `dist` (n, k') sorted distances, the first being the
    point itself: rho = the nearest non-zero distance, sigma by bisection such that
    Σ_{j≥1} exp(-max(d_j - rho, 0)/sigma) = log2 k (umap-learn, local_connectivity 1)."""
    dist = np.asarray(dist, np.float32)
    nonzero = dist > 0
    first = np.argmax(nonzero, axis=1)
    rho = np.where(nonzero.any(1), dist[np.arange(len(dist)), first], 0).astype(np.float32)
    gap = (dist[:, 1:] - rho[:, None]).astype(np.float64)
    target = np.log2(k)
    lo, hi, mid = np.zeros(len(dist)), np.full(len(dist), float(FLOAT_MAX)), np.ones(len(dist))
    active = np.ones(len(dist), bool)
    for _ in range(n_iter):
        psum = np.where(gap > 0, np.exp(-gap / mid[:, None]), 1.0).sum(1)
        active &= np.abs(psum - target) >= TOLERANCE
        if not active.any():
            break
        big = psum > target
        new_lo, new_hi = np.where(big, lo, mid), np.where(big, mid, hi)
        new_mid = np.where(big, (lo + mid) / 2, np.where(hi >= FLOAT_MAX, mid * 2, (mid + hi) / 2))
        lo, hi, mid = (np.where(active, new, old) for new, old in ((new_lo, lo), (new_hi, hi), (new_mid, mid)))
    floor = MIN_K_DIST_SCALE * np.where(rho > 0, dist.mean(1), dist.mean())
    return np.maximum(mid.astype(np.float32), floor.astype(np.float32)), rho


def fuzzy_graph(idx: np.ndarray, dist: np.ndarray) -> scipy.sparse.coo_matrix:
    """The symmetric fuzzy graph of a k-NN graph (`idx`, `dist`: (n, k), each row's own point
    first): memberships w_ij = exp(-(d_ij - rho_i)/sigma_i) (1 within rho, 0 to itself), then the
    fuzzy union W + Wᵀ - W∘Wᵀ (umap-learn's `fuzzy_simplicial_set`, set_op_mix_ratio 1)."""
    n, k = idx.shape
    dist = np.asarray(dist, np.float32)
    sigma, rho = smooth_knn_dist(dist, float(k))
    gap = dist - rho[:, None]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        vals = np.where((gap <= 0) | (sigma[:, None] == 0), np.float32(1), np.exp(-(gap / sigma[:, None]).astype(np.float64)))
    vals = np.where(idx == np.arange(n)[:, None], np.float32(0), vals).astype(np.float32)
    graph = scipy.sparse.coo_matrix((vals.ravel(), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    graph.eliminate_zeros()
    transpose = graph.transpose()
    union = graph + transpose - graph.multiply(transpose)
    union.eliminate_zeros()
    return union.tocoo()


@functools.lru_cache(maxsize=1)
def ab_params(spread: float, min_dist: float) -> tuple[float, float]:
    """a, b of the low-dimensional similarity 1/(1 + a d^2b), fitted to exp(-(d - min_dist)/spread)
    beyond min_dist, 1 within (umap-learn's `find_ab_params`)."""
    x = np.linspace(0, spread * 3, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    params, _ = curve_fit(lambda d, a, b: 1.0 / (1.0 + a * d ** (2 * b)), x, y)
    return float(params[0]), float(params[1])


@contextlib.contextmanager
def _cached_njit() -> Iterator[None]:
    """`numba.njit` with numba's on-disk cache on (`cache=True`) for the functions it decorates
    meanwhile: umap-learn compiles two of its random-number helpers at import (in every process,
    seconds on a busy machine) and leaves the cache off for most of the rest."""
    import numba

    plain = numba.njit
    numba.njit = functools.wraps(plain)(lambda *args, **options: plain(*args, **{"cache": True, **options}))
    try:
        yield
    finally:
        numba.njit = plain


@functools.lru_cache(maxsize=1)
def umap_modules() -> tuple[types.ModuleType, types.ModuleType]:
    """umap-learn's `layouts` and `spectral` modules, imported under a stand-in for the `umap`
    package (its own `__init__` imports pynndescent) with `_cached_njit`. The stand-in is removed
    afterwards, so a later `import umap` is the real package (reusing these modules)."""
    real = sys.modules.get("umap")
    if real is None:
        spec = importlib.util.find_spec("umap")
        stand_in = types.ModuleType("umap")
        stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules["umap"] = stand_in
    try:
        with _cached_njit(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "cannot cache ... dynamic globals": that one compiles per process
            return importlib.import_module("umap.layouts"), importlib.import_module("umap.spectral")
    finally:
        if real is None:
            del sys.modules["umap"]


def layout(x: np.ndarray, idx: np.ndarray, dist: np.ndarray, init: np.ndarray | None, seed: int,
           min_dist: float, n_epochs: int) -> np.ndarray:
    """(n, 2) UMAP map of the rows of `x` from its k-NN graph (`idx`, `dist`, each row's own point
    first): the fuzzy graph's weak edges (< max/n_epochs) dropped, a spectral start scaled to
    ±10 with noise 1e-4 (or `init`, jittered where points coincide), then `n_epochs` of
    umap-learn's SGD, as `umap.UMAP(random_state=seed)` runs them (spread 1, learning rate 1,
    5 negative samples per edge)."""
    layouts, spectral = umap_modules()
    rng = np.random.RandomState(seed)
    graph = fuzzy_graph(idx, dist)
    graph.sum_duplicates()
    graph.data[graph.data < graph.data.max() / float(n_epochs if n_epochs > 10 else 500 if len(x) <= 10000 else 200)] = 0.0
    graph.eliminate_zeros()
    if init is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's eigensolver on a disconnected graph
            z = spectral.spectral_layout(x, graph, 2, rng, metric=layouts.dist.named_distances["euclidean"])
        z = (z * (10.0 / np.abs(z).max())).astype(np.float32)
        z = z + rng.normal(scale=0.0001, size=z.shape).astype(np.float32)
    else:
        z = np.asarray(init, np.float32)
        if len(np.unique(z, axis=0)) < len(z):
            from sklearn.neighbors import KDTree

            near = KDTree(z).query(z, k=2)[0][:, 1].mean()
            z = z + rng.normal(scale=0.001 * near, size=z.shape).astype(np.float32)
    weights = graph.data
    per_sample = -np.ones(len(weights))
    share = n_epochs * (weights / weights.max())
    per_sample[share > 0] = float(n_epochs) / share[share > 0]
    rng_state = rng.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3).astype(np.int64)
    z = (10.0 * (z - z.min(0)) / (z.max(0) - z.min(0))).astype(np.float32, order="C")
    a, b = ab_params(1.0, min_dist)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba: "cannot cache ... dynamic globals" on the first call
        return layouts.optimize_layout_euclidean(z, z, graph.row, graph.col, n_epochs, graph.shape[1], per_sample,
                                                 a, b, rng_state, 1.0, 1.0, 5.0, parallel=False, verbose=False,
                                                 densmap=False, densmap_kwds={}, tqdm_kwds={"disable": True},
                                                 move_other=True)
