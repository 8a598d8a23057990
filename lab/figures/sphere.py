"""Neurons as directions: angle histogram against the uniform reference, energy and
nearest-neighbour angles over training, and the neurons on the sphere: as a flat map of the whole
sphere (Hammer's equal-area projection, drawn fast as a plain 2-D chart) or on a 3-D sphere to turn."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.grid import BELOW, styled
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
    fig = go.Figure(traces)  # three ticks an axis and short titles: in large letters more ran into each other
    # y's and z's -1 meet at one corner of the box, where their labels ran into each other: x keeps it
    axes = {f"{a}axis": {"title": {"text": f"{a} (unit)"}, "range": [-1.1, 1.1],
                         "tickvals": [-1, 0, 1] if a == "x" else [0, 1]} for a in "xyz"}
    fig.update_layout(scene={**axes, "aspectmode": "cube", "domain": {"x": [0, 1], "y": [0, 1]}})
    styled(fig, title, "", "", note)
    return fig.update_layout(legend=BELOW, margin={"l": 0, "r": 0, "b": 0}, height=560)


def _points(p: np.ndarray, name: str, colour: str, opacity: float = 1.0) -> go.Scatter3d:
    return go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="markers", name=name, opacity=opacity,
                        marker={"size": 4, "color": colour},
                        text=[f"neuron {i}" for i in range(len(p))], hovertemplate="%{text}<extra>" + name + "</extra>")


def hammer(points: np.ndarray) -> np.ndarray:
    """(N, 2) Hammer equal-area projection of unit vectors (N, 3), longitude atan2(y, x), latitude
    asin(z): X = 2√2 cos φ sin(λ/2) / √(1 + cos φ cos(λ/2)), Y = √2 sin φ / √(1 + cos φ cos(λ/2)).
    The whole sphere fills an ellipse of half-axes 2√2 and √2; equal areas stay equal, so a crowd
    of neurons looks as crowded wherever it sits."""
    p = np.asarray(points, float)
    lon, lat = np.arctan2(p[:, 1], p[:, 0]), np.arcsin(np.clip(p[:, 2], -1, 1))
    k = np.sqrt(1 + np.cos(lat) * np.cos(lon / 2))
    return np.c_[2 * np.sqrt(2) * np.cos(lat) * np.sin(lon / 2) / k, np.sqrt(2) * np.sin(lat) / k]


def _graticule() -> list[go.Scatter]:
    """The map's outline and its parallels (every 30°) and meridians (every 60°), faint lines."""
    t = np.linspace(-np.pi / 2, np.pi / 2, 61)
    lines = [np.c_[np.cos(t) * np.cos(lon), np.cos(t) * np.sin(lon), np.sin(t)]
             for lon in np.radians([-179.999, -120, -60, 0, 60, 120, 179.999])]
    u = np.linspace(-np.pi, np.pi, 121)
    lines += [np.c_[np.cos(lat) * np.cos(u), np.cos(lat) * np.sin(u), np.full_like(u, np.sin(lat))]
              for lat in np.radians([-60, -30, 0, 30, 60])]
    xy = np.concatenate([np.vstack([hammer(line), [np.nan, np.nan]]) for line in lines])
    return [go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", line={"color": "lightgray", "width": 1},
                       hoverinfo="skip", name="sphere (parallels every 30°)", showlegend=False)]


def sphere_map_figure(points: np.ndarray, note: str = "", half_space: bool = False,
                      title: str = "Neuron directions on the unit sphere") -> go.Figure:
    """The unit vectors of `sphere_figure` on a flat map of the whole sphere (`hammer`): every
    neuron visible at once, none behind the sphere; `half_space` adds the negated copies -w."""
    traces = _graticule()
    for p, name, opacity in ((points, "neurons w", 1.0), (-points, "negated copies -w", NEGATED_OPACITY))[:1 + half_space]:
        xy = hammer(p)
        traces.append(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name, opacity=opacity,
                                 marker={"size": 7, "color": color(0)}, text=[f"neuron {i}" for i in range(len(p))],
                                 hovertemplate="%{text}<extra>" + name + "</extra>"))
    fig = styled(go.Figure(traces), title, "", "", note)
    fig.update_xaxes(visible=False, range=[-2.9, 2.9])
    return fig.update_yaxes(visible=False, range=[-1.5, 1.5], scaleanchor="x")
