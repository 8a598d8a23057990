"""The methods' own one-epoch views by id (`METHOD_VIEWS`): a method lists the ids it motivates
in its `Regularizer.views`, so adding a method needs no page edit. Each view has a `title`,
`draw(record, epoch, reference=None)` (any run of any method: a reference run drawn through the
same view reads alike) and `available(record)`, False where the view cannot be drawn for that run
(e.g. images of non-image inputs). Snapshots and measurements go through `ui.cache`'s
byte-bounded store, shared with the other view pages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import plotly.graph_objects as go

from lab.data import DATASETS
from lab.figures import grid
from lab.figures.method import gini_heatmap, singular_images
from lab.figures.method_views import (circle_view, mmd_view, nn_angle_view, phantom_view, reconstruction_view,
                                      spread_view)
from lab.figures.sphere import sphere_figure
from lab.figures.views import pairs_view, similarity_view
from lab.measure import class_spread, nearest_neighbour_angles, neuron_rows, sphere_points, within_class_ratio
from lab.measure.quantities import (Probe, class_examples, class_given_feature_matrix, first_layer_singular_images,
                                    halves_mmd, phantom_weights, reconstructed_inputs, reconstruction)
from lab.measure.snapshot import feature_layer, features, n_classes, weight_labels
from lab.store import RunRecord, load_probe
from ui import cache, runs

PHANTOM_K = 4  # samples averaged into each drawn phantom (phantom's default k)


@dataclass(frozen=True)
class MethodView:
    """One method view: its `title`, `draw(record, epoch, reference=None)`, `available(record)`,
    and whether two runs' pictures `shared` axis ranges (False: a map whose axes are each run's own)."""

    title: str
    draw: Callable[..., go.Figure]
    available: Callable[[RunRecord], bool] = lambda record: True
    shared: bool = True


def image_shaped(record: RunRecord) -> bool:
    """Whether the run's inputs are images (C, H, W), which the image views need."""
    return len(DATASETS[record.config.data].sample_shape) == 3


def _measured(name: str, record: RunRecord, epoch: int, compute: Callable[[dict[str, np.ndarray]], Any]) -> Any:
    """`compute(snapshot)` of the run at `epoch`, kept in the app's byte-bounded store."""
    return cache._cached(("method_view", name, str(record.path), epoch),
                         lambda: compute(cache.snapshot(record, epoch)), "Measuring the snapshot…")


def _probe(record: RunRecord) -> Probe:
    """The run's probe inputs (read once through the store) and architecture."""
    x = cache._cached(("probe", str(record.path)), lambda: load_probe(record.path))["x"]
    return Probe.of(x, record.config, n_classes(cache.first_snapshot(record)))


def _feature_arrays(snapshot: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """(features (n, d), labels (n,), classes) of a snapshot."""
    return features(snapshot, feature_layer(snapshot)), snapshot["probe_y"], n_classes(snapshot)


def draw_reconstruction(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """Racecar's reverse pass: per-state errors, and for image inputs one probe sample per class
    (up to 10) next to its reconstruction d'_1."""
    def compute(snap: dict[str, np.ndarray]) -> dict[str, Any]:
        probe = _probe(record)
        errors = {k.split("/", 1)[1]: v for k, v in reconstruction(snap, probe).items() if "/" in k}
        if not image_shaped(record):
            return {"errors": errors}
        index, shape = class_examples(snap["probe_y"]), DATASETS[record.config.data].sample_shape
        return {"errors": errors, "inputs": probe.x[index].reshape(-1, *shape),
                "recon": reconstructed_inputs(snap, probe, index).reshape(-1, *shape), "labels": snap["probe_y"][index]}

    m = _measured("reconstruction", record, epoch, compute)
    return reconstruction_view(m["errors"], epoch, m.get("inputs"), m.get("recon"), m.get("labels", ()))


def draw_singular(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """The first layer's top right singular vectors as images."""
    images, values = first_layer_singular_images(cache.snapshot(record, epoch)["weight_0"],
                                                 DATASETS[record.config.data].sample_shape)
    return singular_images(images, values, title=f"First layer's right singular vectors, epoch {epoch}")


def draw_gini_heatmap(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """p(c|j) of the features."""
    z, y, c = _feature_arrays(cache.snapshot(record, epoch))
    p = class_given_feature_matrix(z, y, c, record.config.model_params.get("activation", "relu"))
    return gini_heatmap(p, title=f"Class given feature p(c|j), epoch {epoch}")


def draw_phantoms(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """The PCA map of the features (the Embeddings page's) with each class's phantom."""
    snap = cache.snapshot(record, epoch)
    weights, present = phantom_weights(snap["probe_y"], n_classes(snap), PHANTOM_K)
    xy = cache.embedding(record, None, "pca", [epoch])["xy"][0]
    return phantom_view(xy, snap["probe_y"], weights, present, epoch, PHANTOM_K)


def draw_similarity(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """The class x class similarity matrix above the intra- and inter-class pair histograms (one
    column: the page may draw a reference run beside it)."""
    snap = cache.snapshot(record, epoch)
    return grid([similarity_view(snap, epoch), pairs_view(snap, epoch)], cols=1, shared=False,
                title=f"Cosine similarity of the features, epoch {epoch}")


def draw_neurons(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """The first layer's neurons with their negated copies: on the unit circle (fan-in 2), on the
    sphere (fan-in 3), projected onto a sphere beyond (the subtitle says so)."""
    snap = cache.snapshot(record, epoch)
    w = snap["weight_0"]
    # a hidden layer, drawn half-space as MHE treats it unless the run turned half-space off
    half = len(weight_labels(snap)) > 1 and record.config.method_params.get("half_space", True)
    title = f"Neurons of {weight_labels(snap)['weight_0']}, epoch {epoch}"
    points, note = sphere_points(w)
    if neuron_rows(w).shape[1] == 2:
        return circle_view(points[:, :2], half, title)
    return sphere_figure(points, note, half, title)


def _nn_angles(record: RunRecord, epoch: int) -> np.ndarray:
    """Every hidden neuron's half-space angle to its nearest neighbour in its own layer (radians)."""
    snap = cache.snapshot(record, epoch)
    *hidden, _ = weight_labels(snap)
    return np.concatenate([nearest_neighbour_angles(neuron_rows(snap[k]), half_space=True) for k in hidden])


def draw_nn_angles(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """The hidden neurons' nearest-neighbour angles, with the reference run's at the same epoch."""
    shown = [record] + ([reference] if reference is not None and epoch in cache.epochs(reference) else [])
    return nn_angle_view([(f"{runs.run_label(r.config)} ({r.id})", r.config.method, _nn_angles(r, epoch))
                          for r in shown], title=f"Nearest-neighbour angle of the hidden neurons, epoch {epoch}")


def draw_spread(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """Within-class / total variance of the features per class, and overall."""
    z, y, c = _feature_arrays(cache.snapshot(record, epoch))
    return spread_view(class_spread(z, y, c), within_class_ratio(z, y), epoch)


def draw_mmd(record: RunRecord, epoch: int, reference: RunRecord | None = None) -> go.Figure:
    """MMD² between two probe halves per class and marginal."""
    m = _measured("mmd", record, epoch, lambda snap: halves_mmd(*_feature_arrays(snap)))
    return mmd_view(m["per_class"], m["conditional"], m["marginal"], epoch)


METHOD_VIEWS: dict[str, MethodView] = {
    "reconstruction": MethodView("Reverse-pass reconstruction", draw_reconstruction),
    "singular": MethodView("First layer's singular vectors as images", draw_singular, image_shaped),
    "gini_heatmap": MethodView("Class given feature, p(c|j)", draw_gini_heatmap),
    "phantoms": MethodView("Phantoms in the features", draw_phantoms, shared=False),
    "similarity": MethodView("Similarity within and between classes", draw_similarity),
    "neurons": MethodView("Neurons as directions", draw_neurons),
    "nn_angles": MethodView("Angle to the nearest neighbour", draw_nn_angles),
    "spread": MethodView("Within-class spread", draw_spread),
    "mmd": MethodView("MMD between two batches", draw_mmd),
}


def comparable(record: RunRecord) -> list[RunRecord]:
    """Saved runs with the same data, model, seed, epochs and sizes as `record` (any method; CE
    first), the candidates to draw beside it at the same epoch."""
    fields = ("data", "data_params", "data_seed", "model", "model_params", "seed", "epochs", "train_size",
              "probe_size")
    same = [r for r in runs.saved_runs() if r.id != record.id
            and all(getattr(r.config, f) == getattr(record.config, f) for f in fields)]
    return sorted(same, key=lambda r: r.config.method != "ce")
