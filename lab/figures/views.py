"""A view of one run at one epoch: the one builder of each view, shared by the view pages, the
Compare page's small multiples and `python -m lab report`. Each takes a snapshot (or the arrays
of a series) as the caller has it (the app from its cache, the report from the store) and
measures with the pure `lab.measure` functions."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.figures.embedding import LABELS, embedding_scatter
from lab.figures.infoplane import information_plane
from lab.figures.similarity import similarity_heatmap, similarity_histograms
from lab.figures.sphere import angle_histogram, sphere_figure, sphere_map_figure
from lab.measure import neuron_rows, pairwise_angles, sample_pair_similarities, similarity_stats, sphere_points
from lab.measure.snapshot import feature_layer, feature_weight, n_classes, weight_labels


def similarity_view(snapshot: dict[str, np.ndarray], epoch: int, layer: str | None = None,
                    names: Sequence[str] | None = None) -> go.Figure:
    """Class x class mean cosine similarity of a hidden layer (default: the features)."""
    layer = layer or feature_layer(snapshot)
    stats = similarity_stats(snapshot[layer], snapshot["probe_y"], n_classes(snapshot))
    return similarity_heatmap(stats["matrix"], names, title=f"{layer}, epoch {epoch}: intra {stats['intra']:.2f}, "
                                                            f"inter {stats['inter']:.2f}")


def pairs_view(snapshot: dict[str, np.ndarray], epoch: int, layer: str | None = None) -> go.Figure:
    """Densities of sampled same-class and different-class pair cosines of a hidden layer (default:
    the features), with the exact means."""
    layer = layer or feature_layer(snapshot)
    stats = similarity_stats(snapshot[layer], snapshot["probe_y"], n_classes(snapshot))
    return similarity_histograms(sample_pair_similarities(snapshot[layer], snapshot["probe_y"]), stats,
                                 title=f"Sampled pairs, epoch {epoch}: gap {stats['gap']:.2f}")


def angles_view(snapshot: dict[str, np.ndarray], epoch: int, layer: str | None = None) -> go.Figure:
    """Histogram of the angles between a weight layer's neurons (default: the one producing the features)."""
    key = layer or feature_weight(snapshot)
    return angle_histogram(pairwise_angles(snapshot[key]), neuron_rows(snapshot[key]).shape[1],
                           title=f"{weight_labels(snapshot)[key]}, epoch {epoch}")


def sphere_view(snapshot: dict[str, np.ndarray], epoch: int, layer: str | None = None,
                half_space: bool = False, flat: bool = False) -> go.Figure:
    """A weight layer's neurons (default: the one producing the features) as directions in 3-D,
    on a turnable sphere or, with `flat`, on a map of the whole sphere (`sphere_map_figure`)."""
    points, note = sphere_points(snapshot[layer or feature_weight(snapshot)])
    return (sphere_map_figure if flat else sphere_figure)(points, note, half_space,
                                                          title=f"Neuron directions, epoch {epoch}")


def until(per_layer: dict[str, dict], epoch: int) -> dict[str, dict]:
    """The per-epoch series entries of every layer up to and including `epoch`."""
    return {layer: {k: v[row["epoch"] <= epoch] for k, v in row.items()} for layer, row in per_layer.items()}


def infoplane_view(per_layer: dict[str, dict], epoch: int, estimator: str, note: str | None = None) -> go.Figure:
    """Every hidden layer's path in the information plane (`mi_series`) from epoch 0 up to `epoch`."""
    return information_plane(until(per_layer, epoch), title=f"Information plane up to epoch {epoch} ({estimator})",
                             note=note)


def embedding_view(xy: np.ndarray, labels: np.ndarray, epoch: int, algorithm: str = "pca",
                   names: Sequence[str] | None = None) -> go.Figure:
    """One epoch's map of the features (from `lab.readout.embeddings.embed_run`)."""
    return embedding_scatter(xy, labels, names, algorithm, title=f"{LABELS[algorithm]} of the features, epoch {epoch}")
