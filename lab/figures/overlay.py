"""One metric of several runs against epoch on one plot: a colour per method
(`palette.method_color`), a dash style per seed within a method (`palette.dash`)."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from lab.figures.grid import styled
from lab.figures.palette import dash, method_color


def overlay_curves(runs: Sequence[tuple[str, str, Sequence[dict]]], key: str, title: str,
                   y_title: str) -> go.Figure:
    """`key` of each run's history (per-epoch dicts) against epoch; `runs` holds (label, method,
    history). The i-th run of a method gets the i-th dash. Accuracies keep the fixed range [0, 1],
    so the empty plot of a starting run looks right."""
    seen: dict[str, int] = {}
    traces = []
    for label, method, history in runs:
        i = seen[method] = seen.get(method, -1) + 1
        traces.append(go.Scatter(x=[h["epoch"] for h in history], y=[h.get(key) for h in history], name=label,
                                 mode="lines+markers", line={"color": method_color(method), "dash": dash(i)}))
    fig = styled(go.Figure(traces), title, "epoch", y_title)
    return fig.update_yaxes(range=[0, 1.02]) if key.endswith("_acc") else fig
