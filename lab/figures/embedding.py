"""2-D maps of the probe points (`lab.readout.embeddings`): one epoch, or animated over epochs with
a slider and play button on fixed axes, points coloured by class."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.figures.animate import BELOW_PX, FRAME_MS, LEGEND, controls
from lab.figures.grid import styled
from lab.figures.palette import color
from lab.figures.similarity import class_names

AXES = {"pca": "PC {} (feature units)", "tsne": "t-SNE {} (arbitrary units)", "umap": "UMAP {} (arbitrary units)"}
LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
WEBGL_FROM = 5000  # points from which a map is drawn with WebGL: below, SVG draws at once (the bench's
# browser took 0.3 s longer for a 449-point map in WebGL, which must start a context first)


def _traces(xy: np.ndarray, labels: np.ndarray, names: list[str], extra: dict[str, np.ndarray]) -> list:
    """One scatter per class (hover: probe index and class), then one per overlay; an overlay with
    one row per class draws row i in class i's colour. WebGL from `WEBGL_FROM` points, else SVG."""
    idx = np.arange(len(labels))
    scatter = go.Scattergl if len(labels) >= WEBGL_FROM else go.Scatter
    out: list = [scatter(x=xy[m, 0], y=xy[m, 1], mode="markers", name=name, customdata=idx[m],
                         marker={"color": color(c), "size": 5, "opacity": 0.75},
                         hovertemplate=f"probe %{{customdata}}<br>class {name}<extra></extra>")
                 for c, name in enumerate(names) for m in [labels == c]]
    for name, pts in extra.items():
        per_class = len(pts) == len(names)
        text = [f"{name}: {names[i]}" if per_class else f"{name} {i}" for i in range(len(pts))]
        out.append(scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name, text=text,
                           hovertemplate="%{text}<extra></extra>",
                           marker={"symbol": "diamond", "size": 13, "line": {"color": "black", "width": 1.5},
                                   "color": [color(i) for i in range(len(pts))] if per_class else "black"}))
    return out


def _ranges(points: Sequence[np.ndarray], pad: float = 0.05) -> tuple[list[float], list[float]]:
    """x and y ranges covering every given (..., 2) array, padded by `pad` of the span."""
    allp = np.concatenate([np.asarray(p).reshape(-1, 2) for p in points])
    lo, hi = np.nanmin(allp, 0), np.nanmax(allp, 0)
    span = np.maximum(hi - lo, 1e-9) * pad
    return [float(lo[0] - span[0]), float(hi[0] + span[0])], [float(lo[1] - span[1]), float(hi[1] + span[1])]


def _layout(fig: go.Figure, algorithm: str, title: str, ranges: tuple[list[float], list[float]]) -> go.Figure:
    styled(fig, title, AXES[algorithm].format(1), AXES[algorithm].format(2))
    fig.update_xaxes(range=ranges[0], autorange=False)
    return fig.update_yaxes(range=ranges[1], autorange=False, scaleanchor="x", scaleratio=1)


def embedding_scatter(xy: np.ndarray, labels: np.ndarray, names: Sequence[str] | None = None, algorithm: str = "pca",
                      title: str | None = None, extra: dict[str, np.ndarray] | None = None,
                      frame: np.ndarray | None = None) -> go.Figure:
    """One epoch's (n, 2) map, one legend entry per class; `extra`: overlays {name: (m, 2)};
    `frame`: points whose extent the axes cover (e.g. every epoch's map, so that the axes stay put
    while a player steps through the epochs; default: these points)."""
    labels = np.asarray(labels)
    names = class_names(int(labels.max()) + 1, names)
    extra = extra or {}
    fig = go.Figure(_traces(xy, labels, names, extra))
    return _layout(fig, algorithm, title or f"{LABELS[algorithm]} map of the probe points",
                   _ranges([xy if frame is None else frame, *extra.values()]))


def embedding_animation(series: dict[str, np.ndarray], names: Sequence[str] | None = None, algorithm: str = "pca",
                        title: str | None = None, extra: dict[str, np.ndarray] | None = None,
                        frame_ms: int = FRAME_MS) -> go.Figure:
    """The maps of `lab.readout.embeddings.embed_run` ({"epoch": (E,), "xy": (E, n, 2), "y": (n,)})
    as one frame per epoch, with a slider, play/pause and axis ranges fixed over all epochs;
    `extra`: overlays {name: (E, m, 2)}."""
    epochs, xy, labels = series["epoch"], series["xy"], np.asarray(series["y"])
    names = class_names(int(labels.max()) + 1, names)
    extra = extra or {}
    base = title or f"{LABELS[algorithm]} map of the probe points"

    def at(i: int) -> dict[str, np.ndarray]:
        return {k: v[i] for k, v in extra.items()}

    frames = [go.Frame(data=_traces(xy[i], labels, names, at(i)), name=str(e),
                       layout={"title": {"text": f"{base}, epoch {e}"}}) for i, e in enumerate(epochs)]
    fig = go.Figure(frames[-1].data, frames=frames)
    _layout(fig, algorithm, f"{base}, epoch {epochs[-1]}", _ranges([xy, *extra.values()]))
    fig.update_layout(**controls(epochs, len(epochs) - 1, frame_ms), legend=LEGEND, margin={"b": BELOW_PX})
    return fig


def knn_curves(series: dict[str, dict], title: str = "k-NN accuracy of each layer") -> go.Figure:
    """Cross-validated k-NN accuracy on the probe set against epoch, one line per layer
    (`lab.readout.embeddings.knn_series`: {layer: {"epoch", "knn"}}); chance level is 1 / classes."""
    fig = go.Figure([go.Scatter(x=v["epoch"], y=v["knn"], name=layer, mode="lines+markers", line={"color": color(i)})
                     for i, (layer, v) in enumerate(series.items())])
    return styled(fig, title, "epoch", "k-NN accuracy (fraction correct, 5-fold CV)").update_yaxes(range=[0, 1.02])
