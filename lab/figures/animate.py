"""Figures animated over epochs: Play/Pause and an epoch slider over frames named by epoch (the
one declaration of these controls), and `animated`, which folds one figure per epoch into one
figure whose frames hold only what changes between epochs."""
from __future__ import annotations

import json
from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from lab.figures.theme import plain

FRAME_MS = 400  # how long Play shows each epoch
_NOT_FRAMED = {"template", "sliders", "updatemenus"}  # layout entries a frame never changes
LEGEND = {"orientation": "v", "x": 1.02, "y": 1}  # beside the plot: below it are the slider and the buttons
BELOW_PX = 170  # bottom margin that holds the x axis's title, then the slider and the buttons


def controls(epochs: Sequence[int], active: int, frame_ms: int = FRAME_MS) -> dict[str, Any]:
    """Layout entries `updatemenus` (Play, Pause) and `sliders` (one step per epoch, `active` the
    index shown first) for frames named `str(epoch)`, below the plot (a `BELOW_PX` bottom margin
    holds them); Play runs from the shown epoch on, or from
    the first when the last is shown."""
    play = {"frame": {"duration": frame_ms, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    return {"updatemenus": [{"type": "buttons", "direction": "left", "x": 0, "y": 0, "xanchor": "left",
                             "yanchor": "top", "pad": {"t": 95}, "buttons": [{"label": "Play", "method": "animate", "args": [None, play]},
                                                           {"label": "Pause", "method": "animate",
                                                            "args": [[None], still]}]}],
            "sliders": [{"active": active, "x": 0.15, "len": 0.85, "y": 0, "yanchor": "top", "pad": {"t": 70},
                         "currentvalue": {"prefix": "epoch "},
                         "steps": [{"label": str(e), "method": "animate", "args": [[str(e)], still]} for e in epochs]}]}


def _text(value: Any) -> str:
    return json.dumps(value, cls=PlotlyJSONEncoder, sort_keys=True)


def animated(figs: Sequence[go.Figure | dict], epochs: Sequence[int], frame_ms: int = FRAME_MS) -> dict[str, Any]:
    """One figure (a plain dict, ready for JSON) of `figs[i]` drawn at `epochs[i]`: the last
    epoch's figure shown, with `controls` and the legend beside the plot, and one frame per epoch. A frame lists only the
    traces and layout entries that differ between epochs (a sphere drawn in every epoch is
    written once); every figure must have as many traces as the first."""
    if len(figs) != len(epochs) or not figs:
        raise ValueError(f"animated needs one figure per epoch; got {len(figs)} figures, {len(epochs)} epochs")
    specs = [plain(f) for f in figs]
    data = [s["data"] for s in specs]
    if len({len(d) for d in data}) > 1:
        raise ValueError(f"every epoch's figure must have the same traces; got {sorted({len(d) for d in data})}")
    layouts = [{k: v for k, v in s["layout"].items() if k not in _NOT_FRAMED} for s in specs]
    moving = [i for i in range(len(data[0])) if len({_text(d[i]) for d in data}) > 1]
    keys = sorted({k for lay in layouts for k in lay})
    changing = [k for k in keys if len({_text(lay.get(k)) for lay in layouts}) > 1]
    frames = [{"name": str(e), "traces": moving, "data": [d[i] for i in moving],
               "layout": {k: lay.get(k) for k in changing}} for e, d, lay in zip(epochs, data, layouts)]
    layout = {**specs[-1]["layout"], **controls(epochs, len(epochs) - 1, frame_ms)}
    margin = layout.get("margin") or {}
    layout["margin"] = {**margin, "b": BELOW_PX}
    layout["height"] = (layout.get("height") or 450) + BELOW_PX - 80  # plotly's default: 450 px, 80 below
    layout["legend"] = {**(layout.get("legend") or {}), **LEGEND}
    return {"data": data[-1], "layout": layout, "frames": frames}
