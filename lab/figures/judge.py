"""Paired differences against CE, for Compare: per group of runs, one dot per seed (the group's
value minus CE's on the same seed), its mean as a bar, zero as the line of no difference, and the
verdict of `lab.stats.judge` beside each group's name."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from lab.figures.grid import styled
from lab.figures.palette import method_color


def paired_differences(judgements: Sequence[dict], methods: dict[str, str], title: str, x_title: str) -> go.Figure:
    """`judgements`: rows of `lab.readout.judge.judge_runs` for one measure; `methods`: {group: its
    method} (colours)."""
    fig = go.Figure()
    rows = [f"{j['group']}<br><sup>{j['verdict']}</sup>" for j in judgements]
    for j, row in zip(judgements, rows):
        seeds, diffs = list(j["per_seed"]), list(j["per_seed"].values())
        c = method_color(methods[j["group"]])
        fig.add_trace(go.Scatter(x=diffs, y=[row] * len(diffs), mode="markers", name=j["group"],
                                 marker={"color": c, "size": 11, "line": {"width": 1, "color": "white"}},
                                 customdata=seeds, hovertemplate="seed %{customdata}: %{x:.4g}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[j["mean"]] * 2, y=[row] * 2, mode="markers", showlegend=False,
                                 marker={"symbol": "line-ns", "size": 26, "line": {"width": 3, "color": c}},
                                 hovertemplate=f"mean over {j['n']} seeds: %{{x:.4g}}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#555", "dash": "dash", "width": 1.5})
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=rows)
    styled(fig, title, x_title, "", subtitle="one dot per seed, the bar their mean; the dashed line: no difference "
                                             "from CE on the same seed")
    fig.update_yaxes(automargin=True, tickfont={"size": 14})
    return fig.update_layout(height=230 + 80 * len(rows), showlegend=False)
