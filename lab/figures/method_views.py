"""One-epoch views of the seed methods' own quantities (METHODS.md, the "Views" lines): Racecar's
input next to its reverse-pass reconstruction and the error per state, Phantom's phantoms in the
PCA map of the features, MHE's neurons on the unit circle and their nearest-neighbour angles,
ITRA's per-class spread and the MMD between two probe halves. Data in (from
`lab.measure.quantities`, `lab.measure.similarity`, `lab.measure.angles`), plotly figure out.
The Gini heatmap and the singular-vector images are `lab.figures.method`'s own builders."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.figures.embedding import embedding_scatter
from lab.figures.grid import styled
from lab.figures.method import tile
from lab.figures.palette import color, method_color
from lab.figures.similarity import class_names
from lab.figures.sphere import DEG, NEGATED_OPACITY

ERROR_AXIS = "0.5 x squared error per sample (state units²)"


def _error_bars(errors: dict[str, float]) -> go.Bar:
    """One bar per reconstructed state (input first), coloured as in `part_curves`."""
    return go.Bar(x=list(errors), y=list(errors.values()), name="error per state",
                  marker={"color": [color(i) for i in range(len(errors))]},
                  hovertemplate="%{x}: %{y:.4g}<extra></extra>")


IMAGES_PER_ROW = 5  # thumbnails in a row: ten in one row were ~40 px tall in a half-width figure at 1400 px


def reconstruction_view(errors: dict[str, float], epoch: int, inputs: np.ndarray | None = None,
                        recon: np.ndarray | None = None, labels: Sequence[int] = ()) -> go.Figure:
    """Racecar's reverse pass at one epoch (Xie & Thuerey 2020): bars of each state's error
    0.5 ||d'_m - d_m||^2 (mean over the probe set; their sum is the penalty). With image-shaped
    `inputs` (m, C, H, W) of classes `labels`, rows of at most `IMAGES_PER_ROW` inputs (their class
    above), each above a row of their reconstructions d'_1 (one grey scale, dark = high)."""
    title = f"Reverse-pass reconstruction, epoch {epoch}"
    total = f"total {sum(errors.values()):.4g} (the racecar penalty)"
    if inputs is None:
        return styled(go.Figure(_error_bars(errors)), title, "reconstructed state", ERROR_AXIS, total)
    m = len(inputs)
    cols, chunks = min(m, IMAGES_PER_ROW), -(-m // IMAGES_PER_ROW)
    rows = 2 * chunks + 1
    heads = [str(labels[k * cols + i]) if k * cols + i < m else "" for k in range(chunks) for i in range(cols)]
    fig = make_subplots(rows, cols, specs=[[{}] * cols] * (rows - 1) + [[{"colspan": cols}] + [None] * (cols - 1)],
                        row_heights=[1] * (rows - 1) + [2], vertical_spacing=0.3 / rows, horizontal_spacing=0.02,
                        subplot_titles=[t for k in range(chunks) for t in heads[k * cols:(k + 1) * cols] + [""] * cols])
    top = float(max(np.abs(inputs).max(), np.nanmax(np.abs(recon)))) or 1.0
    for k in range(chunks):
        for row, images, name, short in ((2 * k + 1, inputs, "input d_1", "d₁"), (2 * k + 2, recon, "reconstruction d'_1", "d′₁")):
            for i, image in enumerate(images[k * cols:(k + 1) * cols]):
                fig.add_trace(go.Heatmap(z=tile(image), zmin=-top, zmax=top, colorscale="Greys", name=name, showscale=False,
                                         hovertemplate=f"{name}, class {labels[k * cols + i]}: %{{z:.2f}} input units"
                                                       "<extra></extra>"), row, i + 1)
                cell = fig.get_subplot(row, i + 1)
                cell.yaxis.update(scaleanchor=cell.xaxis.plotly_name.replace("axis", ""), autorange="reversed",
                                  showticklabels=False, showgrid=False, zeroline=False, title=short if i == 0 else None)
                cell.xaxis.update(showticklabels=False, showgrid=False, zeroline=False)
    fig.add_trace(_error_bars(errors), rows, 1)
    styled(fig, title, "", "", f"{total}; each input d₁ above its reverse pass d′₁ from the logits (dark = high)")
    fig.update_annotations(font_size=11)
    fig.update_yaxes(title="error (state units²)", row=rows, col=1).update_xaxes(title="reconstructed state", row=rows, col=1)
    return fig.update_layout(height=300 + 220 * chunks, showlegend=False)


def phantom_view(xy: np.ndarray, labels: np.ndarray, weights: np.ndarray, present: np.ndarray, epoch: int, k: int,
                 names: Sequence[str] | None = None) -> go.Figure:
    """PCA map `xy` (n, 2) of the probe features with each class's phantom (`phantom_weights`
    (C, n) @ xy: the mean of its k ringed samples, exact because PCA is affine) as a large
    marker of its class colour; absent classes have none (Arif et al. 2023)."""
    names = class_names(len(weights), names)
    phantoms = weights @ xy
    phantoms[~np.asarray(present, bool)] = np.nan
    fig = embedding_scatter(xy, labels, names, "pca", f"Phantoms in the features, epoch {epoch}",
                            extra={"phantoms": phantoms})
    chosen = np.flatnonzero(weights.sum(0) > 0)
    fig.add_trace(go.Scatter(x=xy[chosen, 0], y=xy[chosen, 1], mode="markers", customdata=chosen,
                             name="samples averaged into a phantom",
                             marker={"size": 11, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 1}},
                             hovertemplate="probe %{customdata}<extra>averaged into its class's phantom</extra>"))
    subtitle = f"PCA of the probe features; each diamond is the mean of k = {k} ringed samples of its class (a phantom)"
    return fig.update_layout(title={"subtitle": {"text": subtitle}}, margin={"t": 86})


def circle_view(points: np.ndarray, half_space: bool = False,
                title: str = "Neuron directions on the unit circle") -> go.Figure:
    """Unit vectors (N, 2) of a layer with fan-in 2 drawn on the unit circle itself (exact, no
    projection); `half_space` adds the negated copies -w, in a lighter shade, that half-space
    MHE spreads together with w (Liu et al. 2018)."""
    t = np.linspace(0, 2 * np.pi, 361)
    traces = [go.Scatter(x=np.cos(t), y=np.sin(t), mode="lines", name="unit circle", hoverinfo="skip",
                         line={"color": "lightgray"})]
    shown = ((points, "neurons w", 1.0),) + (((-points, "negated copies -w", NEGATED_OPACITY),) if half_space else ())
    for p, name, opacity in shown:
        traces.append(go.Scatter(x=p[:, 0], y=p[:, 1], mode="markers", name=name, opacity=opacity,
                                 marker={"color": color(0), "size": 9}, text=[f"neuron {i}" for i in range(len(p))],
                                 hovertemplate="%{text}<extra>" + name + "</extra>"))
    fig = styled(go.Figure(traces), title, "w₁ / ‖w‖", "w₂ / ‖w‖",
                 "exact (fan-in 2): each neuron is its direction")
    fig.update_xaxes(range=[-1.2, 1.2])
    return fig.update_yaxes(range=[-1.2, 1.2], scaleanchor="x", scaleratio=1)


def nn_angle_view(distributions: Sequence[tuple[str, str, np.ndarray]], half_space: bool = True,
                  title: str = "Angle to the nearest neighbour", bins: int = 30) -> go.Figure:
    """Counts of the neurons' nearest-neighbour angles (radians in, degrees shown) for each
    (label, method, angles), overlaid in the method's colour, each mean a dashed line. Half-space
    angles (the nearest of +-w_j) lie in [0, 90] degrees, others in [0, 180]."""
    edges = np.linspace(0, 90 if half_space else 180, bins + 1)
    fig = go.Figure()
    for label, method, angles in distributions:
        degrees = np.asarray(angles) * DEG
        counts, _ = np.histogram(degrees, edges)
        mean = float(degrees.mean())
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=edges[1] - edges[0], opacity=0.6,
                    name=f"{label} (mean {mean:.1f}°)", marker={"color": method_color(method), "line": {"width": 0}},
                    hovertemplate="%{x:.1f}°: %{y} neurons<extra>" + label + "</extra>")
        fig.add_vline(x=mean, line={"color": method_color(method), "dash": "dash"})
    fig.update_layout(barmode="overlay")
    note = "half-space: the nearest of +w and -w of every other neuron" if half_space else None
    return styled(fig, title, "angle to the nearest neighbour (degrees)", "neurons", note).update_xaxes(
        range=[0, edges[-1]])


def _class_bars(values: np.ndarray, names: Sequence[str], title: str, y_title: str, line: float, line_name: str,
                subtitle: str, extra: dict[str, float] | None = None) -> go.Figure:
    """One bar per class in its class colour (then the `extra` bars in grey) and a dashed line."""
    extra = extra or {}
    fig = go.Figure(go.Bar(x=[*names, *extra], y=[*values, *extra.values()], name="per class",
                           marker={"color": [color(c) for c in range(len(names))] + ["gray"] * len(extra)},
                           hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.add_scatter(x=[*names, *extra], y=[line] * (len(names) + len(extra)), mode="lines", name=line_name,
                    line={"color": "black", "dash": "dash"})
    styled(fig, title, "class", y_title, subtitle)
    return fig.update_xaxes(type="category")


def spread_view(spread: np.ndarray, ratio: float, epoch: int, names: Sequence[str] | None = None) -> go.Figure:
    """`class_spread` per class (within-class over total variance of the features) with the
    overall `within_class_ratio`, their class-weighted mean, as a line (ITRA's compactness, Li et al. 2022)."""
    return _class_bars(np.asarray(spread), class_names(len(spread), names), f"Within-class spread, epoch {epoch}",
                       "within-class / total variance (unitless)", ratio, f"all classes: {ratio:.3f}",
                       "scale-free: shrinking the features cannot lower it; a compact class is far below 1")


def mmd_view(per_class: np.ndarray, conditional: float, marginal: float, epoch: int,
             names: Sequence[str] | None = None) -> go.Figure:
    """`halves_mmd`: the class-conditional MMD² terms between two probe halves per class, their
    mean (what ITRA minimises) as a line, and the marginal MMD² of the halves as a grey bar."""
    return _class_bars(np.asarray(per_class), class_names(len(per_class), names),
                       f"MMD² between two probe halves, epoch {epoch}", "MMD² (Gaussian kernels, unitless)",
                       conditional, f"mean over classes: {conditional:.4g}",
                       "two random disjoint halves of the probe set (seed 0), median-distance bandwidths",
                       {"marginal": marginal})
