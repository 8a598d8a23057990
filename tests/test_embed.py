"""Embeddings: Procrustes alignment, maps, the on-disk cache, k-NN separability, the figures."""
from pathlib import Path

import numpy as np
import pytest

import lab.measure.embed as E
import lab.readout.embeddings as R
from lab.errors import ConfigError, LabError
from lab.measure.snapshot import features
from lab.figures.embedding import embedding_animation, embedding_scatter, knn_curves


def rotation(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def blobs(n_per: int = 30, d: int = 8, classes: int = 3, spread: float = 20.0, seed: int = 0):
    """Well-separated Gaussian clusters: class c centred at spread * e_c."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n_per)
    return (rng.normal(size=(len(y), d)) + spread * np.eye(d)[y]).astype(np.float32), y


@pytest.mark.parametrize("reflect", [False, True])
def test_procrustes_recovers_a_known_rotation_shift_and_scale(reflect):
    a = np.random.default_rng(0).normal(size=(40, 2))
    r = rotation(0.7) @ (np.diag([1, -1]) if reflect else np.eye(2))
    b = 2.5 * a @ r + np.array([3.0, -1.0])
    np.testing.assert_allclose(E.procrustes_align(a, b, scale=True), b, atol=1e-5)
    # without scale: the rotation and shift are still exact, the size stays a's
    unscaled = E.procrustes_align(a, b)
    np.testing.assert_allclose(unscaled, a @ r + (b.mean(0) - a.mean(0) @ r), atol=1e-5)


def test_procrustes_in_three_dimensions_and_identity():
    a = np.random.default_rng(1).normal(size=(25, 3))
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    np.testing.assert_allclose(E.procrustes_align(a, a @ q), a @ q, atol=1e-5)
    np.testing.assert_allclose(E.procrustes_align(a, a), a, atol=1e-6)


def test_pca_map_is_the_top_two_components_up_to_sign():
    x = np.random.default_rng(0).normal(size=(60, 5)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1])
    z = E.embed(x, "pca")
    assert z.shape == (60, 2) and z.dtype == np.float32
    xc = x - x.mean(0)
    _, vecs = np.linalg.eigh(xc.T @ xc)  # ascending eigenvalues: the last two columns are the top two
    np.testing.assert_allclose(np.abs(z), np.abs(xc @ vecs[:, [-1, -2]]), atol=1e-4)
    np.testing.assert_allclose(E.embed(x[:, :1], "pca")[:, 1], 0)  # one dimension: zero second column


def test_tsne_shape_determinism_and_warm_start():
    x, y = blobs()
    a = E.embed(x, "tsne", seed=3, perplexity=10, early_iter=50, n_iter=50)
    b = E.embed(x, "tsne", seed=3, perplexity=10, early_iter=50, n_iter=50)
    assert a.shape == (len(x), 2)
    np.testing.assert_array_equal(a, b)
    assert E.knn_accuracy(a, y) == 1.0  # the clusters stay apart on the map
    warm = E.embed(x, "tsne", init=a, perplexity=10)
    assert warm.shape == a.shape and E.knn_accuracy(warm, y) == 1.0


def test_refusals_are_one_line_config_errors():
    x, _ = blobs()
    for call in (lambda: E.embed(x, "isomap"), lambda: E.embed(x, "tsne", perplexty=5),
                 lambda: E.embed(x, "pca", init=np.zeros((3, 2))), lambda: E.embed(x[:3], "pca"),
                 lambda: features({"hidden_0": x}, "hidden_7")):
        with pytest.raises(ConfigError) as e:
            call()
        assert "\n" not in str(e.value)


def test_knn_accuracy_separable_and_random_labels():
    x, y = blobs(n_per=40)
    assert E.knn_accuracy(x, y) == 1.0
    shuffled = np.random.default_rng(0).permutation(y)
    assert E.knn_accuracy(x, shuffled) < 0.6  # chance is 1/3


def test_pca_map_equals_scikit_learns_exact_pca_and_puts_each_components_largest_loading_positive():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).normal(size=(60, 7)) @ np.diag([5, 3, 1, 1, 1, 1, 1])
    z = E.embed(x, "pca")
    ref = PCA(2, svd_solver="full").fit_transform(x)
    signs = np.sign((z * ref).sum(0))  # scikit-learn's sign rule has changed between versions
    np.testing.assert_allclose(z, ref * signs, rtol=1e-4, atol=1e-4)
    loadings = np.linalg.lstsq(x - x.mean(0), z, rcond=None)[0].T  # recovers V[:, :2]
    assert (loadings[np.arange(2), np.abs(loadings).argmax(1)] > 0).all()
    np.testing.assert_array_equal(E.embed(x[:, :1], "pca")[:, 1], 0)  # one dimension: a zero column


def test_knn_accuracy_equals_scikit_learns_classifier_on_the_same_stratified_folds():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 90)
    x = rng.normal(size=(90, 6)) + 0.8 * np.eye(6)[y]
    fold = E.stratified_folds(y, 5)
    for c in range(4):  # every fold holds each class in proportion
        assert np.ptp(np.bincount(fold[y == c], minlength=5)) <= 1
    expected = np.mean([KNeighborsClassifier(5).fit(x[fold != f], y[fold != f]).score(x[fold == f], y[fold == f])
                        for f in range(5)])
    assert E.knn_accuracy(x, y) == pytest.approx(expected)
    assert 0.3 < expected < 0.95  # neither trivial nor chance: the vote matters


def test_knn_accuracy_takes_the_first_of_equally_near_neighbours():
    y = np.array([2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 1, 2])
    x = np.array([2, 1, 1, 1, 2, 0, 2, 2, 0, 1, 2, 1, 0, 2, 2], float)[:, None]  # many equal distances
    fold = E.stratified_folds(y, 5)
    near = [sorted(np.flatnonzero(fold != fold[i]), key=lambda j: (abs(x[i, 0] - x[j, 0]), j))[:5] for i in range(15)]
    right = np.array([np.bincount(y[n], minlength=3).argmax() for n in near]) == y
    assert E.knn_accuracy(x, y) == pytest.approx(np.mean([right[fold == f].mean() for f in range(5)]))


def test_umaps_code_is_compiled_in_a_process_of_the_lowest_priority_once_per_numba_cache(monkeypatch, tmp_path):
    """What the app starts at once (`ui.warm.umap_compiled`) on a new install (an empty numba cache): a
    separate process at nice 19 that draws a tiny map, filling the cache, then ends cleanly; with the
    cache filled there is nothing to start."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not E.compiled_on_disk()
    proc = E.compile_umap_elsewhere()
    nice = int(Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert proc.wait(timeout=600) == 0 and nice == 19
    assert E.compiled_on_disk() and E.compile_umap_elsewhere() is None


def test_the_wait_for_umap_says_how_long_is_left_from_the_benchmarks_umap_compiled_or_read_back():
    from ui.umap_wait import progress

    assert progress(5.2, 20.0) == (0.26, "Preparing UMAP, once per machine (numba compiles it): 5 s so far, about 15 s "
                                         "left (it took 20 s on the benchmark's 2-core machine)")
    fraction, text = progress(25.0, 20.0)
    assert fraction == 0.99 and text.endswith("longer than the 20 s it took on the benchmark's 2-core machine")
    assert progress(3.0, None) == (0.0, "Preparing UMAP, once per machine (numba compiles it): 3 s so far")
    assert progress(1.5, 3.0, compiling=False) == (0.5, "Loading UMAP (compiled on an earlier start, read back from "
                                                        "numba's cache): 2 s so far, about 2 s left (it took 3 s on "
                                                        "the benchmark's 2-core machine)")


def test_class_centroids_by_hand():
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]])
    c = E.class_centroids(xy, np.array([0, 0, 1]), 3)
    np.testing.assert_allclose(c[:2], [[1.0, 0.0], [5.0, 5.0]])
    assert np.isnan(c[2]).all()


def fake_run(path, epochs: int = 3):
    """A run folder with probe snapshots only: clusters that drift apart over the epochs."""
    (path / "snapshots").mkdir(parents=True)
    x, y = blobs(n_per=20)
    for e in range(epochs):
        np.savez(path / "snapshots" / f"epoch_{e:03d}.npz", probe_y=y, hidden_0=(x * (1 + e)).reshape(len(y), 2, 4),
                 logits=x[:, :3])
    return path


def test_embed_run_aligns_caches_and_reuses_the_chain(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "r")
    calls, seen = [], []
    real = R.embed
    monkeypatch.setattr(R, "embed", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = R.embed_run(run, None, "pca", progress=lambda f, m: seen.append((f, m)))
    assert first["xy"].shape == (3, 60, 2) and list(first["epoch"]) == [0, 1, 2] and len(calls) == 3
    assert seen[-1][0] == 1.0 and "hidden_0" in seen[-1][1]
    # each epoch is aligned onto the previous one: here epoch e is (1 + e) x epoch 0, so with
    # rotation only the maps differ by the scale alone, not by a flip or a turn
    np.testing.assert_allclose(first["xy"][2] - first["xy"][2].mean(0), 3 * (first["xy"][0] - first["xy"][0].mean(0)),
                               atol=1e-3)
    again = R.embed_run(run, "hidden_0", "pca", progress=lambda f, m: seen.append((f, m)))
    assert len(calls) == 3 and "cached" in seen[-1][1]
    np.testing.assert_array_equal(again["xy"], first["xy"])
    R.embed_run(run, None, "pca", [0, 1])  # a prefix of the cached chain
    assert len(calls) == 3
    R.embed_run(run, None, "pca", [0, 2])  # another chain: epoch 2 has a different predecessor
    assert len(calls) == 4
    scaled = R.embed_run(run, None, "pca", scale=True)  # other parameters: other files
    assert len(calls) == 7
    np.testing.assert_allclose(scaled["xy"][2], scaled["xy"][0], atol=1e-3)


def test_corrupt_cache_file_is_recomputed(tmp_path):
    run = fake_run(tmp_path / "r", epochs=1)
    first = R.embed_run(run, None, "pca")
    (cached,) = (run / "cache" / "embed").glob("*pca*.npy")
    cached.write_bytes(b"garbage")
    np.testing.assert_array_equal(R.embed_run(run, None, "pca")["xy"], first["xy"])


def test_knn_series_per_layer_and_cached(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "r")
    s = R.knn_series(run, "hidden_0")
    assert list(s["epoch"]) == [0, 1, 2] and np.all(s["knn"] == 1.0)
    monkeypatch.setattr(E, "knn_accuracy", lambda *a, **k: pytest.fail("recomputed"))
    np.testing.assert_array_equal(R.knn_series(run, "hidden_0")["knn"], s["knn"])


def test_animation_has_one_frame_per_epoch_and_fixed_ranges(tmp_path):
    series = R.embed_run(fake_run(tmp_path / "r"), None, "pca")
    cents = np.stack([E.class_centroids(xy, series["y"], 3) for xy in series["xy"]])
    fig = embedding_animation(series, ["cat", "dog", "eel"], "pca", extra={"class centroids": cents})
    assert [f.name for f in fig.frames] == ["0", "1", "2"]
    assert len(fig.layout.sliders[0].steps) == 3
    lo, hi = fig.layout.xaxis.range
    assert lo <= series["xy"][..., 0].min() and hi >= series["xy"][..., 0].max()
    assert [t.name for t in fig.frames[0].data] == ["cat", "dog", "eel", "class centroids"]
    assert "epoch 2" in fig.layout.title.text and fig.layout.xaxis.title.text.startswith("PC 1")


def test_scatter_legend_hover_and_knn_curves():
    xy = np.random.default_rng(0).normal(size=(6, 2))
    fig = embedding_scatter(xy, np.array([0, 1, 0, 1, 0, 1]), ["even", "odd"], "tsne", title="T")
    assert [t.name for t in fig.data] == ["even", "odd"] and list(fig.data[1].customdata) == [1, 3, 5]
    assert "probe" in fig.data[0].hovertemplate and fig.layout.title.text == "T"
    curves = knn_curves({"hidden_0": {"epoch": [0, 1], "knn": [0.2, 0.9]}})
    assert curves.data[0].name == "hidden_0" and "k-NN" in curves.layout.yaxis.title.text


def test_a_dead_layer_gives_a_finite_map_and_overflow_a_clear_error():
    for method, params in (("pca", {}), ("tsne", {"perplexity": 5})):
        z = E.embed(np.zeros((30, 4)), method, **params)
        assert np.isfinite(z).all()  # every point identical: one spot, not NaN
    with pytest.raises(LabError, match="non-finite"):
        features({"hidden_0": np.array([[1.0, np.inf], [0.0, 1.0]])}, "hidden_0")
