"""Measurements against hand-computed values, and the per-epoch series of a real tiny run."""
import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import lab.measure
from lab.measure import (angle_summary, binning_caveat, hyperspherical_energy, mi_binning, mi_ceilings, mi_kde,
                         nearest_neighbour_angles, neuron_rows, pairwise_angles, sample_pair_similarities,
                         similarity_stats, sphere_points, uniform_angle_density)
from lab.measure.information import entropy_bits
from lab.measure.snapshot import is_finite, weight_label
from lab.readout.series import energy_series, mi_series, readable_epochs, similarity_series
from lab.stats import num
from lab.regularizers.mhe import mhe_energy
from lab.store import load_snapshot

SIMPLEX = np.eye(5) - 1 / 5  # 5 unit-norm-able rows at equal angles arccos(-1/4)


# --- similarity -------------------------------------------------------------------------------

def test_similarity_of_a_two_class_set_by_hand():
    # class 0: (1,0), (0,2), (1,1): pair cosines 0, 1/sqrt2, 1/sqrt2;  class 1: (3,0), (-1,0): cosine -1
    x = np.array([[1, 0], [0, 2], [1, 1], [3, 0], [-1, 0]], float)
    y = np.array([0, 0, 0, 1, 1])
    s = similarity_stats(x, y)
    r = 1 / np.sqrt(2)
    assert s["matrix"] == pytest.approx(np.array([[2 * r / 3, 0], [0, -1]]))
    assert s["intra"] == pytest.approx((2 * r - 1) / 4)  # 4 same-class pairs, each counted once
    assert s["inter"] == pytest.approx(0.0)  # (1 - 1 + 0 + 0 + r - r) / 6
    assert s["gap"] == pytest.approx(s["intra"] - s["inter"])
    assert s["counts"].tolist() == [3, 2]


def test_similarity_matches_brute_force_and_ignores_scale():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 7)), rng.integers(0, 3, 60)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos, same, off = u @ u.T, y[:, None] == y[None], ~np.eye(60, dtype=bool)
    s = similarity_stats(torch.tensor(x) * torch.rand(60, 1) * 5, y, n_classes=4)
    assert s["intra"] == pytest.approx(cos[same & off].mean())
    assert s["inter"] == pytest.approx(cos[~same].mean())
    assert s["matrix"][0, 1] == pytest.approx(cos[np.ix_(y == 0, y == 1)].mean())
    assert np.isnan(s["matrix"][3]).all()  # an absent class has no pairs


def test_sampled_pairs_respect_classes():
    y = np.array([0] * 7 + [1] * 3 + [2] * 1 + [3] * 9)
    x = np.eye(4)[y]  # cosine 1 within a class, 0 between classes
    p = sample_pair_similarities(x, y, n_pairs=500)
    assert p["intra"].shape == p["inter"].shape == (500,)
    assert (p["intra"] == 1).all() and (p["inter"] == 0).all()


# --- angles and energy -----------------------------------------------------------------------

def test_orthogonal_basis_angles_histogram_and_energy():
    w = np.eye(4).reshape(4, 1, 2, 2)  # a conv kernel: flattened per output channel
    assert neuron_rows(w).shape == (4, 4)
    a = pairwise_angles(w)
    assert a.shape == (6,) and a == pytest.approx(np.full(6, np.pi / 2))
    counts, _ = np.histogram(np.degrees(a), bins=18, range=(0, 180))
    assert counts[9] == 6 and counts.sum() == 6
    # d2 = 2 for every pair: s=2 -> 1/2, s=1 -> 1/sqrt2, s=0 -> -0.5 log 2 (eps=1e-4 shrinks cosines slightly)
    assert hyperspherical_energy(w, s=2) == pytest.approx(0.5, abs=1e-6)
    assert hyperspherical_energy(w, s=1) == pytest.approx(2 ** -0.5, abs=1e-6)
    assert hyperspherical_energy(w, s=0) == pytest.approx(-0.5 * np.log(2), abs=1e-6)
    # half-space over [w; -w]: 4 antipodal pairs at d2 = 4, 24 pairs at d2 = 2, of 28
    assert hyperspherical_energy(w, half_space=True) == pytest.approx((4 / 4 + 24 / 2) / 28, abs=1e-5)


def test_regular_simplex_angles_and_energy():
    theta = np.arccos(-1 / 4)
    assert pairwise_angles(SIMPLEX) == pytest.approx(np.full(10, theta))
    s = angle_summary(SIMPLEX)
    assert s["min_nn"] == pytest.approx(theta) and s["mean_nn"] == pytest.approx(theta)
    assert s["energy"] == pytest.approx(1 / (2 + 2 / 4), abs=1e-4)  # d2 = 2 - 2 cos
    assert nearest_neighbour_angles(SIMPLEX, half_space=True) == pytest.approx(np.full(5, np.pi - theta))
    assert (s["n"], s["d"]) == (5, 5)


def test_energy_is_the_regularizer_function():
    w = torch.randn(12, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for s, half in [(0, False), (2, True)]:
        assert hyperspherical_energy(w.numpy(), s, half) == pytest.approx(float(mhe_energy(w, s, half)))


@pytest.mark.parametrize("d", [2, 3, 10, 1000, 100_000])
def test_uniform_angle_density_integrates_to_one(d):
    theta = np.linspace(0, np.pi, 400_001)
    p = uniform_angle_density(theta, d)
    assert np.isfinite(p).all() and np.trapezoid(p, theta) == pytest.approx(1, abs=1e-6)


def test_uniform_angle_density_values():
    theta = np.linspace(0, np.pi, 7)
    assert uniform_angle_density(theta, 3) == pytest.approx(np.sin(theta) / 2)
    assert uniform_angle_density(theta, 2) == pytest.approx(np.full(7, 1 / np.pi))
    assert uniform_angle_density(np.array([-0.1, 3.2]), 5).tolist() == [0, 0]


def test_sphere_points_exact_in_3d_and_unit_when_projected():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(8, 3))
    p, note = sphere_points(w)
    assert p == pytest.approx(w / np.linalg.norm(w, axis=1, keepdims=True)) and "exact" in note
    p, note = sphere_points(rng.normal(size=(20, 40)))
    assert p.shape == (20, 3) and np.linalg.norm(p, axis=1) == pytest.approx(np.ones(20))
    assert "projected from d = 40" in note
    p, _ = sphere_points(rng.normal(size=(2, 40)))  # e.g. the head of a 2-class net
    assert p.shape == (2, 3) and np.linalg.norm(p, axis=1) == pytest.approx(np.ones(2))


# --- mutual information ----------------------------------------------------------------------

def test_label_encoding_layer_has_all_label_information():
    y = np.repeat(np.arange(4), [10, 20, 5, 5])
    h_y = entropy_bits(y)
    t = np.eye(4)[y] * 100  # distinct, far-apart codes for the classes
    for mi in (mi_binning(t, y), mi_binning(t, y, adaptive=False), mi_kde(t, y, 0.1)):
        assert mi.ixt == pytest.approx(h_y) and mi.ity == pytest.approx(h_y)


def test_constant_layer_has_no_information():
    y = np.arange(30) % 3
    for mi in (mi_binning(np.ones((30, 5)), y), mi_kde(np.ones((30, 5)), y, 0.1)):
        assert mi.ixt == pytest.approx(0, abs=1e-12) and mi.ity == pytest.approx(0, abs=1e-12)


def test_distinct_points_under_fine_binning_give_log2_n():
    n = 64
    y = np.arange(n) % 2
    assert mi_binning(np.arange(n, dtype=float)[:, None], y, n_bins=n, adaptive=False).ixt == pytest.approx(np.log2(n))
    t = np.random.default_rng(0).normal(size=(n, 8))
    mi = mi_binning(t, y, n_bins=30)
    assert mi.ixt == pytest.approx(np.log2(n)) and mi.ity == pytest.approx(1.0)  # saturated: I(T;Y) = H(Y)


def test_binning_by_hand():
    t = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert tuple(mi_binning(t, np.array([0, 1, 0, 1]), n_bins=2, adaptive=False)) == pytest.approx((1, 0))
    assert tuple(mi_binning(t, np.array([0, 0, 1, 1]), n_bins=2, adaptive=False)) == pytest.approx((1, 1))


def test_kde_by_hand_and_decreasing_in_noise():
    t, y = np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([0, 1])  # one pair at distance 5
    for var in (1.0, 10.0):
        expect = -np.log2((1 + np.exp(-25 / (2 * var))) / 2)
        assert tuple(mi_kde(t, y, var)) == pytest.approx((expect, expect))  # each class alone: I_c = 0
    rng = np.random.default_rng(0)
    t, y = rng.normal(size=(200, 10)), rng.integers(0, 5, 200)
    ixt = [mi_kde(t, y, v).ixt for v in (0.01, 0.1, 1, 10, 100)]
    assert np.all(np.diff(ixt) < 0) and 0 < ixt[-1] and ixt[0] <= np.log2(200) + 1e-9
    assert tuple(mi_kde(t, y, 10, block=7)) == pytest.approx(tuple(mi_kde(t, y, 10)))  # row blocks change nothing


def test_ceilings():
    assert tuple(mi_ceilings(np.array([0, 0, 1, 2]))) == pytest.approx((2.0, 1.5))


def test_binning_caveat_names_the_problem():
    assert "ReLU" in binning_caveat("relu") and "first" in binning_caveat("relu", adaptive=False)
    assert "saturation" in binning_caveat("tanh")
    assert "log2 100 = 6.64 bits" in binning_caveat("relu", n=100)


# --- series from a real run ------------------------------------------------------------------

# `tiny_run` (tests/conftest.py): digits, MLP 64-16-8-10, 2 epochs, 50 probe points, snapshots 0, 1, 2.

def test_similarity_series(tiny_run):
    s = similarity_series(tiny_run)
    assert s["epoch"].tolist() == [0, 1, 2] and s["matrix"].shape == (3, 10, 10)
    snap = load_snapshot(tiny_run, 2)
    direct = similarity_stats(snap["hidden_1"], snap["probe_y"])
    assert s["gap"][-1] == pytest.approx(direct["gap"]) and s["gap"] == pytest.approx(s["intra"] - s["inter"])
    first = similarity_series(tiny_run, layer="hidden_0", epochs=[1])
    assert first["epoch"].tolist() == [1] and first["intra"].shape == (1,)


def test_energy_series(tiny_run):
    e = energy_series(tiny_run, s=2, half_space=True)
    assert list(e) == ["layer 0 (linear 64->16)", "layer 1 (linear 16->8)", "layer 2 (linear 8->10, head)"]
    w = torch.tensor(load_snapshot(tiny_run, 1)["weight_1"], dtype=torch.float64)
    assert e["layer 1 (linear 16->8)"]["energy"][1] == pytest.approx(float(mhe_energy(w, 2, True)))
    assert all(v["epoch"].tolist() == [0, 1, 2] and (v["min_nn"] <= v["mean_nn"]).all() for v in e.values())


@pytest.mark.parametrize("estimator", ["binning", "kde"])
def test_mi_series(tiny_run, estimator):
    m = mi_series(tiny_run, estimator)
    h_y = entropy_bits(load_snapshot(tiny_run, 0)["probe_y"])
    assert list(m) == ["hidden_0", "hidden_1"]
    for v in m.values():
        assert v["epoch"].tolist() == [0, 1, 2]
        assert (v["ixt"] <= np.log2(50) + 1e-9).all() and (v["ity"] <= h_y + 1e-9).all() and (v["ity"] >= -1e-9).all()


def test_is_finite_looks_at_every_float_array_only():
    snap = {"probe_y": np.arange(3), "logits": np.ones((3, 2), np.float16), "weight_0": np.ones((2, 2), np.float16)}
    assert is_finite(snap)
    snap["weight_0"][0, 1] = np.inf  # a float16 overflow
    assert not is_finite(snap)
    assert not is_finite({**snap, "weight_0": np.ones(2), "logits": np.array([np.nan])})


def test_readable_epochs_stop_before_the_first_non_finite_snapshot(diverged_run, tiny_run):
    assert readable_epochs(tiny_run) == ([0, 1, 2], None)
    shown, note = readable_epochs(diverged_run)
    assert shown and len(shown) < len(diverged_run.snapshot_epochs)
    assert is_finite(load_snapshot(diverged_run, shown[-1]))
    assert not is_finite(load_snapshot(diverged_run, diverged_run.snapshot_epochs[len(shown)]))
    assert f"Showing epochs up to {shown[-1]}" in note and "diverged" in note and "\n" not in note
    assert readable_epochs(diverged_run, diverged_run.snapshot_epochs[len(shown):]).epochs == []


def test_num_writes_huge_and_small_numbers_readably():
    assert num(69873550268146927789932544.0) == "6.987e+25" and num(2.302585) == "2.303"
    assert num(None) == "-" and num(float("nan")) == "nan" and num(float("inf")) == "inf"


def test_weight_labels_and_unknown_estimator(tiny_run):
    assert weight_label(1, (32, 16, 3, 3)) == "layer 1 (conv2d 16->32, 3x3)"
    assert weight_label(0, (8, 1, 5)) == "layer 0 (conv1d 1->8, 5)"
    with pytest.raises(ValueError, match="binning"):
        mi_series(tiny_run, "histogram")


def test_every_measure_module_is_pure():
    """No module of lab/measure (all of them, found on disk) imports the run store, training, the
    runs-reading package, the figures or the UI: arrays in, numbers out."""
    modules = sorted((Path(lab.measure.__file__).parent).glob("*.py"))
    assert len(modules) >= 7
    banned = (["lab", "store"], ["lab", "train"], ["lab", "live"], ["lab", "readout"], ["lab", "figures"], ["ui"],
              ["streamlit"])
    for path in modules:
        tree = ast.parse(path.read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
        assert not relative, f"{path.name} uses a relative import; the guard reads absolute ones"
        bad = {m for m in imported for b in banned if m.split(".")[:len(b)] == b}
        assert not bad, f"{path.name} imports {sorted(bad)}"
