"""How the app presents a figure: a light or dark plotly template, and projector mode (text
`PROJECTOR` times larger; titles, already large and not wrapped by plotly, half as much more, so a
half-width figure's title still fits), applied to a copy so a builder's figure is never changed;
the same copy is drawn, saved as PNG from the modebar and exported as HTML.

In projector mode the top margin is computed from what it holds (title lines, subtitle lines at
`SUBTITLE_FONT`, subplot titles above the top row), so no title runs into another; tick labels
stand off their axes (the corner labels of x and y met); and a figure marked `SIDE_BY_SIDE` (by
`lab.figures.grid.side_by_side`: one of several runs' same view, drawn in half-width columns even
in projector mode) gets fewer ticks and thin side margins, so its plot area stays usable."""
from __future__ import annotations

import textwrap
import threading
from functools import lru_cache

import plotly.graph_objects as go

TEMPLATES = {False: "plotly_white", True: "plotly_dark"}
DARK_BACKGROUND = "rgb(17,17,17)"  # plotly_dark's paper colour, also the app's background in dark mode
FONT, TITLE_FONT = 13, 17  # px
PROJECTOR = 1.6  # font and title-margin scale in projector mode
TITLE_MARGIN, BARE_MARGIN = 80, 40  # px above the plot area, with and without a title
PLOTLY_HEIGHT, TALLER = 450, 1.3  # plotly's default figure height (px); its scale in projector mode
AXIS_TITLE_CHARS = 26  # an axis title longer than this is broken in two in projector mode (plotly never wraps;
# a 27-character y title of Geometry's small multiples ran past its axis into the panel title above)
TITLE_CHARS = 34  # a title longer than this is broken in two in projector mode: the most a half-width figure
# showed at 1400 px (it clipped "hidden_1, epoch 20: intra 0.90, inter 0." at its 38th character)
SUBTITLE_FONT = 11  # px; x PROJECTOR in projector mode (plotly's own subtitle size, ~11 px, was too small there)
SUBTITLE_CHARS = 44  # characters per subtitle line in projector mode: what a half-width figure holds at that size
TICK_STANDOFF = 8  # px between tick labels and their axis in projector mode (x "-1" ran into y "0" at the corner)
SIDE_BY_SIDE = "reglab_side_by_side"  # layout.meta key: the figure is drawn in one of several narrow columns
NARROW_TICKS, NARROW_SIDE = 5, 12  # a side-by-side figure's most ticks per axis and its left/right margin (px)
NARROW_PROJECTOR = 1.35  # the font scale of a side-by-side figure in projector mode (its column is ~420 px at 1400 px:
# at 1.6 the phantom lesson's tick labels ran into each other and a class legend beside the plot left it no width)
LEGEND_COLUMNS = 3  # columns of a legend moved under a half-width plot, at most
HEAD_SHIFT = 6  # px a subplot title is raised in projector mode (the top tick label of its cell ran into it)
NARROW_WIDTH = 380  # px a side-by-side figure's legend has for its rows (its column is ~420 px at 1400 px)


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


def white(fig: go.Figure) -> go.Figure:
    """`fig` with the plotly_white template, set the way plotly sets its default template (its
    `BaseFigure._initialize_layout_template`): without validating the template again. By name it cost
    10 ms a figure here, this way 1.3 ms; the figure's JSON is the same."""
    import plotly.io as pio

    layout = fig.layout
    layout._validate = False  # noqa: SLF001
    try:
        layout.template = pio.templates[TEMPLATES[False]]
    finally:
        layout._validate = fig._validate  # noqa: SLF001
    return fig


# The app's caches hand one figure to every session that asks; plotly figures are not safe to read
# from two threads at once (measured: 8 tabs pressing one lesson, 3 failed with "Invalid property
# 'colorscale' for Scatter" while copying the same cached heatmap), so copies are made one at a time.
_READING = threading.Lock()


def copied(fig: go.Figure | dict) -> go.Figure:
    """A new figure equal to `fig` (which other threads may be reading)."""
    with _READING:
        return go.Figure(fig)


def plain(fig: go.Figure | dict) -> dict:
    """{"data": the figure's traces, "layout": a shallow copy of its layout}, the traces not copied
    (a `go.Figure`'s own property dicts, shared with other readers: read them, never change them;
    `to_dict` deep-copies)."""
    with _READING:
        if isinstance(fig, go.Figure):
            return {"data": list(fig._data), "layout": dict(fig._layout)}  # noqa: SLF001
        return {"data": list(fig.get("data", [])), "layout": dict(fig.get("layout", {}))}


def styled_spec(fig: go.Figure | dict, dark: bool = False, projector: bool = False) -> dict:
    """`fig` as a new plain figure dict {"data", "layout"} with the light or dark template, fonts of
    FONT px (x PROJECTOR in projector mode), titles of TITLE_FONT px (x (1 + PROJECTOR) / 2), a top
    margin that holds the title at that size (the builder's, when larger), and in projector mode long
    titles and axis titles on two lines, a legend under the plot further down, and the figure
    `TALLER`. Plain dicts, not a validated copy of the figure: the app styles every figure of every
    player frame, and a `go.Figure` copy with its template took ~60 ms a figure.
    The template dict is shared between figures: read it, never change it."""
    with _READING:
        d = fig.to_dict() if isinstance(fig, go.Figure) else fig
    layout = dict(d.get("layout", {}))
    narrow = projector and side_by_side_marked(d)
    big = NARROW_PROJECTOR if narrow else PROJECTOR
    scale, title_scale = (big, (1 + big) / 2) if projector else (1.0, 1.0)
    title = layout.get("title")
    title = dict(title) if isinstance(title, dict) else ({"text": title} if title else {})
    top = max((layout.get("margin") or {}).get("t") or 0, TITLE_MARGIN if title.get("text") else BARE_MARGIN)
    if projector:  # large letters: long titles on two lines, or a half-width figure clips them
        title = {**title, "text": wrapped(title.get("text"), TITLE_CHARS)}
        for name, axis in list(layout.items()):
            if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
                layout[name] = _projector_axis(axis, narrow)
        layout["height"] = round((layout.get("height") or PLOTLY_HEIGHT) * TALLER)  # the larger text needs room
        if layout.get("annotations"):  # subplot titles and labels: sized by their builder, scaled like the rest but
            # never above the text size (make_subplots' 16 px titles became 26 px and ran into each other)
            layout["annotations"] = [{**a, "font": {**a["font"], "size": round(min(a["font"]["size"], FONT) * scale)}}
                                     if (a.get("font") or {}).get("size") else a for a in layout["annotations"]]
            layout["annotations"] = [{**a, "yshift": HEAD_SHIFT} if _head(a) and "yshift" not in a else a
                                     for a in layout["annotations"]]  # off the top tick label of the cell below
        legend = layout.get("legend") or {}
        aside = narrow and legend.get("orientation") != "h" and layout.get("showlegend") is not False
        if legend.get("orientation") == "h" and (legend.get("y") or 0) < 0:  # under the plot: below the axis title
            layout["legend"] = {**legend, "y": legend["y"] * (2.5 if narrow else 2)}  # a narrow one's title wraps
        title, top = _title_block(title, layout, big)
        if narrow:  # half width: every pixel to the plot (colour bars and legends push the margin as they need)
            layout["margin"] = {**(layout.get("margin") or {}), "l": NARROW_SIDE, "r": NARROW_SIDE}
        if aside:  # a legend beside a half-width plot took all its width: under it, in rows, the figure taller
            d = {**d, "data": _legend_under(layout, d.get("data", []), top, round(FONT * scale))}
    if dark:  # a builder's black or dark-grey marks (reference lines, outlines) would vanish on the dark paper
        layout = {k: _lightened(v) if k in ("shapes", "annotations") else v for k, v in layout.items()}
        d = {**d, "data": [_lightened(t) for t in d.get("data", [])]}
    layout.update(template=_template(dark), font={**(layout.get("font") or {}), "size": round(FONT * scale)},
                  title={**title, "font": {**(title.get("font") or {}), "size": round(TITLE_FONT * title_scale)}},
                  margin={**(layout.get("margin") or {}), "t": top if projector else round(top * title_scale)})
    return {"data": d.get("data", []), "layout": layout}


def side_by_side_marked(fig: go.Figure | dict | None) -> bool:
    """Whether `fig` is one of several runs' same view (`lab.figures.grid.side_by_side`)."""
    meta = fig.layout.meta if isinstance(fig, go.Figure) else (fig or {}).get("layout", {}).get("meta")
    return isinstance(meta, dict) and bool(meta.get(SIDE_BY_SIDE))


def _projector_axis(axis: dict, narrow: bool) -> dict:
    """A 2-D axis in projector mode: a long title on two lines, tick labels standing off the axis,
    and, `narrow`, at most `NARROW_TICKS` ticks (where plotly picks them)."""
    axis = dict(axis)
    if isinstance(axis.get("title"), dict):
        axis["title"] = {**axis["title"], "text": wrapped(axis["title"].get("text"))}
    axis.setdefault("ticklabelstandoff", TICK_STANDOFF)
    if narrow and axis.get("tickvals") is None and axis.get("dtick") is None:
        axis["nticks"] = min(axis.get("nticks") or NARROW_TICKS, NARROW_TICKS)
    if narrow and axis.get("type") == "category":  # names (layers, classes) upright ran into each other
        axis.setdefault("tickangle", -90)
    return axis


def _legend_under(layout: dict, data: list[dict], top: int, font: int) -> list[dict]:
    """Put `layout`'s legend under the plot of a side-by-side figure, in `LEGEND_COLUMNS` columns of
    `NARROW_WIDTH` (fewer when a word of a name would not fit one; plotly aligns a wrapping legend's entries in columns as wide as its widest one:
    one long name made it one entry a row), names wrapped to fit, below the x tick labels and title;
    the bottom margin and the figure's height grow by what it takes, so the plot keeps its height
    (positions are fractions of it). The traces, with their names wrapped."""
    def fits(columns: int) -> int:  # characters a name may have per line in one of `columns` columns
        return int((NARROW_WIDTH / columns - 45) / (0.65 * font))

    longest = max((len(w) for t in data for w in str(t.get("name") or "").split()), default=0)
    columns = next(c for c in range(LEGEND_COLUMNS, 0, -1) if c == 1 or longest <= fits(c))
    data = [{**t, "name": "<br>".join(textwrap.wrap(str(t["name"]), fits(columns), break_long_words=False))}
            if t.get("name") else t for t in data]
    seen, lines = set(), []
    for t in data:
        if t.get("showlegend") is not False and t.get("name") and (t.get("legendgroup") or t["name"]) not in seen:
            seen.add(t.get("legendgroup") or t["name"])
            lines.append(t["name"].count("<br>") + 1)
    rows = [max(lines[i:i + columns]) for i in range(0, len(lines), columns)]
    legend_px = sum(rows) * font * 1.35 + 12
    axis = layout.get("xaxis") or {}
    title_lines = 1 + str((axis.get("title") or {}).get("text") or "").count("<br>")
    below_px = TICK_STANDOFF + font * 1.4 * (1 + title_lines) + 10  # tick labels and the x title
    bottom = (layout.get("margin") or {}).get("b") or 80
    plot_px = layout["height"] - top - bottom
    layout["height"] = round(layout["height"] + below_px + legend_px - bottom + 10)
    layout["margin"] = {**layout["margin"], "b": round(below_px + legend_px + 10)}
    layout["legend"] = {**(layout.get("legend") or {}), "orientation": "h", "traceorder": "normal", "x": 0,
                        "xanchor": "left", "y": -below_px / plot_px, "yanchor": "top",
                        "entrywidthmode": "fraction", "entrywidth": 1 / columns}
    return data


def _head(annotation: dict) -> bool:
    """Whether `annotation` is a subplot title (make_subplots': just above its cell)."""
    return annotation.get("yref") == "paper" and annotation.get("yanchor") == "bottom"


def _title_block(title: dict, layout: dict, scale: float = PROJECTOR) -> tuple[dict, int]:
    """The title pinned near the top of the figure and the top margin (px) that holds it, its
    subtitle (re-wrapped to `SUBTITLE_CHARS` at `SUBTITLE_FONT` x `scale`) and the subplot titles
    above the top row; builders' margins were sized for small letters."""
    size, sub_size = round(TITLE_FONT * (1 + scale) / 2), round(SUBTITLE_FONT * scale)
    sub = dict(title.get("subtitle") or {})
    lines = textwrap.wrap((sub.get("text") or "").replace("<br>", " "), SUBTITLE_CHARS)
    top = 10 + (title.get("text") or "").count("<br>") * size * 1.25 + (size * 1.25 + 16 if title.get("text") else 0)
    if lines:
        sub = {**sub, "text": "<br>".join(lines), "font": {**(sub.get("font") or {}), "size": sub_size}}
        top += len(lines) * sub_size * 1.3 + 14  # + room below it: its last line touched the panel titles by 4 px in one run
    heads = [a for a in layout.get("annotations") or [] if _head(a) and (a.get("y") or 0) >= 0.98]  # the top row's
    top += max([(a.get("font") or {}).get("size") or FONT * scale for a in heads], default=0) * 1.4
    height = layout["height"]
    extra = (title.get("text") or "").count("<br>") * size * 1.25  # plotly sets a title's later lines above its anchor
    pinned = {"y": 1 - (8 + extra) / height, "yref": "container", "yanchor": "top"} if title.get("text") else {}
    least = round(TITLE_MARGIN * (1 + scale) / 2 + extra) if title.get("text") else BARE_MARGIN  # as small letters had it
    return {**title, **pinned, **({"subtitle": sub} if lines else {})}, max(round(top), least)


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
