"""Each method's own quantity from snapshots: equal to the pure formula functions, the racecar
one equal to the live penalty, lowered by its method against CE; the method views' data and figures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lab.config import RunConfig
from lab.errors import ConfigError
from lab.figures.method import gini_heatmap, part_curves, quantity_curves, singular_images
from lab.figures.overlay import Line
from lab.measure import within_class_ratio
from lab.measure.quantities import (MEASUREMENTS, MMD_DRAWS, REFERENCE, class_given_feature_matrix,
                                    first_layer_singular_images, own_quantity, phantom_points, probe_mmd)
from lab.readout.quantities import quantity_series, run_probe
from lab.measure.similarity import similarity_stats
from lab.regularizers import (REGISTRY, StepContext, class_coverage_kl, gini_impurity, mhe_energy, mmd2,
                              racecar_loss_dense)
from lab.store import load_probe, load_run, load_snapshot
from lab.train import train

SEED_METHODS = ("mhe", "comhe", "racecar", "itra", "gini", "phantom")


def _last(run):
    return load_snapshot(run, run.snapshot_epochs[-1])


def _t(a) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, np.float64))


def _value(run, method: str, key: str) -> float:
    return float(quantity_series(run, method, epochs=run.snapshot_epochs[-1:])[key][0])


# ----------------------------------------------------------------------------- equal to the formulas
def test_every_declared_quantity_is_measured_and_the_others_share_the_reference() -> None:
    declared = {m: r.quantity for m, r in REGISTRY.items() if r.quantity is not None}
    built_in = {m for m in declared if REGISTRY[m].source is None}  # a plug-in another test loaded is not one
    # every built-in that adds a penalty declares what it is meant to move (the registry, not a list here)
    assert built_in == {m for m, r in REGISTRY.items() if r.source is None and r.has_penalty()}
    assert {"mhe", "gini", "center"} <= built_in
    assert all((q.measurement in MEASUREMENTS if isinstance(q.measurement, str) else callable(q.measurement))
               and q.working in ("lower", "higher") for q in declared.values())
    assert [own_quantity(m) for m in ("ce", "dropout", "label_smoothing")] == [REFERENCE] * 3
    assert all("(" in q.label for q in [*declared.values(), REFERENCE])  # a unit or scale in every label


def test_series_shape_and_epoch_selection(tiny_run) -> None:
    full = quantity_series(tiny_run)  # the run's own method (ce): the shared similarity
    assert list(full) == ["epoch", "inter", "intra"] and list(full["epoch"]) == tiny_run.snapshot_epochs
    assert np.isfinite(full["inter"]).all()
    part = quantity_series(tiny_run.path, "gini", epochs=[1])
    assert list(part["epoch"]) == [1] and set(part) == {"epoch", "gini", "kl"}


def test_energy_is_mhe_energy_of_the_snapshot_weights(tiny_run) -> None:
    snap = _last(tiny_run)
    hidden = [mhe_energy(_t(snap[f"weight_{j}"]), 2, half_space=True).item() for j in (0, 1)]
    assert _value(tiny_run, "mhe", "energy") == pytest.approx(np.mean(hidden), rel=1e-9)
    head = mhe_energy(_t(snap["weight_2"]), 2).item()  # the head: full space
    assert _value(tiny_run, "comhe", "energy_out") == pytest.approx(head, rel=1e-9)


def test_reconstruction_is_the_dense_racecar_penalty(tiny_run) -> None:
    """The snapshot route (model_reconstruction_errors on a Net) against racecar_loss_dense on the raw arrays."""
    snap, x = _last(tiny_run), torch.from_numpy(load_probe(tiny_run)["x"]).flatten(1)
    ws = [torch.from_numpy(snap[f"weight_{j}"]) for j in range(3)]
    bs = [torch.from_numpy(snap[f"bias_{j}"]) for j in range(3)]
    series = quantity_series(tiny_run, "racecar", epochs=tiny_run.snapshot_epochs[-1:])
    assert series["recon"][0] == pytest.approx(racecar_loss_dense(x, ws, bs, "relu").item(), rel=1e-5)
    parts = [series[f"recon/{k}"][0] for k in ("input", "hidden_0", "hidden_1")]
    assert sum(parts) == pytest.approx(series["recon"][0], rel=1e-9) and min(parts) > 0


def test_mmd_is_mmd2_of_disjoint_probe_subsets(tiny_run) -> None:
    snap = _last(tiny_run)
    z = _t(snap["hidden_1"])
    m, gen = len(z) // 2, torch.Generator().manual_seed(0)  # 50 probe points: subsets of 25
    draws = [torch.randperm(len(z), generator=gen)[: 2 * m] for _ in range(MMD_DRAWS)]
    want = np.mean([mmd2(z[i[:m]], z[i[m:]]).item() for i in draws])
    got = probe_mmd(snap, run_probe(tiny_run))
    assert got == pytest.approx(want, rel=1e-9) and 0 < got < 2 * 5  # 5 bandwidths: k(a, a) = 5


def test_itra_quantity_is_the_within_class_share_of_the_variance(tiny_run) -> None:
    snap = _last(tiny_run)
    z, y = snap["hidden_1"].astype(np.float64), snap["probe_y"]
    within = sum(((z[y == c] - z[y == c].mean(0)) ** 2).sum() for c in np.unique(y))
    total = ((z - z.mean(0)) ** 2).sum()
    assert _value(tiny_run, "itra", "within") == pytest.approx(within / total, rel=1e-9)
    assert within_class_ratio(7.0 * z, y) == pytest.approx(within / total)  # shrinking is not compacting
    two = np.array([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])  # classes at x = 0 and x = 4
    assert within_class_ratio(two, np.array([0, 0, 1, 1])) == pytest.approx(4 / 20)


def test_gini_and_class_given_feature_matrix(tiny_run) -> None:
    snap = _last(tiny_run)
    a, y = _t(snap["hidden_1"]), torch.from_numpy(snap["probe_y"]).long()
    series = quantity_series(tiny_run, "gini", epochs=tiny_run.snapshot_epochs[-1:])
    assert series["gini"][0] == pytest.approx(gini_impurity(a, y, 10).item(), rel=1e-9)
    assert series["kl"][0] == pytest.approx(class_coverage_kl(a, y, 10).item(), rel=1e-9)
    p = class_given_feature_matrix(snap["hidden_1"], snap["probe_y"], 10)
    live = p.sum(0) > 0
    assert np.allclose(p[:, live].sum(0), 1) and series["gini"][0] == pytest.approx(1 - (p[:, live] ** 2).sum(0).mean())


def test_class_given_feature_matrix_by_hand() -> None:
    p = class_given_feature_matrix(np.array([[1.0, 0, 0], [3, 0, 0], [0, 2, 0]]), np.array([0, 1, 1]), 2)
    assert np.allclose(p, [[0.25, 0, 0], [0.75, 1, 0]])  # the dead third feature: a zero column
    soft = class_given_feature_matrix(np.array([[0.0], [0.0]]), np.array([0, 1]), 2, activation="tanh")
    assert np.allclose(soft, [[0.5], [0.5]])  # signed activations: softplus(0) = log 2 for both


def test_similarity_and_l2(tiny_run) -> None:
    snap = _last(tiny_run)
    stats = similarity_stats(snap["hidden_1"], snap["probe_y"], 10)
    assert _value(tiny_run, "phantom", "inter") == pytest.approx(stats["inter"], rel=1e-9)
    assert _value(tiny_run, "dropout", "intra") == pytest.approx(stats["intra"], rel=1e-9)
    l2 = 0.5 * sum((snap[f"weight_{j}"].astype(np.float64) ** 2).sum() for j in range(3))
    assert _value(tiny_run, "weight_decay", "l2") == pytest.approx(l2, rel=1e-6)


@pytest.mark.parametrize("model, params", [("mlp", {"widths": (16, 8)}),
                                           ("cnn", {"channels": (4,), "feature_dim": 8})])
def test_racecar_from_snapshot_equals_live_penalty(tiny_config, runs, model: str, params: dict) -> None:
    """Snapshot weights are float16: the reconstruction from them matches the penalty of the live
    model on the same probe inputs to float16 precision (MLP, and CNN through transposed convs)."""
    result = train(tiny_config(method="racecar", model=model, model_params=params, epochs=1), runs=runs)
    run = load_run(result.path)
    x = torch.from_numpy(load_probe(run)["x"])
    model_ = result.model.eval()
    with torch.no_grad():
        live = REGISTRY["racecar"]().penalty(StepContext(model_, x, None, model_(x), 10, None))["reconstruction"].item()
    assert np.isfinite(live) and _value(run, "racecar", "recon") == pytest.approx(live, rel=1e-2)


# ----------------------------------------------------------------------------- the views' data
def test_phantom_points_are_class_means() -> None:
    z = np.array([[1.0, 0], [3, 0], [0, 2], [0, 4]])
    phantoms, present = phantom_points(z, np.array([0, 0, 2, 2]), 3, k=None)
    assert np.allclose(phantoms, [[2, 0], [0, 0], [0, 3]]) and present.tolist() == [True, False, True]
    one, _ = phantom_points(z, np.array([0, 0, 2, 2]), 3, k=1)
    assert tuple(one[0]) in {(1, 0), (3, 0)} and tuple(one[2]) in {(0, 2), (0, 4)}


def test_singular_images_recover_known_directions() -> None:
    w = np.zeros((3, 4))
    w[0, 0], w[1, 1], w[2, 3] = 3, 2, -1  # singular values 3, 2, 1 along inputs 0, 1, 3
    images, values = first_layer_singular_images(w, (1, 2, 2), n=8)
    assert images.shape == (3, 1, 2, 2) and np.allclose(values, [3, 2, 1])
    assert np.allclose(images.reshape(3, 4), [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])  # signed positive
    conv, _ = first_layer_singular_images(np.random.default_rng(0).normal(size=(6, 2, 3, 3)), (2, 8, 8), n=4)
    assert conv.shape == (4, 2, 3, 3)  # a conv layer's singular vectors live in kernel space
    with pytest.raises(ConfigError):
        first_layer_singular_images(np.ones((3, 40)), (1, 40))


# ----------------------------------------------------------------------------- behaviour against CE
BEHAVIOUR = dict(data="digits", model="mlp", train_size=300, probe_size=300, epochs=5, batch_size=32,
                 model_params={"widths": (32, 32)})
# Per method, settings where its effect is visible in a few seconds (measured, seeds 0-2: the
# method's mean is 7.5 (mhe, comhe), 9.7 (racecar), 3.9 (gini), 14 (phantom) and 7.5 (itra)
# CE seed-to-seed standard deviations below CE's mean). The mean energy moves little (random
# neurons are already spread), hence mhe's larger lambda.
SETTINGS = {"mhe": {"lam": 10.0}, "comhe": {"lam": 10.0}, "racecar": {"lam": 1e-2},
            "gini": {"epochs": 10, "model_params": {"widths": (64, 64)}}, "phantom": {},
            "itra": {"model_params": {"widths": (256, 256)}}}
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def behaviour_root(tmp_path_factory):
    return tmp_path_factory.mktemp("behaviour-runs")


def _final(root, method: str, measured: str, seed: int, **over) -> float:
    run = load_run(train(RunConfig(**{**BEHAVIOUR, **over}, method=method, seed=seed), runs=root).path)
    return _value(run, measured, own_quantity(measured).key)


@pytest.mark.parametrize("method", SEED_METHODS)
def test_method_lowers_its_own_quantity(method: str, behaviour_root) -> None:
    """Same data, model and seeds as CE: the quantity the method targets ends lower on every seed,
    and its mean lies below CE's by more than 3 of CE's seed-to-seed standard deviations (a broken
    gradient path would leave it where CE's is)."""
    over = SETTINGS[method]
    ce = np.array([_final(behaviour_root, "ce", method, s, **{k: v for k, v in over.items() if k != "lam"})
                   for s in SEEDS])
    mine = np.array([_final(behaviour_root, method, method, s, **over) for s in SEEDS])
    assert np.isfinite(mine).all() and mine.max() < ce.min(), (method, mine, ce)
    assert ce.mean() - mine.mean() > 3 * ce.std(ddof=1), (method, mine, ce)


# ----------------------------------------------------------------------------- figures
def test_figures_are_titled_with_expected_traces(tiny_run) -> None:
    gini_series = quantity_series(tiny_run, "gini")
    fig = quantity_curves([Line("ce", "ce", 0, gini_series), Line("again", "gini", 1, gini_series)], "gini",
                          REGISTRY["gini"].quantity.label, extra=["kl"])
    assert len(fig.data) == 2 and fig.layout.title.text and fig.layout.yaxis.title.text == REGISTRY["gini"].quantity.label
    assert [t.line.dash for t in fig.data] == ["solid", "dash"]  # one dash per seed
    one = quantity_curves([Line("ce", "ce", 0, gini_series)], "gini", "gini (x)", extra=["kl"])
    assert [t.name for t in one.data] == ["ce", "ce: kl"]  # a single run's extra values, dotted
    p = np.array([[0.0, 0.2, 1.0, 0.0], [0.0, 0.8, 0.0, 0.0]])
    fig = gini_heatmap(p, names=["zero", "one"])
    assert len(fig.data) == 1 and list(fig.data[0].x) == ["f2", "f1"]  # dead f0, f3 left out; sorted by class
    assert list(fig.data[0].y) == ["zero", "one"] and "2 dead" in fig.layout.title.subtitle.text
    q = REGISTRY["racecar"].quantity
    fig = part_curves(quantity_series(tiny_run, "racecar"), q.key, q.label)
    assert len(fig.data) == 4 and fig.layout.title.text and fig.layout.yaxis.type == "log"
    images, values = first_layer_singular_images(_last(tiny_run)["weight_0"], (1, 8, 8), n=5)
    fig = singular_images(images, values)
    assert len(fig.data) == 5 and fig.layout.title.text and fig.layout.title.subtitle.text  # rows of 4 images
