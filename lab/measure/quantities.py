"""Each method's own quantity, measured on the probe set from a run's snapshots, and the
method-specific views of METHODS.md ("Views" lines): the quantity a regularizer is meant to
lower, so a run with the method and a plain-CE run on the same data and seed can be drawn
on the same axes (and a broken gradient path shows).

Every quantity calls the regularizer's own formula function (one implementation), on the
snapshot's weights (float16 as stored, computed in float32/float64) and the probe set:

- mhe, comhe: `mhe_energy` (s = 2) of the hidden weight layers (half-space, the method's
  default; mean over layers) and of the head (full space). CoMHE's projected energy is random
  per step; the unprojected energy is what its projections approximate.
- racecar: `model_reconstruction_errors` (the penalty's own function) of the snapshot's
  weights on the probe inputs: the total (= the training penalty) and each state's share.
- itra: `mmd2` between two random disjoint probe subsets of 128 samples (the default batch
  size; half the probe set when smaller), averaged over 8 draws of a fixed generator.
- gini: `gini_impurity` and `class_coverage_kl` of the probe features (softplus of signed
  activations, as in training).
- phantom: inter- and intra-class cosine similarity of the features (`similarity_stats`).
- baselines: weight_decay its own penalty (0.5 x sum of squared weights); ce, dropout,
  label_smoothing and any method without its own quantity: the inter-class similarity of the
  features, the representation property these baselines do not target (a shared reference).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lab.config import RunConfig
from lab.errors import ConfigError
from lab.measure.angles import hyperspherical_energy
from lab.measure.series import hidden_layers, snapshots, weight_layers
from lab.measure.similarity import similarity_stats
from lab.models import Net, build_model
from lab.regularizers import (REGISTRY, StepContext, class_coverage_kl, class_phantoms, gini_impurity, mmd2,
                              model_reconstruction_errors)
from lab.regularizers.gini import EPS, class_given_feature, nonnegative
from lab.store import RunRecord, load_probe, load_run

MMD_SUBSET = 128  # probe subset size of the itra quantity (the default batch size)
MMD_DRAWS = 8  # disjoint subset pairs averaged


@dataclass
class Probe:
    """What the quantities need besides a snapshot: the probe inputs `x` (standardised, as
    trained on) and the run's configuration, with the run's architecture `net` (weights unset)."""

    x: np.ndarray
    config: RunConfig
    net: Net

    @classmethod
    def from_run(cls, run: RunRecord) -> Probe:
        x = load_probe(run)["x"].astype(np.float32)
        cfg = run.config
        classes = _n_classes(run)
        net = build_model(cfg.model, cfg.model_params, x.shape[1:], classes, torch.Generator().manual_seed(0))
        return cls(x, cfg, net.eval())


def _n_classes(run: RunRecord) -> int:
    """The number of classes: the width of the logits of the run's first snapshot."""
    epochs = run.snapshot_epochs
    if not epochs:
        raise ConfigError(f"Run {run.id} has no snapshots to measure.")
    return next(snapshots(run, epochs[:1]))[1]["logits"].shape[1]


def snapshot_model(snapshot: dict[str, np.ndarray], probe: Probe) -> Net:
    """A copy of the run's network carrying the snapshot's weights and biases, in eval mode."""
    net = copy.deepcopy(probe.net)
    with torch.no_grad():
        for j, layer in enumerate(net.weight_layers()):
            layer.weight.copy_(torch.from_numpy(snapshot[f"weight_{j}"]))
            layer.bias.copy_(torch.from_numpy(snapshot[f"bias_{j}"]))
    return net


def _features(snapshot: dict[str, np.ndarray]) -> torch.Tensor:
    """The last hidden state (the head's input) as (n, d) float64."""
    z = snapshot[hidden_layers(snapshot)[-1]]
    return torch.from_numpy(z.reshape(len(z), -1).astype(np.float64))


def _labels(snapshot: dict[str, np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(snapshot["probe_y"].astype(np.int64))


# ----------------------------------------------------------------------------- the quantities
def energy(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"energy": mean over hidden weight layers of mhe_energy(s=2, half_space=True),
    "energy_out": mhe_energy(s=2) of the head} (Liu et al. 2018; unitless)."""
    *hidden, head = weight_layers(snapshot)
    e = [hyperspherical_energy(snapshot[k], 2, half_space=True) for k in hidden]
    return {"energy": float(np.mean(e)) if e else float("nan"), "energy_out": hyperspherical_energy(snapshot[head], 2)}


def reconstruction(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"recon": the racecar penalty (mean over the probe set of sum_m 0.5 ||d'_m - d_m||^2),
    "recon/input", "recon/hidden_0", ...: each reconstructed state's term} (Xie & Thuerey 2020)."""
    model = snapshot_model(snapshot, probe)
    with torch.no_grad():
        errors = [e.item() for e in model_reconstruction_errors(model, torch.from_numpy(probe.x))]
    names = ["input", *(f"hidden_{i}" for i in range(len(errors) - 1))]
    return {"recon": float(sum(errors)), **{f"recon/{n}": e for n, e in zip(names, errors)}}


def probe_mmd(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """Mean over MMD_DRAWS draws (generator seed 0) of mmd2 (default bandwidths, biased)
    between two disjoint random probe subsets of min(MMD_SUBSET, n // 2) feature vectors."""
    z = _features(snapshot)
    m = min(MMD_SUBSET, len(z) // 2)
    gen = torch.Generator().manual_seed(0)
    draws = [torch.randperm(len(z), generator=gen)[: 2 * m] for _ in range(MMD_DRAWS)]
    return float(np.mean([mmd2(z[i[:m]], z[i[m:]]).item() for i in draws]))


def gini(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"gini": gini_impurity, "kl": class_coverage_kl} of the probe features (Croitoru et al. 2022)."""
    a, y = nonnegative(_features(snapshot), probe.net.activation), _labels(snapshot)
    c = snapshot["logits"].shape[1]
    return {"gini": gini_impurity(a, y, c).item(), "kl": class_coverage_kl(a, y, c).item()}


def similarity(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"inter", "intra"}: mean cosine similarity of the features over different-class and
    same-class probe pairs (`similarity_stats`)."""
    stats = similarity_stats(_features(snapshot).numpy(), snapshot["probe_y"], snapshot["logits"].shape[1])
    return {"inter": stats["inter"], "intra": stats["intra"]}


def l2(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """The weight_decay penalty itself (0.5 x sum of squared weights) on the snapshot's weights."""
    model = snapshot_model(snapshot, probe)
    ctx = StepContext(model, None, None, None, snapshot["logits"].shape[1], None)
    with torch.no_grad():
        return REGISTRY["weight_decay"]().penalty(ctx)["l2"].item()


@dataclass(frozen=True)
class Quantity:
    """A method's own quantity: the series key of its main value, the axis label (with unit),
    and `function(snapshot, probe)` -> a float (that value) or a dict holding `key` and extras."""

    key: str
    label: str
    function: Callable[[dict[str, np.ndarray], Probe], float | dict[str, float]]

    def __call__(self, snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
        value = self.function(snapshot, probe)
        return value if isinstance(value, dict) else {self.key: value}


ENERGY = Quantity("energy", "hyperspherical energy of the hidden layers (s=2, half-space; unitless)", energy)
SIMILARITY = Quantity("inter", "inter-class cosine similarity of the features (cosine)", similarity)
QUANTITIES: dict[str, Quantity] = {
    "mhe": ENERGY,
    "comhe": ENERGY,
    "racecar": Quantity("recon", "reverse-pass reconstruction error (0.5 x squared distance per sample, "
                                 "standardised input units²)", reconstruction),
    "itra": Quantity("mmd", "MMD² between disjoint probe subsets of the features (unitless)", probe_mmd),
    "gini": Quantity("gini", "Gini impurity of the features over classes (unitless, 0 to 1 - 1/C)", gini),
    "phantom": SIMILARITY,
    "weight_decay": Quantity("l2", "0.5 x sum of squared weights (weight units²)", l2),
    "ce": SIMILARITY,
    "dropout": SIMILARITY,
    "label_smoothing": SIMILARITY,
}


def own_quantity(method: str) -> Quantity:
    """The quantity `method` acts on; the shared inter-class similarity for a method without one."""
    return QUANTITIES.get(method, SIMILARITY)


def quantity_series(run: RunRecord | str | Path, method: str | None = None,
                    epochs: list[int] | None = None) -> dict[str, np.ndarray]:
    """`own_quantity(method)` (default: the run's method) at each snapshot epoch (default: all):
    {"epoch": (E,), key: (E,), extra keys of the quantity: (E,)}; a run folder path is accepted."""
    run = run if isinstance(run, RunRecord) else load_run(run)
    quantity, probe = own_quantity(method or run.config.method), Probe.from_run(run)
    rows = [(epoch, quantity(snap, probe)) for epoch, snap in snapshots(run, epochs)]
    keys = list(rows[0][1]) if rows else [quantity.key]
    return {"epoch": np.array([e for e, _ in rows]), **{k: np.array([r[k] for _, r in rows]) for k in keys}}


# ----------------------------------------------------------------------------- the views
def class_given_feature_matrix(features, labels, n_classes: int, activation: str = "relu") -> np.ndarray:
    """p(c|j) (C, d) of the features (n, d) as the gini regularizer computes it (softplus first
    unless `activation` is "relu"): M_cj = sum_{i: y_i = c} A_ij normalised over classes; dead
    features (mass <= EPS) get a zero column."""
    z = torch.as_tensor(np.asarray(features, np.float64).reshape(len(features), -1))
    a = nonnegative(z, activation)
    onehot = F.one_hot(torch.as_tensor(np.asarray(labels, np.int64)), n_classes).to(a.dtype)
    return class_given_feature(a, onehot, EPS)[0].numpy()


def phantom_points(features, labels, n_classes: int, k: int | None = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(phantoms (C, d), present (C,) bool): `class_phantoms` of the probe features, each the mean
    of k random class-c samples (k None: all; generator seed `seed`), for the embedding overlay."""
    z = torch.as_tensor(np.asarray(features, np.float64).reshape(len(features), -1))
    y = torch.as_tensor(np.asarray(labels, np.int64))
    phantoms, present = class_phantoms(z, y, n_classes, k, torch.Generator().manual_seed(seed))
    return phantoms.numpy(), present.numpy()


def first_layer_singular_images(weight_0, input_shape: tuple[int, ...], n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, C, H, W), singular values (n,)): the top-n right singular vectors of the first
    layer's weight (linear (out, C*H*W), or a conv kernel (out, C, k, k), shaped as the kernel)
    reshaped to image form, each signed so that its largest-magnitude entry is positive."""
    w = np.asarray(weight_0, np.float64)
    shape = tuple(w.shape[1:]) if w.ndim > 2 else tuple(input_shape)
    if len(shape) != 3:
        raise ConfigError(f"singular vectors are shown as images only for image-shaped inputs (C, H, W); got {shape}.")
    _, values, vt = np.linalg.svd(w.reshape(len(w), -1), full_matrices=False)
    vt = vt[:n]
    vt *= np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    return vt.reshape(len(vt), *shape), values[: len(vt)]
