"""The measurements behind each method's own quantity (declared by the method as a
`lab.regularizers.Quantity` naming one of `MEASUREMENTS`), computed on one probe snapshot, and
the method-specific views of METHODS.md ("Views" lines): a run with the method and a plain-CE
run on the same data and seed can be drawn on the same axes (and a broken gradient path shows).
Pure: a snapshot and the probe inputs in, numbers out; `lab.readout.quantities` runs them over
a saved run.

Every quantity calls the regularizer's own formula function (one implementation), on the
snapshot's weights (float16 as stored, computed in float32/float64) and the probe set:

- mhe, comhe: `mhe_energy` (s = 2) of the hidden weight layers (half-space, the method's
  default; mean over layers) and of the head (full space). CoMHE's projected energy is random
  per step; the unprojected energy is what its projections approximate.
- racecar: `model_reconstruction_errors` (the penalty's own function) of the snapshot's
  weights on the probe inputs: the total (= the training penalty) and each state's share.
- itra: within-class / total variance of the probe features (`within_class_ratio`): ITRA's
  class-conditional MMD pulls each class together across batches (the paper's "compact
  features"), and the ratio cannot fall by shrinking the features. `probe_mmd` (mmd2 between
  random disjoint probe subsets of 128 samples, averaged over 8 draws) stays available.
- gini: `gini_impurity` and `class_coverage_kl` of the probe features (softplus of signed
  activations, as in training).
- phantom: inter- and intra-class cosine similarity of the features (`similarity_stats`).
- baselines: weight_decay its own penalty (0.5 x sum of squared weights); ce, dropout,
  label_smoothing and any method without its own quantity: `REFERENCE`, the inter-class
  similarity of the features, a representation property these baselines do not target.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lab.config import RunConfig
from lab.errors import ConfigError
from lab.measure.angles import hyperspherical_energy, nearest_neighbour_angles, neuron_rows
from lab.measure.similarity import similarity_stats, within_class_ratio
from lab.measure.embed import knn_accuracy
from lab.measure.information import mi_kde
from lab.measure.snapshot import feature_layer, features, hidden_layers, n_classes, weight_labels
from lab.models import Net, build_model
from lab.regularizers import (REGISTRY, Quantity, StepContext, class_conditional_mmd2, class_coverage_kl,
                              class_phantoms, gini_impurity, mmd2, model_reconstruction_errors, model_reverse_pass)
from lab.regularizers.gini import EPS, class_given_feature, nonnegative, onehot

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
    def of(cls, x: np.ndarray, config: RunConfig, classes: int) -> Probe:
        """The probe of a run with `config` whose snapshots have `classes` logits."""
        x = np.asarray(x, np.float32)
        net = build_model(config.model, config.model_params, x.shape[1:], classes, torch.Generator().manual_seed(0))
        return cls(x, config, net.eval())


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
    z = snapshot[feature_layer(snapshot)]
    return torch.from_numpy(z.reshape(len(z), -1).astype(np.float64))


def _labels(snapshot: dict[str, np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(snapshot["probe_y"].astype(np.int64))


# ----------------------------------------------------------------------------- the quantities
def energy(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"energy": mean over hidden weight layers of mhe_energy(s=2, half_space=True),
    "energy_out": mhe_energy(s=2) of the head} (Liu et al. 2018; unitless)."""
    *hidden, head = weight_labels(snapshot)
    e = [hyperspherical_energy(snapshot[k], 2, half_space=True) for k in hidden]
    return {"energy": float(np.mean(e)) if e else float("nan"), "energy_out": hyperspherical_energy(snapshot[head], 2)}


def nn_angle(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"nn_angle": mean over hidden weight layers of the neurons' mean nearest-neighbour angle
    (degrees; half-space, the geometry MHE spreads on hidden layers: the nearest of +-w_j),
    "nn_angle/<layer>": each hidden layer's}. The lower tail of the angle distribution shows
    MHE where the mean energy, dominated by pairs near 90 degrees, barely moves (METHODS.md)."""
    *hidden, _ = weight_labels(snapshot)
    each = {k: float(np.degrees(nearest_neighbour_angles(neuron_rows(snapshot[k]), half_space=True).mean()))
            for k in hidden}
    return {"nn_angle": float(np.mean(list(each.values()))) if each else float("nan"),
            **{f"nn_angle/{k}": v for k, v in each.items()}}


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
    c = n_classes(snapshot)
    return {"gini": gini_impurity(a, y, c).item(), "kl": class_coverage_kl(a, y, c).item()}


def similarity(snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """{"inter", "intra"}: mean cosine similarity of the features over different-class and
    same-class probe pairs (`similarity_stats`)."""
    stats = similarity_stats(_features(snapshot).numpy(), snapshot["probe_y"], n_classes(snapshot))
    return {"inter": stats["inter"], "intra": stats["intra"]}


def spread(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """`within_class_ratio` of the probe features: within-class / total variance (scale-free)."""
    return within_class_ratio(_features(snapshot).numpy(), snapshot["probe_y"])


def l2(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """The weight_decay penalty itself (0.5 x sum of squared weights) on the snapshot's weights."""
    model = snapshot_model(snapshot, probe)
    ctx = StepContext(model, None, None, None, n_classes(snapshot), None)
    with torch.no_grad():
        return REGISTRY["weight_decay"]().penalty(ctx)["l2"].item()


# ----------------------------------------------------------------------------- second witnesses
# Quantities a paper's claim predicts that are not its penalty (the lessons' `witness`); which
# number stands for the claim is this lab's interpretation, said where a lesson shows it.
TOP_SHARE = 0.1  # the share of live features that `top_unit_purity` calls the most active


def top_unit_purity(a: torch.Tensor, y: torch.Tensor, n_classes: int, share: float = TOP_SHARE) -> float:
    """Mean over the `share` most active live features of non-negative features `a` (by mean
    activation; at least one) of max_c p(c|j), p as in `gini_impurity`: 1 when each of them fires
    for one class only, 1/C when evenly for all (gini's witness: "the class purity of the most
    active units", Croitoru et al. 2022)."""
    p, n_live = class_given_feature(a, onehot(y, n_classes, a.dtype), EPS)
    live = p.sum(0) > 0
    k = max(1, round(share * int(n_live)))
    top = torch.topk(torch.where(live, a.mean(0), -torch.inf), k).indices
    return p[:, top].max(0).values.mean().item()


def layer_balance(ixt: list[float]) -> float:
    """min over layers of I(X;T) / max (1: every layer keeps as much of the input as the most
    informative one; racecar's claim that the reverse pass keeps the information of the data in
    every layer, Xie & Thuerey 2020)."""
    return min(ixt) / max(ixt) if max(ixt) > 0 else float("nan")


def purity(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """`top_unit_purity` of the probe features (softplus of signed activations, as in training)."""
    return top_unit_purity(nonnegative(_features(snapshot), probe.net.activation), _labels(snapshot),
                           n_classes(snapshot))


def balance(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """`layer_balance` of the hidden layers' I(X;T) (`mi_kde` at `KDE_NOISE`, bits) on the probe set."""
    y = snapshot["probe_y"]
    return layer_balance([mi_kde(features(snapshot, k).reshape(len(y), -1), y).ixt for k in hidden_layers(snapshot)])


def knn(snapshot: dict[str, np.ndarray], probe: Probe) -> float:
    """`knn_accuracy` (k = 5, 5 stratified folds) of the probe features: how separable the classes
    are without a new head (phantom's witness: the classes pushed apart)."""
    return knn_accuracy(_features(snapshot).numpy(), snapshot["probe_y"])


MEASUREMENTS: dict[str, Callable[[dict[str, np.ndarray], Probe], float | dict[str, float]]] = {
    "energy": energy, "nn_angle": nn_angle, "reconstruction": reconstruction, "probe_mmd": probe_mmd, "gini": gini,
    "similarity": similarity, "spread": spread, "l2": l2, "purity": purity, "balance": balance, "knn": knn}
REFERENCE = Quantity("similarity", "inter", "inter-class cosine similarity of the features (cosine)",
                     also={"intra": "intra-class cosine similarity of the features"})


def own_quantity(method: str) -> Quantity:
    """The quantity `method` declares; the shared reference (inter-class similarity of the
    features) for a method without one, or one not loaded here (a plug-in whose file is gone), so
    every run can be drawn on the same axes."""
    reg = REGISTRY.get(method)
    return (reg.quantity if reg is not None else None) or REFERENCE


def measure(quantity: Quantity, snapshot: dict[str, np.ndarray], probe: Probe) -> dict[str, float]:
    """The values of `quantity`'s measurement (its own function, or one of `MEASUREMENTS` by name)
    on one snapshot: {key: value, extras...}."""
    fn = MEASUREMENTS[quantity.measurement] if isinstance(quantity.measurement, str) else quantity.measurement
    value = fn(snapshot, probe)
    return {k: float(v) for k, v in value.items()} if isinstance(value, dict) else {quantity.key: float(value)}


# ----------------------------------------------------------------------------- the views
def class_given_feature_matrix(features, labels, n_classes: int, activation: str = "relu") -> np.ndarray:
    """p(c|j) (C, d) of the features (n, d) as the gini regularizer computes it (softplus first
    unless `activation` is "relu"): M_cj = sum_{i: y_i = c} A_ij normalised over classes; dead
    features (mass <= EPS) get a zero column."""
    z = torch.as_tensor(np.asarray(features, np.float64).reshape(len(features), -1))
    a = nonnegative(z, activation)
    onehot = F.one_hot(torch.as_tensor(np.asarray(labels, np.int64)), n_classes).to(a.dtype)
    return class_given_feature(a, onehot, EPS)[0].numpy()


def phantom_weights(labels, n_classes: int, k: int | None = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(weights (C, n), present (C,) bool): row c is 1/k on the k random class-c samples that
    `class_phantoms` (generator seed `seed`) averages into class c's phantom, 0 elsewhere; the
    phantoms of any features z are weights @ z. (The draw depends on the labels only, so the
    phantoms of the identity features are the weights.)"""
    y = torch.as_tensor(np.asarray(labels, np.int64))
    eye = torch.eye(len(y), dtype=torch.float64)
    weights, present = class_phantoms(eye, y, n_classes, k, torch.Generator().manual_seed(seed))
    return weights.numpy(), present.numpy()


def phantom_points(features, labels, n_classes: int, k: int | None = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(phantoms (C, d), present (C,) bool): `class_phantoms` of the probe features, each the mean
    of k random class-c samples (k None: all; generator seed `seed`), for the embedding overlay."""
    weights, present = phantom_weights(labels, n_classes, k, seed)
    return weights @ np.asarray(features, np.float64).reshape(len(features), -1), present


def class_examples(labels, most: int = 10) -> np.ndarray:
    """The index of the first sample of each class, in class order, for at most `most` classes."""
    _, first = np.unique(np.asarray(labels), return_index=True)
    return first[:most]


def reconstructed_inputs(snapshot: dict[str, np.ndarray], probe: Probe, index: np.ndarray) -> np.ndarray:
    """d'_1 of the probe samples `index`: the reverse pass of racecar (`model_reverse_pass`, the
    penalty's own) with the snapshot's weights, shaped like the inputs (Xie & Thuerey 2020)."""
    model = snapshot_model(snapshot, probe)
    with torch.no_grad():
        _, recon = model_reverse_pass(model, torch.from_numpy(probe.x[index]))
    return recon[0].numpy()


def halves_mmd(features, labels, n_classes: int, seed: int = 0) -> dict[str, np.ndarray | float]:
    """mmd2 (default bandwidths, biased) between two random disjoint halves of the probe features
    (generator seed `seed`): {"per_class": (C,) the class-conditional terms (NaN for a class not in
    both halves), "conditional": their mean (`class_conditional_mmd2`, what ITRA minimises),
    "marginal": mmd2 of the halves}."""
    z = torch.as_tensor(np.asarray(features, np.float64).reshape(len(features), -1))
    y = torch.as_tensor(np.asarray(labels, np.int64))
    order = torch.randperm(len(z), generator=torch.Generator().manual_seed(seed))
    a, b = order[: len(z) // 2], order[len(z) // 2: 2 * (len(z) // 2)]
    with torch.no_grad():
        per_class = class_conditional_mmd2(z[a], z[b], y[a], y[b], n_classes, reduce=False).numpy()
        marginal = mmd2(z[a], z[b]).item()
    return {"per_class": per_class, "conditional": float(np.nanmean(per_class)), "marginal": marginal}


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
