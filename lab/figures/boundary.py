"""The decision boundary of a classifier on 2-D inputs: its predicted class over a grid as
coloured regions (stronger where it is more confident) with labelled points on top, as in
TensorFlow Playground. Data in (a snapshot's `grid_x`, `grid_y`, `grid_logits`), figure out."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb

from lab.figures.palette import color

FAINT, STRONG = 0.08, 0.5  # region opacity where the classifier is at chance / certain


def _rgba(c: int, alpha: float) -> str:
    r, g, b = hex_to_rgb(color(c))
    return f"rgba({r},{g},{b},{alpha})"


def region_values(grid_logits: np.ndarray) -> np.ndarray:
    """(G, G) values c + 0.999 x confidence, c the predicted class (argmax of the logits) and
    confidence = (p_max - 1/C) / (1 - 1/C) in [0, 1], p = softmax(logits): the integer part
    picks the class colour, the fraction its strength."""
    z = grid_logits.astype(np.float64)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    n = z.shape[-1]
    confidence = (p.max(-1) - 1 / n) / (1 - 1 / n)
    return p.argmax(-1) + 0.999 * np.clip(confidence, 0, 1)


def boundary_figure(grid_x: np.ndarray, grid_y: np.ndarray, grid_logits: np.ndarray, x: np.ndarray,
                    y: np.ndarray, classes: Sequence[str], title: str) -> go.Figure:
    """Regions of the predicted class over the grid (`grid_logits[i, j]` at (grid_x[j], grid_y[i]))
    in each class's palette colour, faint where the classifier hesitates, and the points `x` (n, 2)
    coloured by their labels `y`; equal axis scales (standardised units), so the picture is not stretched."""
    n = len(classes)
    scale = []
    for c in range(n):
        scale += [[c / n, _rgba(c, FAINT)], [(c + 1) / n, _rgba(c, STRONG)]]
    fig = go.Figure(go.Heatmap(x=grid_x, y=grid_y, z=region_values(grid_logits), zmin=0, zmax=n, colorscale=scale,
                               showscale=False, hoverinfo="skip"))
    for c, name in enumerate(classes):
        pts = x[y == c]
        fig.add_scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=str(name),
                        marker=dict(color=color(c), size=6, line=dict(color="white", width=0.7)))
    fig.update_xaxes(range=[grid_x[0], grid_x[-1]], constrain="domain", title="x1")
    fig.update_yaxes(range=[grid_y[0], grid_y[-1]], scaleanchor="x", scaleratio=1, constrain="domain",
                     title="x2")
    fig.update_layout(title=title, legend_title_text="class", uirevision="keep", margin=dict(t=60))
    return fig
