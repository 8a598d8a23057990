"""Method views (METHODS.md "Views"): a method's own quantity over training for several runs on
the same axes, the Gini p(c|j) heatmap, Racecar's per-layer reconstruction error and the first
layer's singular vectors as images. Data from `lab.measure.quantities`."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.figures.grid import styled
from lab.figures.overlay import Line, overlay_curves
from lab.figures.palette import color, method_color
from lab.figures.similarity import class_names


def quantity_curves(lines: Sequence[Line], key: str, label: str, extra: Sequence[str] = (),
                    title: str | None = None) -> go.Figure:
    """`key` of `quantity_series` against epoch for every run (its method's colour, its seed's
    dash, as every overlay), e.g. CE and the method on the same axes; the `extra` keys of a
    single run's series are added as dotted lines in its colour."""
    name = label.split(" (")[0]
    fig = overlay_curves(lines, key, title or f"{name[:1].upper()}{name[1:]} over training", label)
    for line in lines if len(lines) == 1 else ():
        for k in extra:
            fig.add_scatter(x=line.points["epoch"], y=line.points[k], mode="lines+markers", name=f"{line.label}: {k}",
                            line={"color": method_color(line.method), "dash": "dot"})
    return fig


def gini_heatmap(p: np.ndarray, names: Sequence[str] | None = None,
                 title: str = "Class given feature, p(c|j)") -> go.Figure:
    """p(c|j) (C, d) from `class_given_feature_matrix` as classes x features, features sorted by
    their most likely class (then by how sure); dead features (zero columns) are left out, the
    subtitle says how many. A Gini-trained layer shows one bright cell per column."""
    p = np.asarray(p)
    live = np.flatnonzero(p.sum(0) > 0)
    order = live[np.lexsort((-p[:, live].max(0), p[:, live].argmax(0)))]
    labels = class_names(len(p), names)
    fig = go.Figure(go.Heatmap(z=p[:, order], x=[f"f{j}" for j in order], y=labels, zmin=0, zmax=1,
                               colorscale="Viridis", colorbar={"title": {"text": "p(c|j)"}}, name="p(c|j)",
                               hovertemplate="feature %{x}, class %{y}: %{z:.3f}<extra></extra>"))
    dead = p.shape[1] - len(live)
    styled(fig, title, "feature j (sorted by its most likely class)", "class c",
           f"{len(live)} live features; {dead} dead (no mass on the probe set) left out" if dead else None)
    return fig.update_xaxes(type="category", showticklabels=len(order) <= 64).update_yaxes(type="category",
                                                                                           autorange="reversed")


def part_curves(series: dict, key: str, label: str, title: str | None = None) -> go.Figure:
    """The parts of a quantity ("<key>/<part>" values of `quantity_series`, e.g. racecar's error of
    each reconstructed state) and `key` itself (dashed) against epoch; log y when all are positive."""
    parts = [k for k in series if k.startswith(f"{key}/")]
    traces = [go.Scatter(x=series["epoch"], y=series[k], mode="lines+markers", name=k.split("/", 1)[1],
                         line={"color": color(i)}) for i, k in enumerate(parts)]
    traces.append(go.Scatter(x=series["epoch"], y=series[key], mode="lines", name="total",
                             line={"color": "black", "dash": "dash"}))
    name = label.split(" (")[0]
    fig = styled(go.Figure(traces), title or f"{name[:1].upper()}{name[1:]}, part by part", "epoch", label)
    positive = all(np.all(np.asarray(series[k], float) > 0) for k in [*parts, key])
    return fig.update_yaxes(type="log" if positive else "linear")


def tile(image: np.ndarray) -> np.ndarray:
    """One (C, H, W) image as a 2-D array: its channels side by side, one NaN column between them."""
    gap = np.full((image.shape[1], 1), np.nan)
    return np.hstack([x for ch in image for x in (ch, gap)][:-1])


SINGULAR_PER_ROW = 4  # images in a row: eight σ labels in one half-width row ran into each other at 1400 px


def singular_images(images: np.ndarray, values: np.ndarray,
                    title: str = "First layer: right singular vectors in input space") -> go.Figure:
    """Rows of at most `SINGULAR_PER_ROW` small images from `first_layer_singular_images` ((n, C, H, W);
    channels side by side), one shared diverging colour scale centred at 0 (its bar under the images: beside
    them it took a third of a half-width figure), the singular value above each."""
    images = np.asarray(images)
    n, c = len(images), images.shape[1]
    cols = min(n, SINGULAR_PER_ROW)
    rows = -(-n // cols)
    top = float(np.nanmax(np.abs(images))) or 1.0
    fig = make_subplots(rows, cols, subplot_titles=[f"σ{i + 1}={v:.3g}" for i, v in enumerate(values)],
                        horizontal_spacing=0.03, vertical_spacing=0.3 / rows)
    for i, image in enumerate(images):
        fig.add_trace(go.Heatmap(z=tile(image), zmin=-top, zmax=top, zmid=0, colorscale="RdBu_r", showscale=i == 0,
                                 colorbar={"title": {"text": "component"}, "orientation": "h", "y": 0,
                                                                   "yanchor": "top", "len": 0.6, "thickness": 12},
                                 name=f"vector {i + 1}",
                                 hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>"), i // cols + 1, i % cols + 1)
        fig.update_yaxes(scaleanchor=f"x{i + 1 if i else ''}", row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_annotations(font_size=10)
    note = f"{c} channels side by side; " if c > 1 else ""
    styled(fig, title, "", "",
           note + "unit vectors, largest entry positive: the input patterns the first layer amplifies most")
    return fig.update_layout(height=120 + 150 * rows)
