"""The methods' own views (lab.figures.method_views through lab.views.VIEWS) on tiny
real runs: each figure's data checked against values computed here by hand, and the Method views
page opened for a run of each seed method."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lab.config import RunConfig
from lab.regularizers import REGISTRY
from lab.store import RunRecord, load_probe, load_run, load_snapshot
from lab.train import train
from lab.readout.quantities import run_probe
from lab.views import VIEWS, available, build
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]
DIGITS = dict(data="digits", epochs=2, train_size=100, batch_size=50, probe_size=100, model_params={"widths": (16,)})
RUNS = {"rc": dict(method="racecar", **DIGITS), "gini": dict(method="gini", **DIGITS),
        "phantom": dict(method="phantom", **DIGITS), "itra": dict(method="itra", **DIGITS),
        "ce": dict(method="ce", **DIGITS),
        "mhe-moons": dict(method="mhe", data="moons", epochs=2, train_size=100, probe_size=100, max_grad_norm=5.0,
                          model_params={"widths": (8, 8)})}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """One runs folder with a tiny run of each seed method (and a CE run of the digits setting)."""
    out = tmp_path_factory.mktemp("method-runs")
    for name, settings in RUNS.items():
        train(RunConfig(name=name, **settings), runs=out)
    return out


@pytest.fixture
def run(folder, monkeypatch):
    monkeypatch.setenv("REGLAB_RUNS", str(folder))
    return lambda name: load_run(folder / name)


def draw(key: str, rec: RunRecord, epoch: int, ref: RunRecord | None = None):
    """The view `key` of the run at `epoch` (with `ref` overlaid, for an overlay view), as pages draw it."""
    other = (ref.id, ref.config.method, load_snapshot(ref, epoch)) if ref is not None else None
    return build(VIEWS[key], load_snapshot(rec, epoch), run_probe(rec), epoch, other)


def _trace(fig, name: str):
    return next(t for t in fig.data if t.name == name)


def _unit(w: np.ndarray) -> np.ndarray:
    w = w.reshape(len(w), -1).astype(np.float64)
    return w / np.linalg.norm(w, axis=1, keepdims=True)


def test_every_declared_view_is_registered_and_the_ids_are_fixed():
    assert set(VIEWS) == {"reconstruction", "singular", "gini_heatmap", "phantoms", "similarity", "neurons",
                          "nn_angles", "spread", "mmd"}
    declared = {v for reg in REGISTRY.values() for v in reg.views if isinstance(v, str)}
    assert declared == set(VIEWS)
    assert REGISTRY["comhe"].views == REGISTRY["mhe"].views and REGISTRY["ce"].views == ()


def test_neurons_of_a_2d_input_layer_lie_on_the_unit_circle_with_their_negated_copies(run):
    rec = run("mhe-moons")
    fig = draw("neurons", rec, 2)
    w = _unit(load_snapshot(rec, 2)["weight_0"])
    assert w.shape == (8, 2)
    neurons, negated = _trace(fig, "neurons w"), _trace(fig, "negated copies -w")
    xy = np.column_stack([neurons.x, neurons.y])
    np.testing.assert_allclose(np.linalg.norm(xy, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(xy, w, rtol=1e-6)
    np.testing.assert_allclose(np.column_stack([negated.x, negated.y]), -w, rtol=1e-6)
    assert negated.opacity < neurons.opacity and neurons.marker.color == negated.marker.color


def test_neurons_of_a_wider_layer_are_projected_and_the_subtitle_says_so(run):
    fig = draw("neurons", run("gini"), 2)
    assert "projected from d = 64" in fig.layout.title.subtitle.text


def _nn_degrees(w: np.ndarray) -> np.ndarray:
    u = _unit(w)
    cos = np.abs(u @ u.T)
    np.fill_diagonal(cos, 0.0)
    return np.degrees(np.arccos(np.clip(cos.max(1), -1, 1)))


def test_nn_angle_counts_sum_to_the_hidden_neurons_and_the_means_are_marked(run):
    rec, ref = run("mhe-moons"), run("ce")
    fig = draw("nn_angles", rec, 2, ref)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [sum(b.y) for b in bars] == [16, 16]  # moons 8-8: two hidden layers of 8; digits 16: one of 16
    expected = [np.concatenate([_nn_degrees(load_snapshot(r, 2)[k]) for k in ("weight_0", "weight_1")])
                if r is rec else _nn_degrees(load_snapshot(r, 2)["weight_0"]) for r in (rec, ref)]
    assert [s.x0 for s in fig.layout.shapes] == pytest.approx([e.mean() for e in expected], abs=1e-3)
    assert bars[0].marker.color != bars[1].marker.color


def test_phantoms_are_the_means_of_their_ringed_samples_in_the_map(run):
    rec = run("phantom")
    fig = draw("phantoms", rec, 2)
    y = load_snapshot(rec, 2)["probe_y"]
    ringed = _trace(fig, "samples averaged into a phantom")
    idx, xy = np.asarray(ringed.customdata), np.column_stack([ringed.x, ringed.y])
    phantoms = _trace(fig, "phantoms")
    assert len(phantoms.x) == 10
    for c in range(10):
        mine = y[idx] == c
        assert mine.sum() == min(4, (y == c).sum())
        np.testing.assert_allclose([phantoms.x[c], phantoms.y[c]], xy[mine].mean(0), rtol=1e-5, atol=1e-6)
    samples = _trace(fig, "3")  # the class-3 points carry their probe indices too
    where = dict(zip(samples.customdata, zip(samples.x, samples.y)))
    for i, p in zip(idx[y[idx] == 3], xy[y[idx] == 3]):
        np.testing.assert_allclose(where[i], p)


def test_spread_bars_are_each_classes_variance_over_the_total_and_average_to_the_ratio(run):
    rec = run("itra")
    fig = draw("spread", rec, 2)
    snap = load_snapshot(rec, 2)
    z, y = snap["hidden_0"].astype(np.float64), snap["probe_y"]
    total = ((z - z.mean(0)) ** 2).sum(1).mean()
    hand = [((z[y == c] - z[y == c].mean(0)) ** 2).sum(1).mean() / total for c in range(10)]
    bars, line = fig.data[0], fig.data[1]
    np.testing.assert_allclose(bars.y, hand, rtol=1e-5)
    weights = np.bincount(y, minlength=10) / len(y)
    assert line.y[0] == pytest.approx(float(weights @ np.asarray(bars.y)), rel=1e-6)


def _mmd2(a: np.ndarray, b: np.ndarray, sigmas: np.ndarray) -> float:
    def k(p, q):
        d2 = ((p[:, None] - q[None]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * s * s)) for s in sigmas).mean()
    return k(a, a) + k(b, b) - 2 * k(a, b)


def test_mmd_bars_are_the_class_terms_between_two_seeded_halves_and_the_grey_bar_the_marginal(run):
    rec = run("itra")
    fig = draw("mmd", rec, 2)
    snap = load_snapshot(rec, 2)
    z, y = snap["hidden_0"].astype(np.float64), snap["probe_y"]
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0)).numpy()
    a, b = order[:50], order[50:]
    both = np.concatenate([z[a], z[b]])
    d = np.sqrt(((both[:, None] - both[None]) ** 2).sum(-1))[np.triu_indices(100, 1)]
    sigmas = np.sort(d)[(len(d) - 1) // 2] * np.array([0.25, 0.5, 1, 2, 4])  # the lower median, as torch's
    bars, line = fig.data[0], fig.data[1]
    assert list(bars.x[-1:]) == ["marginal"] and bars.y[-1] == pytest.approx(_mmd2(z[a], z[b], sigmas), rel=1e-5)
    hand = [_mmd2(z[a][y[a] == c], z[b][y[b] == c], sigmas) for c in range(10)]
    np.testing.assert_allclose(bars.y[:10], hand, rtol=1e-5)
    assert line.y[0] == pytest.approx(np.mean(hand), rel=1e-5)


def test_racecar_reconstruction_is_the_reverse_pass_of_a_one_hidden_layer_net(run):
    rec = run("rc")
    fig = draw("reconstruction", rec, 2)
    snap, x = load_snapshot(rec, 2), load_probe(rec)["x"].reshape(100, -1).astype(np.float64)
    w1, b1, w2, b2 = (snap[k].astype(np.float64) for k in ("weight_0", "bias_0", "weight_1", "bias_1"))
    h = np.maximum(x @ w1.T + b1, 0)
    logits = h @ w2.T + b2
    h_rec = np.maximum((logits - b2) @ w2, 0)  # d'_2 = g(W_2^T (d_3 - b_2))
    x_rec = (h_rec - b1) @ w1  # d'_1 = W_1^T (d'_2 - b_1)
    first = [int(np.flatnonzero(snap["probe_y"] == c)[0]) for c in range(10)]
    shown = [t for t in fig.data if t.name == "reconstruction d'_1"]
    inputs = [t for t in fig.data if t.name == "input d_1"]
    assert len(shown) == len(inputs) == 10
    for i, t, s in zip(first, inputs, shown):
        np.testing.assert_allclose(np.asarray(t.z, float), x[i].reshape(8, 8), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(s.z, float), x_rec[i].reshape(8, 8), rtol=1e-3, atol=1e-3)
    bars = _trace(fig, "error per state")
    assert list(bars.x) == ["input", "hidden_0"]
    hand = [0.5 * ((x_rec - x) ** 2).sum(1).mean(), 0.5 * ((h_rec - h) ** 2).sum(1).mean()]
    np.testing.assert_allclose(bars.y, hand, rtol=1e-3)


def test_singular_images_only_for_image_inputs_and_they_are_the_first_layers_right_singular_vectors(run):
    rec = run("rc")
    assert available(VIEWS["singular"], run_probe(rec)) and not available(VIEWS["singular"], run_probe(run("mhe-moons")))
    fig = draw("singular", rec, 2)
    _, _, vt = np.linalg.svd(load_snapshot(rec, 2)["weight_0"].astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(np.abs(np.asarray(fig.data[0].z, float)).ravel(), np.abs(vt[0]), atol=1e-5)
    moons = draw("reconstruction", run("mhe-moons"), 2)
    assert [t.type for t in moons.data] == ["bar"]  # non-image inputs: the error bars only


def test_gini_heatmap_columns_are_p_class_given_feature(run):
    rec = run("gini")
    fig = draw("gini_heatmap", rec, 2)
    snap = load_snapshot(rec, 2)
    a, y = np.maximum(snap["hidden_0"].astype(np.float64), 0), snap["probe_y"]
    mass = np.stack([a[y == c].sum(0) for c in range(10)])
    heat = fig.data[0]
    for col, label in enumerate(heat.x):
        j = int(label[1:])
        np.testing.assert_allclose(np.asarray(heat.z, float)[:, col], mass[:, j] / mass[:, j].sum(), rtol=1e-5)


@pytest.fixture
def page(folder, monkeypatch):
    def open_page(name: str) -> AppTest:
        monkeypatch.setenv("REGLAB_RUNS", str(folder))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["run"] = name
        at.run().switch_page("pages/method.py").run()
        assert not at.exception, at.exception
        return at

    return open_page


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("info", "caption") for e in at.get(kind)).replace("\\", "")


@pytest.mark.parametrize("name, charts, reference", [
    ("rc", 4, "ce"), ("gini", 2, "ce"), ("phantom", 4, "ce"), ("itra", 4, "ce"), ("mhe-moons", 2, None)])
def test_the_method_views_page_draws_the_runs_own_views_beside_the_ce_reference(page, name, charts, reference):
    at = page(name)
    assert at.selectbox(key="method.reference").value == reference
    assert len(plots(at)) == charts
    assert ("No saved **ce** run with the same data" in _texts(at)) == (reference is None)


def test_the_method_views_page_says_a_ce_run_has_no_views_of_its_own(page):
    at = page("ce")
    assert not plots(at)
    assert "has no views of its own" in _texts(at)


def test_the_method_views_page_of_a_diverged_run_draws_its_finite_epochs(diverged_run, tmp_path, monkeypatch):
    shutil.copytree(diverged_run.path, tmp_path / "diverged")
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "diverged"
    at.run().switch_page("pages/method.py").run()
    assert not at.exception, at.exception
    assert len(plots(at)) == 2  # mhe: neurons and nearest-neighbour angles at the last finite epoch
    assert any("Showing epochs up to 0" in str(w.value) for w in at.warning)


def test_the_method_views_page_draws_the_run_and_its_reference_on_the_same_axes(page):
    """A shared view (itra's spread bars) gets one axis range for both runs, so bars compare by eye."""
    import json

    charts = [json.loads(c.proto.spec) for c in plots(page("itra"))]
    mine, ref = charts[0]["layout"], charts[1]["layout"]
    assert mine["yaxis"]["range"] == ref["yaxis"]["range"] and mine["yaxis"]["autorange"] is False
    assert mine["xaxis"]["range"] == ref["xaxis"]["range"]
