"""Several runs against epoch on one plot: a colour per method (`palette.method_color`), a dash
per seed (`palette.seed_dashes`), the same in every chart."""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import plotly.graph_objects as go

from lab.figures.grid import styled
from lab.figures.palette import method_color, seed_dashes


class Line(NamedTuple):
    """One run's curve: its legend label, method and seed (for the colour and the dash) and its
    points: per-epoch dicts (a history) or a series {"epoch": ..., key: ...}."""

    label: str
    method: str
    seed: int
    points: Sequence[dict] | Mapping[str, Sequence]


def _xy(points: Sequence[dict] | Mapping[str, Sequence], key: str) -> tuple[list, list]:
    if isinstance(points, Mapping):
        return list(points["epoch"]), list(points[key]) if key in points else []
    return [h["epoch"] for h in points], [h.get(key) for h in points]


def overlay_curves(lines: Sequence[Line], key: str, title: str, y_title: str) -> go.Figure:
    """`key` of every run against epoch. Accuracies keep the fixed range [0, 1], so the empty plot
    of a starting run looks right."""
    dashes = seed_dashes(line.seed for line in lines)
    traces = []
    for line in lines:
        x, y = _xy(line.points, key)
        traces.append(go.Scatter(x=x, y=y, name=line.label, mode="lines+markers",
                                 line={"color": method_color(line.method), "dash": dashes[line.seed]}))
    fig = styled(go.Figure(traces), title, "epoch", y_title)
    return fig.update_yaxes(range=[0, 1.02]) if key.endswith("_acc") else fig
