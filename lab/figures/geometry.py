"""The Geometry page's figures: each measure of `lab.readout.geometry.geometry_series` over epochs for
one or two runs (a run keeps its method's colour, a layer its dash), the layer x layer CKA heatmap
at one epoch, and the CKA between two runs per layer over epochs. Data in, plotly figure out."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab.figures.grid import grid, styled
from lab.figures.palette import color, dash, method_color

TITLES = {  # measure: (panel title, axis title)
    "nc1": ("NC1: within-class variability", "tr(S_W S_B⁺) / C"),
    "equinorm": ("Equinorm: class-mean lengths", "std / mean of ||μ_c − μ_G||"),
    "equiangularity": ("Equiangularity: class-mean angles", "std of pairwise cosines"),
    "simplex_gap": ("Simplex gap", "mean |cos + 1/(C−1)|"),
    "nc3": ("NC3: classifier vs class means", "||W/|W| − M/|M|||²"),
    "nc4": ("NC4: classifier vs nearest mean", "share of probe points that differ"),
    "effective_rank": ("Effective rank", "exp(entropy of the singular values)"),
    "participation_ratio": ("Participation ratio", "(Σ s²)² / Σ s⁴"),
    "probe_accuracy": ("Linear probe accuracy", "5-fold accuracy (fraction)"),
}
MARKERS = ("circle", "diamond-open", "square-open")  # per run: two runs that agree stay both visible
COLLAPSE = ("nc1", "equinorm", "equiangularity", "simplex_gap", "nc3", "nc4")  # neural collapse: all fall to 0


def _curves(runs: Sequence[tuple[str, str, dict]], measure: str) -> go.Figure:
    """One measure over epochs: a curve per (run, layer); `runs`: (label, method, series)."""
    fig = go.Figure()
    for j, (label, method, series) in enumerate(runs):  # the second run's open markers show through the first's
        layers = [k for k, row in series.items() if measure in row]
        for i, layer in enumerate(layers):
            row = series[layer]
            name = label if layer == "features" or len(layers) == 1 else f"{label} · {layer}"
            fig.add_trace(go.Scatter(x=row["epoch"], y=row[measure], mode="lines+markers", name=name,
                                     line={"color": method_color(method), "dash": dash(i)},
                                     marker={"symbol": MARKERS[j % len(MARKERS)], "size": 7 + 3 * j}))
    title, axis = TITLES[measure]
    return styled(fig, title, "epoch", axis)


def geometry_grid(runs: Sequence[tuple[str, str, dict]], measures: Sequence[str], title: str) -> go.Figure:
    """Small multiples of `measures` over epochs for every run and layer (axes not shared: units differ)."""
    figs = [_curves(runs, m) for m in measures]
    return grid(figs, titles=[TITLES[m][0] for m in measures], cols=2, shared=False, title=title)


def cka_heatmap(names: Sequence[str], matrix: Sequence[Sequence[float | None]], title: str) -> go.Figure:
    """Layer x layer linear CKA (0: unrelated, 1: the same up to rotation and scale)."""
    z = np.array([[np.nan if v is None else v for v in row] for row in matrix], float)
    fig = go.Figure(go.Heatmap(z=z, x=list(names), y=list(names), zmin=0, zmax=1, colorscale="Viridis",
                               text=np.round(z, 3), texttemplate="%{text}", colorbar={"title": "CKA"},
                               hovertemplate="%{y} vs %{x}: %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category").update_xaxes(type="category")
    return styled(fig, title, "layer", "layer")


def cka_curves(series: dict[str, dict], title: str) -> go.Figure:
    """The CKA between two runs per layer over epochs (1: the same representation up to rotation and scale)."""
    fig = go.Figure([go.Scatter(x=row["epoch"], y=row["cka"], mode="lines+markers", name=layer,
                                line={"color": color(i)}) for i, (layer, row) in enumerate(series.items())])
    return styled(fig, title, "epoch", "linear CKA (0 to 1)").update_yaxes(range=[0, 1.02])
