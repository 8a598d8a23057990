"""Neurons as directions: angle histogram against the uniform reference, energy and
nearest-neighbour angles over training, and the neurons on a 3-D sphere."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.grid import styled
from lab.figures.palette import color
from lab.measure.angles import uniform_angle_density

DEG = 180 / np.pi
NEGATED_OPACITY = 0.35  # the negated copies -w of half-space neurons: a lighter shade of the neurons' colour


def angle_histogram(angles: np.ndarray, d: int, title: str = "Angles between neurons", bins: int = 60) -> go.Figure:
    """Histogram (as a density, 1/degree, computed here so that small multiples can fit their
    shared axis to it) of pairwise angles in radians, shown in degrees, with the density of
    angles between independent uniform directions in R^d."""
    theta = np.linspace(0, np.pi, 721)
    density, edges = np.histogram(np.asarray(angles) * DEG, bins=bins, range=(0, 180), density=True)
    fig = go.Figure([
        go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=density, width=180 / bins, name="neuron pairs",
               marker={"color": color(0), "line": {"width": 0}}, opacity=0.75,
               hovertemplate="%{x:.0f}°: %{y:.4f} per degree<extra></extra>"),
        go.Scatter(x=theta * DEG, y=uniform_angle_density(theta, d) / DEG, name=f"uniform directions, d = {d}",
                   mode="lines", line={"color": color(1)}),
    ])
    return styled(fig, title, "angle (degrees)", "density (1/degree)").update_xaxes(range=[0, 180])


def energy_axis_title(s: int) -> str:
    """What the energy axis measures (it has no physical unit)."""
    return "energy, mean -log distance over pairs" if s == 0 else f"energy, mean distance^-{s} over pairs (unitless)"


def energy_curves(series: dict[str, dict], s: int = 2, title: str = "Hyperspherical energy per layer",
                  subtitle: str | None = None) -> go.Figure:
    """`mhe_energy` of each weight layer against epoch (log y for s > 0); `series` as from
    `lab.readout.series.energy_series`: {label: {"epoch", "energy"}}."""
    fig = go.Figure([go.Scatter(x=v["epoch"], y=v["energy"], name=label, mode="lines+markers",
                                line={"color": color(i)}) for i, (label, v) in enumerate(series.items())])
    styled(fig, title, "epoch", energy_axis_title(s), subtitle)
    return fig.update_yaxes(type="log" if s > 0 else "linear")


def nn_angle_curves(series: dict[str, dict], title: str = "Angle to the nearest neighbour") -> go.Figure:
    """Mean (solid) and minimum (dotted) nearest-neighbour angle of each layer's neurons
    against epoch; `series` from `energy_series` (radians, shown in degrees)."""
    traces = []
    for i, (label, v) in enumerate(series.items()):
        for key, dash in (("mean_nn", None), ("min_nn", "dot")):
            traces.append(go.Scatter(x=v["epoch"], y=np.asarray(v[key]) * DEG, name=f"{label} {key[:-3]}",
                                     legendgroup=label, mode="lines+markers", line={"color": color(i), "dash": dash}))
    return styled(go.Figure(traces), title, "epoch", "angle (degrees)")


def sphere_figure(points: np.ndarray, note: str = "", half_space: bool = False,
                  title: str = "Neuron directions on the unit sphere") -> go.Figure:
    """Unit vectors (N, 3) from `lab.measure.angles.sphere_points` (the `note` says whether
    the view is exact or projected) on a faint sphere; `half_space` adds the negated copies
    -w that half-space MHE spreads together with w, in a lighter shade of the same colour."""
    u, v = np.mgrid[0:np.pi:25j, 0:2 * np.pi:49j]
    sphere = go.Surface(x=np.sin(u) * np.cos(v), y=np.sin(u) * np.sin(v), z=np.cos(u), opacity=0.12,
                        showscale=False, colorscale=[[0, "lightgray"], [1, "lightgray"]], hoverinfo="skip",
                        name="unit sphere", showlegend=True)
    traces = [sphere, _points(points, "neurons w", color(0))]
    if half_space:
        traces.append(_points(-points, "negated copies -w", color(0), NEGATED_OPACITY))
    fig = go.Figure(traces)
    axes = {f"{a}axis": {"title": f"{a} (unit length)", "range": [-1.1, 1.1]} for a in "xyz"}
    fig.update_layout(scene={**axes, "aspectmode": "cube"})
    return styled(fig, title, "", "", note)


def _points(p: np.ndarray, name: str, colour: str, opacity: float = 1.0) -> go.Scatter3d:
    return go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="markers", name=name, opacity=opacity,
                        marker={"size": 4, "color": colour},
                        text=[f"neuron {i}" for i in range(len(p))], hovertemplate="%{text}<extra>" + name + "</extra>")
