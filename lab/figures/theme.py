"""How the app presents a figure: a light or dark plotly template, and projector mode (text
`PROJECTOR` times larger; titles, already large and not wrapped by plotly, half as much more, so a
half-width figure's title still fits), applied to a copy so a builder's figure is never changed;
the same copy is drawn, saved as PNG from the modebar and exported as HTML."""
from __future__ import annotations

from functools import lru_cache

import plotly.graph_objects as go

TEMPLATES = {False: "plotly_white", True: "plotly_dark"}
DARK_BACKGROUND = "rgb(17,17,17)"  # plotly_dark's paper colour, also the app's background in dark mode
FONT, TITLE_FONT = 13, 17  # px
PROJECTOR = 1.6  # font and title-margin scale in projector mode
TITLE_MARGIN, BARE_MARGIN = 80, 40  # px above the plot area, with and without a title
PLOTLY_HEIGHT, TALLER = 450, 1.3  # plotly's default figure height (px); its scale in projector mode
AXIS_TITLE_CHARS = 32  # an axis title longer than this is broken in two in projector mode (plotly never wraps)
TITLE_CHARS = 34  # a title longer than this is broken in two in projector mode: the most a half-width figure
# showed at 1400 px (it clipped "hidden_1, epoch 20: intra 0.90, inter 0." at its 38th character)


def wrapped(text: str | None, width: int = AXIS_TITLE_CHARS) -> str | None:
    """`text` broken once with <br> at the space nearest its middle when longer than `width`."""
    if not text or len(text) <= width or "<br>" in text or " " not in text:
        return text
    middle = len(text) // 2
    cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - middle))
    return f"{text[:cut]}<br>{text[cut + 1:]}"


@lru_cache(maxsize=2)
def _template(dark: bool) -> dict:
    """The plotly template as plain JSON, built once (setting it by name costs ~20 ms a figure)."""
    import plotly.io as pio

    return pio.templates[TEMPLATES[dark]].to_plotly_json()


def styled_spec(fig: go.Figure | dict, dark: bool = False, projector: bool = False) -> dict:
    """`fig` as a new plain figure dict {"data", "layout"} with the light or dark template, fonts of
    FONT px (x PROJECTOR in projector mode), titles of TITLE_FONT px (x (1 + PROJECTOR) / 2), a top
    margin that holds the title at that size (the builder's, when larger), and in projector mode long
    titles and axis titles on two lines, a legend under the plot further down, and the figure
    `TALLER`. Plain dicts, not a validated copy of the figure: the app styles every figure of every
    player frame, and a `go.Figure` copy with its template took ~60 ms a figure.
    The template dict is shared between figures: read it, never change it."""
    d = fig.to_dict() if isinstance(fig, go.Figure) else fig
    layout = dict(d.get("layout", {}))
    scale, title_scale = (PROJECTOR, (1 + PROJECTOR) / 2) if projector else (1.0, 1.0)
    title = layout.get("title")
    title = dict(title) if isinstance(title, dict) else ({"text": title} if title else {})
    top = max((layout.get("margin") or {}).get("t") or 0, TITLE_MARGIN if title.get("text") else BARE_MARGIN)
    if projector:  # large letters: long titles on two lines, or a half-width figure clips them
        if (text := wrapped(title.get("text"), TITLE_CHARS)) != title.get("text"):
            title, top = {**title, "text": text}, top + round(TITLE_FONT * 1.2)  # room for the second line
        for name, axis in list(layout.items()):
            if name.startswith(("xaxis", "yaxis")) and isinstance((axis or {}).get("title"), dict):
                layout[name] = {**axis, "title": {**axis["title"], "text": wrapped(axis["title"].get("text"))}}
        layout["height"] = round((layout.get("height") or PLOTLY_HEIGHT) * TALLER)  # the larger text needs room
        if layout.get("annotations"):  # subplot titles and labels: sized by their builder, scaled like the rest
            layout["annotations"] = [{**a, "font": {**a["font"], "size": round(a["font"]["size"] * scale)}}
                                     if (a.get("font") or {}).get("size") else a for a in layout["annotations"]]
        legend = layout.get("legend") or {}
        if legend.get("orientation") == "h" and (legend.get("y") or 0) < 0:  # under the plot: below the axis title
            layout["legend"] = {**legend, "y": legend["y"] * 2}
    if dark:  # a builder's black or dark-grey marks (reference lines, outlines) would vanish on the dark paper
        layout = {k: _lightened(v) if k in ("shapes", "annotations") else v for k, v in layout.items()}
        d = {**d, "data": [_lightened(t) for t in d.get("data", [])]}
    layout.update(template=_template(dark), font={**(layout.get("font") or {}), "size": round(FONT * scale)},
                  title={**title, "font": {**(title.get("font") or {}), "size": round(TITLE_FONT * title_scale)}},
                  margin={**(layout.get("margin") or {}), "t": round(top * title_scale)})
    return {"data": d.get("data", []), "layout": layout}


DARK_MARKS = {"black", "#000", "#000000", "rgb(0,0,0)", "#111", "#222", "#333", "#444", "#555", "#666"}
LIGHT_MARK = "#d8d8d8"  # what a dark mark becomes on the dark paper (contrast 12:1 on rgb(17,17,17))


def _lightened(value):
    """`value` (a trace, shape or annotation, or a list of them) with every dark `color` a
    `LIGHT_MARK`, walking dicts and lists of dicts only (arrays of numbers are left untouched)."""
    if isinstance(value, list):
        return [_lightened(v) for v in value] if value and isinstance(value[0], dict) else value
    if not isinstance(value, dict):
        return value
    return {k: (LIGHT_MARK if k.endswith("color") and isinstance(v, str) and v.replace(" ", "").lower() in DARK_MARKS
                else _lightened(v) if isinstance(v, (dict, list)) else v) for k, v in value.items()}


def styled(fig: go.Figure | dict, dark: bool = False, projector: bool = False) -> go.Figure:
    """`styled_spec` as a new `go.Figure` (the builder's figure is never changed)."""
    return go.Figure(styled_spec(fig, dark, projector))
