"""The geometry of a representation (lab/measure/geometry.py, METHODS.md): each formula against a
dense, by-the-book computation or a hand value, its invariances (CKA), a simplex ETF with tiny
noise (neural collapse near 0), isotropic noise in k dimensions (rank near k), and degenerate
inputs refused in one line instead of a NaN."""
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ortho_group

from lab.errors import ConfigError
from lab.measure.geometry import (effective_rank, equiangularity, equinorm, linear_cka, nc1, nc3, nc4,
                                  participation_ratio, probe_accuracy, simplex_gap)
from conftest import plots

RNG = np.random.default_rng(0)


def _blobs(c: int = 4, per: int = 30, d: int = 8, spread: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    means = RNG.normal(size=(c, d)) * 3
    y = np.repeat(np.arange(c), per)
    return means[y] + RNG.normal(size=(len(y), d)) * spread, y


def _etf(c: int = 4, per: int = 50, noise: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at the vertices of a simplex equiangular tight frame (rows e_c - 1/C, scaled) in c
    dimensions, with tiny noise; and the vertices (a classifier equal to the class means)."""
    vertices = (np.eye(c) - 1.0 / c) * 5
    y = np.repeat(np.arange(c), per)
    return vertices[y] + RNG.normal(size=(len(y), c)) * noise, y, vertices


def test_nc1_is_the_trace_of_within_times_the_top_pseudo_inverse_of_between_over_c():
    h, y = _blobs()
    mu_g, classes = h.mean(0), np.unique(y)
    means = np.stack([h[y == c].mean(0) for c in classes])
    m = means - mu_g
    within = h - means[y]
    s_w = within.T @ within / len(h)
    s_b = m.T @ m / len(classes)
    vals, vecs = np.linalg.eigh(s_b)
    top = np.argsort(vals)[::-1][:len(classes) - 1]
    s_b_pinv = (vecs[:, top] / vals[top]) @ vecs[:, top].T
    assert nc1(h, y) == pytest.approx(np.trace(s_w @ s_b_pinv) / len(classes), rel=1e-9)


def test_class_mean_statistics_by_hand_on_three_points():
    h = np.array([[2.0, 0.0], [0.0, 1.0], [-2.0, -1.0]])  # one point per class: the class means themselves
    y = np.array([0, 1, 2])
    m = h - h.mean(0)
    norms = np.linalg.norm(m, axis=1)
    assert equinorm(h, y) == pytest.approx(norms.std() / norms.mean())
    u = m / norms[:, None]
    cos = np.array([u[0] @ u[1], u[0] @ u[2], u[1] @ u[2]])
    assert equiangularity(h, y) == pytest.approx(cos.std())
    assert simplex_gap(h, y) == pytest.approx(np.abs(cos + 0.5).mean())


def test_a_simplex_etf_with_tiny_noise_has_collapsed():
    h, y, vertices = _etf()
    logits = -((h[:, None, :] - vertices[None]) ** 2).sum(-1)  # the nearest-class-mean classifier itself
    assert nc1(h, y) < 1e-6 and equinorm(h, y) < 1e-4 and equiangularity(h, y) < 1e-4 and simplex_gap(h, y) < 1e-4
    assert nc3(h, y, vertices) < 1e-8 and nc4(h, y, logits) == 0.0
    assert nc3(h, y, -vertices) == pytest.approx(4.0, abs=1e-6)  # the opposite classifier: as far as it gets


def test_nc4_counts_the_points_where_the_classifier_and_the_nearest_mean_disagree():
    h, y, vertices = _etf(c=3, per=10)
    logits = np.zeros((len(y), 3))
    logits[:, 0] = 1  # always class 0: wrong, against the nearest mean, on classes 1 and 2
    assert nc4(h, y, logits) == pytest.approx(2 / 3)


def test_effective_rank_and_participation_ratio_of_isotropic_noise_in_k_dimensions_are_near_k():
    k, d = 5, 20
    basis = ortho_group.rvs(d, random_state=1)[:k]
    h = RNG.normal(size=(4000, k)) @ basis * 3.0
    assert effective_rank(h) == pytest.approx(k, rel=0.02) and participation_ratio(h) == pytest.approx(k, rel=0.03)
    s = np.array([3.0, 1.0])  # by hand: two singular values
    h2 = np.array([[s[0], 0], [-s[0], 0], [0, s[1]], [0, -s[1]]]) / np.sqrt(2)
    p = s / s.sum()
    assert effective_rank(h2) == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert participation_ratio(h2) == pytest.approx((9 + 1) ** 2 / (81 + 1))


def test_linear_cka_is_one_with_itself_invariant_to_rotation_and_scale_and_matches_the_formula():
    x = RNG.normal(size=(50, 6))
    y = x @ RNG.normal(size=(6, 4)) + RNG.normal(size=(50, 4))
    assert linear_cka(x, x) == pytest.approx(1.0)
    q, r = ortho_group.rvs(6, random_state=2), ortho_group.rvs(4, random_state=3)
    base = linear_cka(x, y)
    for x2, y2 in ((x @ q, y), (x, y @ r), (x * 7.5, y), (x, y * 1e-3), (x @ q * 7.5, y @ r * 0.2)):
        assert linear_cka(x2, y2) == pytest.approx(base, rel=1e-9)  # rotation, isotropic scale, either side
    assert base == pytest.approx(linear_cka(y, x)) and linear_cka(x, x @ q * 3.0) == pytest.approx(1.0)
    assert linear_cka(x, x * np.array([1, 1, 1, 1, 1, 10.0])) < 0.99  # an anisotropic scale does change it
    xc, yc = x - x.mean(0), y - y.mean(0)
    by_hand = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    assert linear_cka(x, y) == pytest.approx(by_hand)
    wide = RNG.normal(size=(10, 300))  # fewer points than features: the Gram-matrix route, same number
    w2 = wide @ RNG.normal(size=(300, 200))
    wc, w2c = wide - wide.mean(0), w2 - w2.mean(0)
    assert linear_cka(wide, w2) == pytest.approx(
        np.linalg.norm(w2c.T @ wc) ** 2 / (np.linalg.norm(wc.T @ wc) * np.linalg.norm(w2c.T @ w2c)))
    assert 0.0 <= linear_cka(x, RNG.normal(size=(50, 3))) < 0.5


def test_a_linear_probe_reads_separable_classes_and_not_random_labels():
    h, y = _blobs(c=3, per=40, spread=0.1)
    assert probe_accuracy(h, y) == 1.0
    assert probe_accuracy(RNG.normal(size=(300, 5)), RNG.integers(0, 3, 300)) < 0.5


@pytest.mark.parametrize("f", [nc1, equinorm, equiangularity, simplex_gap, effective_rank, participation_ratio])
def test_degenerate_inputs_are_refused_in_one_line_never_a_nan(f):
    constant = np.ones((20, 4))
    y = np.arange(20) % 2
    with pytest.raises(ConfigError) as e:
        f(constant, y) if f not in (effective_rank, participation_ratio) else f(constant)
    assert "\n" not in str(e.value)
    if f not in (effective_rank, participation_ratio):
        with pytest.raises(ConfigError, match="two classes or more"):
            f(RNG.normal(size=(20, 4)), np.zeros(20))
    with pytest.raises(ConfigError):
        linear_cka(constant, RNG.normal(size=(20, 3)))


def test_the_feature_layer_measures_and_the_probe_refuse_one_class_and_a_constant_layer_in_one_line():
    h, y = RNG.normal(size=(20, 4)), np.arange(20) % 2
    calls = [lambda h, y: nc3(h, y, RNG.normal(size=(2, 4))), lambda h, y: nc4(h, y, RNG.normal(size=(20, 2))),
             probe_accuracy]
    for f in calls:
        with pytest.raises(ConfigError, match="two classes or more"):
            f(h, np.zeros(20, int))
    with pytest.raises(ConfigError, match="NC3") as e:
        nc3(np.ones((20, 4)), y, RNG.normal(size=(2, 4)))  # constant: class means that coincide
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="two probe points of every class"):
        probe_accuracy(h, np.r_[np.zeros(19, int), 1])


TINY = dict(train_size=200, probe_size=100, epochs=2, model_params={"widths": (16, 12)})


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Path:
    """A runs folder with two finished tiny runs on the same probe points, "ce" and "mhe"."""
    from lab.config import RunConfig
    from lab.train import train

    folder = tmp_path_factory.mktemp("runs")
    for method in ("ce", "mhe"):
        train(RunConfig(method=method, name=method, **TINY), runs=folder)
    return folder


def test_the_measure_command_gives_the_formulas_values_on_the_snapshots_own_arrays(pair, capsys):
    import json

    from lab.cli import main
    from lab.store import load_run, load_snapshot

    assert main(["measure", "ce", "--versus", "mhe", "--json", "--runs", str(pair)]) == 0
    said = capsys.readouterr()
    out = json.loads(said.out)  # stdout: the JSON alone; stderr: what the slow probe is doing, layer by layer
    assert said.err.splitlines() == [f"measuring ce, epoch 2: hidden_{i} ({i + 1} of 2), with its linear probe"
                                     for i in range(2)]
    snap, other = (load_snapshot(load_run(pair / r), 2) for r in ("ce", "mhe"))
    y = snap["probe_y"]
    assert (out["run"], out["epoch"], out["versus"]) == ("ce", 2, "mhe")
    assert list(out["layers"]) == out["cka_layers"]["names"] == ["hidden_0", "hidden_1"]
    for layer, values in out["layers"].items():
        h = snap[layer].astype(np.float64)
        assert values["nc1"] == pytest.approx(nc1(h, y), rel=1e-6)
        assert values["effective_rank"] == pytest.approx(effective_rank(h), rel=1e-6)
        assert values["probe_accuracy"] == pytest.approx(probe_accuracy(h, y), rel=1e-6)
        assert out["cka_versus"][layer] == pytest.approx(linear_cka(h, other[layer].astype(np.float64)), rel=1e-6)
    feats = snap["hidden_1"].astype(np.float64)
    assert out["nc3"] == pytest.approx(nc3(feats, y, snap["weight_2"]), rel=1e-6)
    assert out["nc4"] == pytest.approx(nc4(feats, y, snap["logits"]), rel=1e-6)
    assert out["cka_layers"]["matrix"][0][0] == pytest.approx(1.0)
    assert main(["measure", "ce", "--epoch", "1", "--no-probe", "--runs", str(pair)]) == 0
    table, err = capsys.readouterr()
    assert "ce at epoch 1" in table and not err and "probe_accuracy" not in table and "NC3" in table


def test_the_geometry_page_draws_a_run_beside_its_ce_run_and_the_probe_on_demand(pair, monkeypatch):
    import json

    from streamlit.testing.v1 import AppTest

    import ui

    monkeypatch.setenv("REGLAB_RUNS", str(pair))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params["run"] = "mhe"
    at.run().switch_page(ui.nav.path("geometry")).run()
    assert not at.exception and at.selectbox(key="geometry.other").value == "ce"
    keys = [c.key for c in plots(at)]
    assert keys == ["geometry.nc", "geometry.rank", "geometry.cka_runs", "geometry.cka.mhe", "geometry.cka.ce"]
    nc = json.loads(plots(at)[0].proto.spec)
    assert {t["name"] for t in nc["data"]} >= {"mhe λ=1 s0 · hidden_0", "ce s0 · hidden_1", "mhe λ=1 s0", "ce s0"}
    at.toggle(key="geometry.probe").set_value(True).run()
    rank = json.loads(plots(at)[1].proto.spec)
    assert not at.exception and "Linear probe accuracy" in json.dumps(rank["layout"])
    assert not at.get("progress")  # the probes' progress bar is gone once they are measured


def test_the_geometry_series_reports_its_progress_epoch_by_epoch(pair):
    from lab.readout.geometry import geometry_series
    from lab.store import load_run

    run, seen = load_run(pair / "mhe"), []
    series = geometry_series(run, probe=True, progress=lambda f, msg: seen.append((f, msg)))
    n = len(run.snapshot_epochs)
    assert [f for f, _ in seen] == pytest.approx([(i + 1) / n for i in range(n)])
    assert seen[-1][1] == f"mhe: epoch {run.snapshot_epochs[-1]} measured ({n} of {n})"
    assert np.isfinite(series["hidden_1"]["probe_accuracy"]).all()


def _xs(trace: dict) -> list:
    """A trace's x values (plotly may send a numpy array as base64 typed-array bytes)."""
    import base64

    x = trace["x"]
    return list(np.frombuffer(base64.b64decode(x["bdata"]), x["dtype"])) if isinstance(x, dict) else list(x)


def test_the_geometry_page_follows_a_live_run_beside_a_saved_ce_run(tmp_path, monkeypatch):
    import json
    import time

    from streamlit.testing.v1 import AppTest

    import ui
    from lab.config import RunConfig
    from lab.train import train

    settings = {**TINY, "epochs": 40}
    train(RunConfig(name="ce", **settings), runs=tmp_path)
    live = ui.runs._manager(str(tmp_path.resolve()))
    rid = live.start(RunConfig(method="mhe", **settings), "someone", pace=0.6)  # 24 s: live while looked at
    try:
        end = time.monotonic() + 60
        while not (tmp_path / rid / "snapshots" / "epoch_001.npz").exists():
            assert time.monotonic() < end
            time.sleep(0.05)
        monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
        at.query_params["run"] = rid
        at.run().switch_page(ui.nav.path("geometry")).run()

        def drawn() -> int:  # the live run's last epoch in the neural-collapse figure
            assert not at.exception, at.exception
            charts = [c for c in plots(at) if c.key.startswith("geometry.")]
            assert [c.key for c in charts] == [
                "geometry.nc", "geometry.rank", "geometry.cka_runs", f"geometry.cka.{rid}", "geometry.cka.ce"]
            assert all(json.loads(c.proto.spec)["data"] for c in charts)  # every figure has traces
            nc = json.loads(charts[0].proto.spec)["data"]
            return int(max(max(_xs(t)) for t in nc if not t["name"].startswith("ce ")))

        assert at.selectbox(key="geometry.other").value == "ce" and live.get(rid).status == "running"
        first = drawn()
        while drawn() == first:
            assert time.monotonic() < end
            time.sleep(0.2)
            at.run()
        assert drawn() > first
    finally:
        live.stop(rid, "someone")
        live.wait(timeout=30)
