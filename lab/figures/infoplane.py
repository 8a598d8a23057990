"""The information plane: each hidden layer a path of (I(X;T), I(T;Y)) over epochs, and
both informations against epoch (bits; series from `lab.readout.series.mi_series`)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lab.figures.grid import BELOW, styled
from lab.figures.palette import color

SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")


def information_plane(series: dict[str, dict], title: str = "Information plane", note: str | None = None,
                      ceilings: tuple[float, float] | None = None) -> go.Figure:
    """One path per layer (line in the layer's colour, markers coloured by epoch on one
    shared scale with one colour bar); `note` (e.g. `binning_caveat`) becomes the subtitle;
    `ceilings` = (log2 n, H(Y)) from `mi_ceilings` are drawn as dotted lines, where the
    estimates saturate."""
    epochs = np.concatenate([np.asarray(v["epoch"]) for v in series.values()]) if series else np.zeros(1)
    traces = []
    for i, (layer, v) in enumerate(series.items()):
        traces.append(go.Scatter(
            x=v["ixt"], y=v["ity"], name=layer, mode="lines+markers", line={"color": color(i)}, customdata=v["epoch"],
            marker={"color": v["epoch"], "colorscale": "Viridis", "cmin": epochs.min(), "cmax": epochs.max(),
                    "size": 9, "symbol": SYMBOLS[i % len(SYMBOLS)], "line": {"color": color(i), "width": 1},
                    "showscale": i == 0, "colorbar": {"title": {"text": "epoch"}}},
            hovertemplate="epoch %{customdata}<br>I(X;T) %{x:.2f} bits<br>I(T;Y) %{y:.2f} bits<extra>" + layer
                          + "</extra>"))
    fig = styled(go.Figure(traces), title, "I(X;T) (bits)", "I(T;Y) (bits)", note)
    fig.update_xaxes(rangemode="tozero").update_yaxes(rangemode="tozero")  # also when every point saturates
    if ceilings is not None:
        fig.add_vline(x=ceilings[0], line={"dash": "dot", "color": "gray"}, annotation_text="log2 n", annotation_position="bottom left")
        fig.add_hline(y=ceilings[1], line={"dash": "dot", "color": "gray"}, annotation_text="H(Y)")
    return fig.update_layout(legend=BELOW)  # the right edge holds the colour bar


def mi_curves(series: dict[str, dict], title: str = "Mutual information per layer",
              note: str | None = None) -> go.Figure:
    """I(X;T) (solid) and I(T;Y) (dashed) of each layer against epoch."""
    traces = [go.Scatter(x=v["epoch"], y=v[key], name=f"{layer} {label}", legendgroup=layer, mode="lines+markers",
                         line={"color": color(i), "dash": dash})
              for i, (layer, v) in enumerate(series.items())
              for key, label, dash in (("ixt", "I(X;T)", None), ("ity", "I(T;Y)", "dash"))]
    return styled(go.Figure(traces), title, "epoch", "mutual information (bits)", note)
