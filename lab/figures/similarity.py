"""Cosine similarity of a representation by class: the class x class matrix, the intra/inter
distributions, and intra, inter and their gap over training."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.figures.grid import BELOW, styled
from lab.figures.palette import color


def class_names(n: int, names: Sequence[str] | None = None) -> list[str]:
    """The given class names, or "0", "1", ... when the caller has none."""
    return [str(c) for c in (names if names is not None else range(n))]


def similarity_heatmap(matrix: np.ndarray, names: Sequence[str] | None = None,
                       title: str = "Mean cosine similarity between classes") -> go.Figure:
    """The C x C matrix of `similarity_stats` (pairs i != j), rows and columns labelled by
    class, fixed scale [-1, 1]; values printed in the cells when C <= 20."""
    labels = class_names(len(matrix), names)
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu_r", name="mean cosine",
                               showscale=True, colorbar={"title": {"text": "cosine"}},
                               texttemplate="%{z:.2f}" if len(labels) <= 20 else None,
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    styled(fig, title, "class", "class")
    return fig.update_yaxes(autorange="reversed", type="category").update_xaxes(type="category")


def similarity_histograms(samples: dict[str, np.ndarray], stats: dict | None = None,
                          title: str = "Cosine similarity of sampled pairs") -> go.Figure:
    """Densities of sampled same-class and different-class pair similarities
    (`sample_pair_similarities`) in bins of 0.02 on [-1, 1], binned here (the figure holds 100
    heights per histogram, not the samples: a player frame sends and draws far less); with `stats`
    (from `similarity_stats`) the exact means are drawn as dashed lines."""
    parts = (("intra", "same class"), ("inter", "different classes"))
    edges = np.linspace(-1, 1, 101)
    heights = {k: np.histogram(np.clip(samples[k], -1, 1), edges, density=len(samples[k]) > 0)[0] for k, _ in parts}
    fig = go.Figure([go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=heights[k], width=edges[1] - edges[0], name=name,
                            opacity=0.6, marker={"color": color(i), "line": {"width": 0}},
                            hovertemplate="cosine %{x:.2f}: density %{y:.2f}<extra>" + name + "</extra>")
                     for i, (k, name) in enumerate(parts)])
    fig.update_layout(barmode="overlay", bargap=0, legend=BELOW)  # drawn half width: the legend under it
    for i, (k, name) in enumerate(parts):
        if stats is not None:  # one label under the other, each on the roomier side of its line
            fig.add_vline(x=stats[k], line={"color": color(i), "dash": "dash"},
                          annotation={"text": f"mean {stats[k]:.2f}", "y": 1 - 0.12 * i, "yanchor": "top",
                                      "xanchor": "right" if stats[k] > 0 else "left", "font": {"color": color(i)}})
    return styled(fig, title, "cosine similarity", "density (1/unit cosine)").update_xaxes(range=[-1, 1])


def gap_curves(series: dict, title: str = "Intra- and inter-class similarity") -> go.Figure:
    """Mean intra-class, inter-class cosine and their gap against epoch
    (`lab.readout.series.similarity_series`)."""
    parts = (("intra", "intra-class", None), ("inter", "inter-class", None), ("gap", "gap = intra - inter", "dash"))
    fig = go.Figure([go.Scatter(x=series["epoch"], y=series[k], name=name, mode="lines+markers",
                                line={"color": color(i), "dash": dash}) for i, (k, name, dash) in enumerate(parts)])
    return styled(fig, title, "epoch", "mean cosine similarity")
