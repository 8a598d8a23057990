"""The lab's UMAP (`lab.measure.umap_layout`) against umap-learn itself: the same fuzzy graph,
the same map from the same start, a map as good from a spectral start, and no pynndescent."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from lab.measure import umap_layout as U
from lab.measure.embed import neighbours


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(150, 20)) + 3 * rng.normal(size=(1, 20)) for _ in range(3)]).astype(np.float32)
    dist, idx = neighbours(x, 14)
    n = len(x)
    return x, np.c_[np.arange(n), idx], np.c_[np.zeros(n), dist].astype(np.float32)


def _umap_learn(x, idx, dist, init, n_epochs):
    import umap

    model = umap.UMAP(n_neighbors=idx.shape[1], min_dist=0.1, random_state=0, n_epochs=n_epochs, init=init,
                      force_approximation_algorithm=True, precomputed_knn=(idx, dist))
    with pytest.warns(UserWarning):  # n_jobs overridden by random_state
        return model.fit_transform(x)


def test_sigma_rho_and_the_fuzzy_graph_equal_umap_learns(blobs):
    import umap.umap_ as reference

    x, idx, dist = blobs
    sigma, rho = reference.smooth_knn_dist(dist, float(idx.shape[1]))
    ours = U.smooth_knn_dist(dist, float(idx.shape[1]))
    np.testing.assert_allclose(ours[0], sigma, rtol=1e-6)
    np.testing.assert_array_equal(ours[1], rho)
    graph = reference.fuzzy_simplicial_set(x, idx.shape[1], np.random.RandomState(0), "euclidean",
                                           knn_indices=idx, knn_dists=dist)[0]
    difference = abs(graph.tocsr() - U.fuzzy_graph(idx, dist).tocsr())
    assert graph.nnz > 3 * len(x) and difference.max() < 1e-6


def test_a_warm_started_map_is_umap_learns_map_from_the_same_start(blobs):
    x, idx, dist = blobs
    start = np.random.default_rng(1).normal(size=(len(x), 2)).astype(np.float32)
    np.testing.assert_allclose(U.layout(x, idx, dist, start, 0, 0.1, 30), _umap_learn(x, idx, dist, start, 30),
                               atol=1e-4)


def test_a_cold_map_keeps_neighbourhoods_as_well_as_umap_learns(blobs):
    """From the spectral start the SGD amplifies float rounding (1e-7 in the start), so the maps
    differ point by point; their trustworthiness may not."""
    x, idx, dist = blobs
    ours = trustworthiness(x, U.layout(x, idx, dist, None, 0, 0.1, 200), n_neighbors=10)
    theirs = trustworthiness(x, _umap_learn(x, idx, dist, "spectral", 200), n_neighbors=10)
    assert ours > 0.9 and ours == pytest.approx(theirs, abs=0.01)


def test_the_labs_umap_never_imports_pynndescent_and_caches_umaps_compiled_code():
    code = ("import sys, numpy as np; from lab.measure.embed import embed; from lab.measure import umap_layout as U\n"
            "embed(np.random.default_rng(0).normal(size=(60, 5)), 'umap', n_epochs=20)\n"
            "from numba.core.caching import NullCache\n"
            "layouts, _ = U.umap_modules(); from umap.utils import tau_rand_int\n"
            "assert not isinstance(tau_rand_int._cache, NullCache), 'umap.utils compiles in every process'\n"
            "assert 'pynndescent' not in sys.modules and 'umap.umap_' not in sys.modules, sorted(sys.modules)\n"
            "import umap; assert umap.UMAP  # the real package still imports afterwards\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
