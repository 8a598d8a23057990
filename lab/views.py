"""The lab's one-epoch method views (METHODS.md, the "Views" lines), declared once as `View`s
(`lab.declare`): a method names the ones it motivates in its `Regularizer.views` by key (or
declares its own `View`), and the Method views page, Lessons and the report read them through
`method_views`. Each builds a figure of one snapshot, for any run of any method, from the probe
(`lab.measure.quantities.Probe`): the same view of a reference run reads alike."""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from lab.declare import View
from lab.figures.grid import grid
from lab.figures.method import gini_heatmap, singular_images
from lab.figures.method_views import (circle_view, mmd_view, nn_angle_view, phantom_view, reconstruction_view,
                                      spread_view)
from lab.figures.sphere import sphere_map_figure
from lab.figures.views import pairs_view, similarity_view
from lab.measure import class_spread, nearest_neighbour_angles, neuron_rows, sphere_points, within_class_ratio
from lab.measure.embed import embed
from lab.measure.quantities import (Probe, class_examples, class_given_feature_matrix, first_layer_singular_images,
                                    halves_mmd, phantom_weights, reconstructed_inputs, reconstruction)
from lab.measure.snapshot import feature_layer, features, n_classes, weight_labels

PHANTOM_K = 4  # samples averaged into each drawn phantom (phantom's default k)
Snapshot = dict[str, np.ndarray]


def image_shaped(probe: Probe) -> bool:
    """Whether the run's inputs are images (C, H, W), which the image views need."""
    return probe.x.ndim == 4


def _feature_arrays(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray, int]:
    """(features (n, d), labels (n,), classes) of a snapshot."""
    return features(snapshot, feature_layer(snapshot)), snapshot["probe_y"], n_classes(snapshot)


def draw_reconstruction(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """Racecar's reverse pass: per-state errors, and for image inputs one probe sample per class
    (up to 10) next to its reconstruction d'_1."""
    errors = {k.split("/", 1)[1]: v for k, v in reconstruction(snapshot, probe).items() if "/" in k}
    if not image_shaped(probe):
        return reconstruction_view(errors, epoch)
    index = class_examples(snapshot["probe_y"])
    return reconstruction_view(errors, epoch, probe.x[index], reconstructed_inputs(snapshot, probe, index),
                               snapshot["probe_y"][index])


def draw_singular(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """The first layer's top right singular vectors as images."""
    images, values = first_layer_singular_images(snapshot["weight_0"], probe.x.shape[1:])
    return singular_images(images, values, title=f"First layer's right singular vectors, epoch {epoch}")


def draw_gini_heatmap(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """p(c|j) of the features."""
    z, y, c = _feature_arrays(snapshot)
    p = class_given_feature_matrix(z, y, c, probe.config.model_params.get("activation", "relu"))
    return gini_heatmap(p, title=f"Class given feature, p(c|j), epoch {epoch}")


def draw_phantoms(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """The PCA map of the features (the Embeddings page's) with each class's phantom."""
    z, y, c = _feature_arrays(snapshot)
    weights, present = phantom_weights(y, c, PHANTOM_K)
    return phantom_view(embed(z, "pca"), y, weights, present, epoch, PHANTOM_K)


def draw_similarity(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """The class x class similarity matrix above the intra- and inter-class pair histograms (one
    column: a page may draw a reference run beside it)."""
    return grid([similarity_view(snapshot, epoch), pairs_view(snapshot, epoch)], cols=1, shared=False,
                title=f"Cosine similarity of the features, epoch {epoch}")


def draw_neurons(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """The first layer's neurons with their negated copies: on the unit circle (fan-in 2), on a flat
    map of the whole sphere (fan-in 3; Hammer's equal-area projection), projected onto a sphere beyond
    (the subtitle says so). The map, not a 3-D sphere: every neuron shows at once, two runs compare at a
    glance, and a lesson plays it: two 3-D spheres took 0.3-0.8 s a frame each to paint in the bench's
    browser (software WebGL), the lesson played 0.4 epochs/s. The Hypersphere page turns a 3-D one."""
    w = snapshot["weight_0"]
    # a hidden layer, drawn half-space as MHE treats it unless the run turned half-space off
    half = len(weight_labels(snapshot)) > 1 and probe.config.method_params.get("half_space", True)
    title = f"Neurons of {weight_labels(snapshot)['weight_0']}, epoch {epoch}"
    points, note = sphere_points(w)
    if neuron_rows(w).shape[1] == 2:
        return circle_view(points[:, :2], half, title)
    return sphere_map_figure(points, note, half, title)


def _nn_angles(snapshot: Snapshot) -> np.ndarray:
    """Every hidden neuron's half-space angle to its nearest neighbour in its own layer (radians)."""
    *hidden, _ = weight_labels(snapshot)
    return np.concatenate([nearest_neighbour_angles(neuron_rows(snapshot[k]), half_space=True) for k in hidden])


def draw_nn_angles(snapshot: Snapshot, probe: Probe, epoch: int,
                   reference: tuple[str, str, Snapshot] | None = None) -> go.Figure:
    """The hidden neurons' nearest-neighbour angles, with a reference run's (label, method,
    snapshot) at the same epoch on the same axes."""
    cfg = probe.config
    shown = [(f"{cfg.method} s{cfg.seed}", cfg.method, _nn_angles(snapshot))]
    if reference is not None:
        shown.append((reference[0], reference[1], _nn_angles(reference[2])))
    return nn_angle_view(shown, title=f"Nearest-neighbour angle of the hidden neurons, epoch {epoch}")


def draw_spread(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """Within-class / total variance of the features per class, and overall."""
    z, y, c = _feature_arrays(snapshot)
    return spread_view(class_spread(z, y, c), within_class_ratio(z, y), epoch)


def draw_mmd(snapshot: Snapshot, probe: Probe, epoch: int) -> go.Figure:
    """MMD² between two probe halves per class and marginal."""
    m = halves_mmd(*_feature_arrays(snapshot))
    return mmd_view(m["per_class"], m["conditional"], m["marginal"], epoch)


VIEWS: dict[str, View] = {v.key: v for v in (
    View("reconstruction", "Reverse-pass reconstruction", draw_reconstruction),
    View("singular", "First layer's singular vectors as images", draw_singular, image_shaped),
    View("gini_heatmap", "Class given feature, p(c|j)", draw_gini_heatmap),
    View("phantoms", "Phantoms in the features", draw_phantoms, shared=False),
    View("similarity", "Similarity within and between classes", draw_similarity),
    View("neurons", "Neurons as directions", draw_neurons),
    View("nn_angles", "Angle to the nearest neighbour", draw_nn_angles, overlay=True),
    View("spread", "Within-class spread", draw_spread),
    View("mmd", "MMD between two batches", draw_mmd),
)}


def method_views(method: str) -> list[View]:
    """The views `method` declares (its own `View`s, or keys of `VIEWS`), in its order; none for a
    method not loaded here (a plug-in whose file is gone)."""
    from lab.regularizers import REGISTRY

    reg = REGISTRY.get(method)
    return [VIEWS[v] if isinstance(v, str) else v for v in (reg.views if reg else ())]


def view(key: str, method: str | None = None) -> View:
    """The view `key`: one of `VIEWS`, or one `method` declares itself."""
    own = {v.key: v for v in method_views(method)} if method else {}
    return own.get(key) or VIEWS[key]


def available(v: View, probe: Probe) -> bool:
    return v.available is None or bool(v.available(probe))


def build(v: View, snapshot: Snapshot, probe: Probe, epoch: int, reference: Any = None) -> go.Figure:
    """`v`'s figure of `snapshot`; `reference` (label, method, snapshot) only for an overlay view."""
    return v.build(snapshot, probe, epoch, reference=reference) if v.overlay else v.build(snapshot, probe, epoch)
