"""Figure layout shared by every builder (`styled`) and small multiples (`grid`); colours come
from `lab.figures.palette`.

Builders return single-panel figures with explicit trace colours, so that `grid` can copy
their traces into one figure and the same layer or class keeps its colour in every panel.
"""
from __future__ import annotations

import math
import textwrap
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.figures.theme import SIDE_BY_SIDE, copied, plain, white

_3D = {"scatter3d", "surface", "mesh3d"}
SUBTITLE_CHARS = 70  # characters per subtitle line: what a half-width figure shows at 1400 px (120 were clipped)
BELOW = {"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0}  # legend under the plot
_OWN = {"domain", "anchor", "matches", "overlaying", "position"}  # set by make_subplots, never copied


def styled(fig: go.Figure, title: str, x_title: str, y_title: str, subtitle: str | None = None) -> go.Figure:
    """Title (and an optional subtitle, e.g. a caveat or a projection note), axis titles, a
    visible legend, and `uirevision="keep"` so zoom and legend clicks survive redraws. A long
    subtitle is wrapped (plotly does not wrap titles)."""
    lines = textwrap.wrap(subtitle or "", SUBTITLE_CHARS)
    fig.update_layout(title={"text": title, "subtitle": {"text": "<br>".join(lines)}}, xaxis_title=x_title,
                      yaxis_title=y_title, showlegend=True, uirevision="keep", margin={"t": 70 + 16 * len(lines)})
    return white(fig)


def _axis(ax) -> dict:
    return {k: v for k, v in ax.to_plotly_json().items() if k not in _OWN}


def grid(figs: Sequence[go.Figure], titles: Sequence[str] | None = None, cols: int = 2, shared: bool = True,
         title: str | None = None, row_height: int | None = None) -> go.Figure:
    """Small multiples: every figure's traces and axis settings copied into one cell of a
    rows x `cols` grid (3-D figures get a 3-D cell). `shared`: all 2-D cells share x and y
    ranges (zooming one zooms all; meant for the same view of several runs) and colour scales
    are unified (one colour bar, min and max over all panels). Legend entries with the same
    name are grouped, shown once, and toggle together. `titles` default to the figures' titles;
    `row_height` (pixels) defaults to 360, or 480 when a cell is 3-D."""
    n = len(figs)
    rows = max(1, math.ceil(n / cols))
    is3d = [any(t.type in _3D for t in f.data) for f in figs]
    specs = [[({"type": "scene"} if is3d[r * cols + c] else {}) if r * cols + c < n else None for c in range(cols)]
             for r in range(rows)]
    titles = list(titles) if titles is not None else [f.layout.title.text or "" for f in figs]
    out = make_subplots(rows, cols, specs=specs, subplot_titles=titles, shared_xaxes="all" if shared else False,
                        shared_yaxes="all" if shared else False, horizontal_spacing=0.08,
                        vertical_spacing=min(0.15, 0.3 / rows))
    seen: set[str] = set()
    for k, fig in enumerate(figs):
        r, c = k // cols + 1, k % cols + 1
        for trace in fig.data:
            trace = copied(trace).data[0]
            name = trace.name or ""
            trace.legendgroup = trace.legendgroup or name
            if name in seen:
                trace.showlegend = False
            seen.add(name)
            out.add_trace(trace, row=r, col=c)
        cell = out.get_subplot(r, c)
        if is3d[k]:
            cell.update(_axis(fig.layout.scene))
            continue
        x, y = _axis(fig.layout.xaxis), _axis(fig.layout.yaxis)
        if shared and k + cols < n:  # the cell below shows the shared x title
            x.pop("title", None)
        if c > 1 and (shared or y.get("title") == _axis(figs[k - c + 1].layout.yaxis).get("title")):
            y.pop("title", None)  # the row's first cell names it (in large letters it ran into the cell on its left)
        if y.get("scaleanchor") == "x":  # "y scales with x" means this cell's own x, not the first cell's
            y["scaleanchor"] = cell.xaxis.plotly_name.replace("axis", "")
        cell.xaxis.update(x)
        cell.yaxis.update(y)
    if shared:
        _unify_colour_scales(out)
        for axis, span in _fit_ranges([plain(f) for f, d3 in zip(figs, is3d) if not d3]).items():
            {"xaxis": out.update_xaxes, "yaxis": out.update_yaxes}[axis](range=span, autorange=False)
    white(out).update_layout(title=title or "", showlegend=True, uirevision="keep",
                             height=(row_height or (480 if any(is3d) else 360)) * rows + 80, legend={**BELOW, "y": -0.3 / rows})
    return out


LEGEND_BELOW_MAX = 6  # entries a legend under a half-width plot holds in a row or two; a class legend stays aside


def side_by_side(figs: Sequence[go.Figure | dict], shared: bool = True) -> list[dict]:
    """`figs` as plain figure dicts ({"data", "layout"}) made ready to be drawn next to each other in
    narrow columns: short legends under the plots (a class legend keeps its column), and with
    `shared`, when every figure is one 2-D plot, the same axis ranges for all (`_fit_ranges`), so a
    difference between the pictures is a difference between the runs. Several are marked
    `SIDE_BY_SIDE`: the same view of several runs stays side by side in projector mode too
    (`ui.widgets.figure_columns`), styled for half width there (`lab.figures.theme.styled_spec`).
    Each gets a new layout; the traces are the figures' own (read them, never change them): a
    validated `go.Figure` copy took ~25 ms a figure, twice for every figure of a player frame."""
    specs = [plain(f) for f in figs]
    single = all(not any(t.get("type") in _3D for t in s["data"]) and not any(k in s["layout"] for k in ("xaxis2", "yaxis2"))
                 for s in specs)
    ranges = _fit_ranges(specs) if shared and single else {}
    for spec in specs:
        layout = spec["layout"]
        if len(specs) > 1:
            layout["meta"] = {**(layout.get("meta") if isinstance(layout.get("meta"), dict) else {}),
                              SIDE_BY_SIDE: len(specs)}
        if sum(t.get("showlegend") is not False for t in spec["data"]) <= LEGEND_BELOW_MAX:
            layout["legend"] = {**(layout.get("legend") or {}), **BELOW}
        for axis, span in ranges.items():
            layout[axis] = {**(layout.get(axis) or {}), "range": span, "autorange": False}
    return specs


def _span(values) -> list[float] | None:
    """[min, max] of the finite numbers among `values`, None when there are none (categories)."""
    if values is None:
        return None
    try:
        a = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    a = a[np.isfinite(a)]
    return [float(a.min()), float(a.max())] if len(a) else None


def _fit_ranges(specs: Sequence[dict]) -> dict[str, list[float]]:
    """Shared axes that fit every panel ({"xaxis"/"yaxis": [lo, hi]} of plain figure dicts): where each
    panel either fixes an axis's range or has numeric data on it in every trace, all panels get the
    union of those ranges and extents (5% padding; a bar's value axis includes 0, where its bars
    start), so no panel is clipped by another's range; otherwise the axis is left out (it
    autoranges over all)."""
    out = {}
    for axis in ("x", "y"):
        spans: list[list[float]] = []
        for spec in specs:
            fixed = (spec["layout"].get(f"{axis}axis") or {}).get("range")
            traces = spec["data"]
            data = [_span(t.get(axis)) for t in traces]
            data += [[0.0, 0.0] for t in traces if t.get("type") == "bar" and axis == ("y" if t.get("orientation") != "h" else "x")]
            if fixed is None and (not data or None in data):
                break  # a histogram's counts or a category axis: leave it to plotly's shared autorange
            spans += ([list(fixed)] if fixed is not None else []) + [d for d in data if d is not None]
        else:
            if spans:
                lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
                pad = 0.05 * (hi - lo or 1.0)
                out[f"{axis}axis"] = [lo - pad, hi + pad]
    return out


def _unify_colour_scales(fig: go.Figure) -> None:
    """Every marker colour scale spans the range of all panels; only the first colour bar shows."""
    markers = [t.marker for t in fig.data if "marker" in t]
    scaled = [m for m in markers if m.cmin is not None and m.cmax is not None]
    if scaled:
        lo, hi = min(m.cmin for m in scaled), max(m.cmax for m in scaled)
        for m in scaled:
            m.update(cmin=lo, cmax=hi)
    bars = [m for m in markers if m.showscale] + [t for t in fig.data if "showscale" in t and t.showscale is not False]
    for i, bar in enumerate(bars):  # a heatmap's showscale None means shown
        bar.showscale = i == 0
