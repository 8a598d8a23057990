"""How the app presents a figure: a light or dark plotly template, and projector mode (text
`PROJECTOR` times larger; titles, already large and not wrapped by plotly, half as much more, so a
half-width figure's title still fits), applied to a copy so a builder's figure is never changed;
the same copy is drawn, saved as PNG from the modebar and exported as HTML."""
from __future__ import annotations

import plotly.graph_objects as go

TEMPLATES = {False: "plotly_white", True: "plotly_dark"}
DARK_BACKGROUND = "rgb(17,17,17)"  # plotly_dark's paper colour, also the app's background in dark mode
FONT, TITLE_FONT = 13, 17  # px
PROJECTOR = 1.6  # font and title-margin scale in projector mode
TITLE_MARGIN, BARE_MARGIN = 80, 40  # px above the plot area, with and without a title
AXIS_TITLE_CHARS = 32  # an axis title longer than this is broken in two in projector mode (plotly never wraps)


def wrapped(text: str | None, width: int = AXIS_TITLE_CHARS) -> str | None:
    """`text` broken once with <br> at the space nearest its middle when longer than `width`."""
    if not text or len(text) <= width or "<br>" in text or " " not in text:
        return text
    middle = len(text) // 2
    cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - middle))
    return f"{text[:cut]}<br>{text[cut + 1:]}"


def styled(fig: go.Figure, dark: bool = False, projector: bool = False) -> go.Figure:
    """A copy of `fig` with the light or dark template, fonts of FONT px (x PROJECTOR in projector
    mode), titles of TITLE_FONT px (x (1 + PROJECTOR) / 2), a top margin that holds the title at
    that size (the builder's, when larger), and in projector mode long axis titles on two lines."""
    out = go.Figure(fig)
    scale, title_scale = (PROJECTOR, (1 + PROJECTOR) / 2) if projector else (1.0, 1.0)
    top = max(out.layout.margin.t or 0, TITLE_MARGIN if out.layout.title.text else BARE_MARGIN)
    if projector:  # large letters: long axis titles on two lines, or a half-width figure clips them
        out.for_each_xaxis(lambda ax: ax.update(title_text=wrapped(ax.title.text)))
        out.for_each_yaxis(lambda ax: ax.update(title_text=wrapped(ax.title.text)))
    return out.update_layout(template=TEMPLATES[dark], font_size=round(FONT * scale),
                             title_font_size=round(TITLE_FONT * title_scale), margin_t=round(top * title_scale))
