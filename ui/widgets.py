"""Widgets and text shared by the pages: widgets generated from `Param` declarations, escaped
markdown, the "What am I looking at?" box, one-line errors, a figure with its PNG and HTML exports in
the session's presentation (light/dark, projector), and a copyable link."""
from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Iterator, Sequence

import plotly.graph_objects as go
import streamlit as st

from lab.figures.theme import DARK_BACKGROUND, PROJECTOR, styled_spec
from lab.html import figures_page
from lab.params import Choice, Flag, Interval, IntList, Param
from ui.plot import plot, preload as plot_preload

_MD = "\\`*_{}[]<>()#+-.!|~$"


def esc(text: Any) -> str:
    """`text` safe inside st.markdown: every markdown and HTML character backslash-escaped."""
    return "".join("\\" + ch if ch in _MD else ch for ch in str(text))


PREFETCH = "reglab-prefetch"  # the name of the player's background threads (`ui.player`), which show nothing


@contextmanager
def busy(message: str) -> Iterator[None]:
    """`st.spinner(message)` around slow work, except in the player's prefetch threads: they build
    a frame no one waits for yet, and must not draw into the page."""
    if threading.current_thread().name == PREFETCH:
        yield
        return
    with st.spinner(message):
        yield


def explain(text: str) -> None:
    """The "What am I looking at?" box of every page (markdown written by the page, not user input)."""
    with st.expander("What am I looking at?"):
        st.markdown(text)


def method_label(name: str) -> str:
    """A method's name as lists show it: a plug-in's is marked "(plug-in)"."""
    from lab.regularizers import REGISTRY

    reg = REGISTRY.get(name)
    return f"{name} (plug-in)" if reg is not None and reg.source is not None else name


def error(e: Exception | str) -> None:
    """A lab error as one escaped line (messages quote user input)."""
    st.error(esc(e))


def _step(value: float) -> float:
    return 10.0 ** math.floor(math.log10(abs(value))) if value else 0.1


def param_widget(p: Param, key: str, value: Any = None, label: str | None = None) -> Any:
    """One widget for one declared parameter: Interval -> number box, Choice -> select box, Flag ->
    checkbox, IntList and anything else -> text box. Returns the raw value; `lab.config.validate`
    checks it and its ConfigError (naming the field and its range) is what the page shows. Number
    boxes get no bounds: a bounded box would silently keep its last valid value instead. A value the
    page put in the session state (a run's or a link's settings) is the widget's, with no second
    default beside it (Streamlit warns in the server log when a widget gets both)."""
    c, value = p.constraint, p.default if value is None else value
    label, helptext = label or p.name.replace("_", " "), f"{p.help}; {c}"
    preset = key in st.session_state

    def initial(**kw: Any) -> dict:
        return {} if preset else kw

    if isinstance(c, Flag):
        return st.checkbox(label, key=key, help=helptext, **initial(value=bool(value)))
    if isinstance(c, Choice):
        options = list(c.options)
        return st.selectbox(label, options, key=key, help=helptext, **initial(index=options.index(value)))
    if isinstance(c, Interval):
        if c.type is int:
            return st.number_input(label, step=1, key=key, help=helptext, **initial(value=int(value)))
        return st.number_input(label, step=_step(value), format="%g", key=key, help=helptext,
                               **initial(value=float(value)))
    if isinstance(c, IntList):
        return st.text_input(label, key=key, help=helptext, **initial(value=",".join(map(str, value))))
    return st.text_input(label, key=key, help=helptext, **initial(value=str(value)))


def param_widgets(params: Sequence[Param], prefix: str, cols: int = 2) -> dict[str, Any]:
    """Widgets for a declaration list, laid out in `cols` columns; keys are `prefix.name`."""
    if not params:
        return {}
    columns, values = st.columns(cols), {}
    for i, p in enumerate(params):
        with columns[i % cols]:
            values[p.name] = param_widget(p, f"{prefix}.{p.name}")
    return values


DARK_KEY, PROJECTOR_KEY = "present.dark", "present.projector"  # the session's presentation toggles
_FIGURES = "_page_figures"  # {key: (name, styled figure)} drawn by this page run (fragment reruns replace)
_ALERTS = {"Success": ("61,213,109", "223,253,233"), "Info": ("61,157,243", "199,235,255"),  # tint, text
           "Warning": ("255,227,18", "255,255,194"), "Error": ("255,108,108", "255,222,222")}
_DARK_CSS = f"""<style>
.stApp, [data-testid="stHeader"], [data-testid="stSidebar"] > div {{ background-color: {DARK_BACKGROUND}; }}
.stApp h1, .stApp h2, .stApp h3, .stApp p, .stApp li, .stApp label, .stApp summary,
[data-testid="stCaptionContainer"] {{ color: #f0f0f0; }}
.stApp [data-testid="stBaseButton-secondary"] {{ background-color: #262730; border-color: #555; color: #f0f0f0; }}
.stApp [data-baseweb="select"] > div, .stApp [data-baseweb="input"], .stApp [data-baseweb="base-input"],
.stApp [data-testid="stSelectbox"] label ~ div div, .stApp [data-testid="stMultiSelect"] label ~ div div,
.stApp [data-baseweb="textarea"], .stApp input, .stApp textarea, .stApp [data-testid="stCode"] pre,
.stApp [data-testid="stFileUploaderDropzone"], [data-baseweb="popover"] ul, [data-baseweb="popover"] li
{{ background-color: #262730 !important; color: #f0f0f0 !important; border-color: #555 !important; }}
.stApp [data-baseweb="select"] *, .stApp [data-testid="stSelectbox"] label ~ div *, .stApp [data-testid="stCode"] code, .stApp [data-testid="stFileUploaderDropzone"] *,
[data-baseweb="popover"] li * {{ color: #f0f0f0 !important; }}
[data-testid="stSidebar"] [data-testid="stIconMaterial"], .stApp [data-testid="stPageLink"] [data-testid="stIconMaterial"],
.stApp [data-testid="stBaseButton-secondary"] [data-testid="stIconMaterial"], .stApp [data-testid="stTooltipIcon"] *, .stApp [data-testid="stSelectbox"] svg,
.stApp [data-testid="stMultiSelect"] svg, .stApp [data-testid="stSliderTickBar"] *,
.stApp [data-testid="stExpander"] summary * {{ color: #d0d0d0 !important; }}
.stApp [data-testid="stExpander"] details {{ border-color: #555; }}
.stApp [data-testid="stExpander"] summary {{ background-color: #1e1f27 !important; }}
.stApp :not(pre) > code {{ background-color: #31333f !important; color: #f0f0f0 !important; }}
[data-testid="stSidebarNav"] a:hover, [data-testid="stSidebarNav"] a:focus, [data-testid="stSidebarNav"] a[aria-current="page"]
{{ background-color: #31333f !important; }}
[data-testid="stSidebarNav"] a span, [data-testid="stSidebar"] h1, [data-testid="stSidebar"] h2,
[data-testid="stSidebarNav"] header, [data-testid="stSidebarNav"] header * {{ color: #f0f0f0; }}
.stApp [data-testid="stJson"] {{ background-color: #262730 !important; }}
.stApp [data-testid="stJson"] * {{ color: #e8e8e8 !important; background-color: transparent !important; }}
""" + "".join(f"""[data-testid="stAlertContainer"]:has([data-testid="stAlertContent{kind}"]) {{
background-color: rgba({tint},0.2) !important; }}
[data-testid="stAlertContent{kind}"], [data-testid="stAlertContent{kind}"] * {{ color: rgb({text}) !important; }}
""" for kind, (tint, text) in _ALERTS.items()) + "</style>"
# The epoch player's elements (`ui.player`) never dim while a tick runs (Streamlit dims the elements of a
# running fragment: at 5 frames a second the view would flicker). Sent with the page's other CSS, once
# per full run: an st.html of its own inside the player's page was gone from the page once it had loaded.
PLAYER_CSS = ("<style>[class*='st-key-player-'] [data-stale='true'] "
              "{ opacity: 1 !important; transition: none !important; }</style>")
_PROJECTOR_CSS = "<style>html { font-size: %dpx; }</style>" % round(16 * PROJECTOR)


def _kept_toggle(label: str, key: str, help: str) -> bool:
    """A sidebar toggle whose value lives in session state under `key`: the widget (key + ".toggle")
    is set from it on every run, so a page switch, which makes new widgets, keeps the choice."""
    widget = f"{key}.toggle"
    st.session_state[widget] = st.session_state.get(key, False)
    st.sidebar.toggle(label, key=widget, help=help,
                      on_change=lambda: st.session_state.update({key: st.session_state[widget]}))
    return st.session_state[widget]


def presentation() -> None:
    """Sidebar: the light/dark and projector (large fonts) toggles, kept in the session; the page's
    CSS to match. Called once per full run, before the page: it also starts the page's figure list."""
    dark = _kept_toggle("Dark theme", DARK_KEY, "dark background for the app and every figure")
    projector = _kept_toggle("Projector mode", PROJECTOR_KEY,
                             "large fonts on the page and in every figure, for a room to read; a run's "
                             "figures otherwise side by side are drawn one above the other (two runs stay side by side)")
    st.html(PLAYER_CSS + (_DARK_CSS if dark else "") + (_PROJECTOR_CSS if projector else ""))
    st.session_state[_FIGURES] = {}


def figure_columns(spec: int | list[int], runs: bool = False) -> list:
    """Places for figures side by side (`spec` as `st.columns`'). In projector mode, figures of one run
    get one full-width place each, one above the other: at 1400 px a half-width figure's larger letters
    left its plot 30-50 px wide (Hypersphere's angle histogram, the k-NN curve) and the similarity
    matrix's numbers unreadable. `runs` (the same view of several runs, `lab.figures.grid.side_by_side`)
    stay side by side there too: comparing them one above the other meant scrolling ~1000 px; those
    figures are styled for half width instead (fewer ticks, thin margins, legend under the plot)."""
    if stacked() and not runs:
        return [st.container() for _ in range(spec if isinstance(spec, int) else len(spec))]
    return st.columns(spec)


def figures(figs: dict[str, go.Figure], key: str, name: str, export: bool = True) -> None:
    """`figure`s side by side (`figure_columns`): {part p: figure}, each with key "p-`key`" and name "`name`-p"."""
    for col, (part, fig) in zip(figure_columns(len(figs)), figs.items()):
        with col:
            figure(fig, key=f"{part}-{key}", name=f"{name}-{part}", export=export)


def stacked() -> bool:
    """Projector mode: figures one above the other (`figure_columns`), fewer links in a row (`ui.nav`)."""
    return st.session_state.get(PROJECTOR_KEY, False)


def figure(fig: go.Figure, key: str, name: str | None = None, export: bool = True) -> None:
    """A plotly figure in the session's presentation (`lab.figures.theme.styled_spec`), whose modebar
    camera saves a PNG at 3x, and (`export`; off for a chart redrawn live) a button that
    downloads it as a standalone HTML page."""
    name = name or key
    shown = styled_spec(fig, st.session_state.get(DARK_KEY, False), st.session_state.get(PROJECTOR_KEY, False))
    plot(shown, key=key, config={"displaylogo": False, "responsive": True,
                                 "toImageButtonOptions": {"format": "png", "scale": 3, "filename": name}})
    st.session_state.setdefault(_FIGURES, {})[key] = name, shown
    if export:
        st.download_button("HTML", data=partial(figures_page, name, {name: shown}), file_name=f"{name}.html",
                           mime="text/html", key=f"{key}-html", on_click="ignore", icon=":material/download:",
                           help="Download this figure as a standalone HTML page (works offline)")


DOUBLE_PRESS_S = 1.5  # a press of a button this soon after its last accepted one is the same press


def first_press(key: str) -> bool:
    """False for a press of button `key` within `DOUBLE_PRESS_S` of its last accepted one: a double
    click, or one click Streamlit delivered twice (a fragment timer's message sent at the same
    moment carries the click too: a lesson's first Play so delivered paused at once, 1 in ~40
    first Plays here, and Train would start two runs)."""
    state, now = st.session_state, time.monotonic()
    if now - state.get(f"_pressed.{key}", -DOUBLE_PRESS_S) < DOUBLE_PRESS_S:
        return False
    state[f"_pressed.{key}"] = now
    return True


def pressed(label: str, key: str, **button: Any) -> bool:
    """`st.button` that is True once per press (`first_press`)."""
    return st.button(label, key=key, **button) and first_press(key)


_WARMED = "_warm_ups_started"  # the session's tick has come and started the server's warm-ups
AFTER_FIRST_PAGE_S = 1.0  # seconds after a session's first page before the server's warm-ups start
_FULL_RUN = "_warm_ups_started.full_run"  # set while a full run (not a tick) runs the fragment


def preload_charts(then: Callable[[], Any] = lambda: None) -> None:
    """The chart library's preload in the sidebar, out of sight (`ui.plot.preload`: the browser
    starts it once the page is drawn and the browser idle), and a fragment whose first tick,
    `AFTER_FIRST_PAGE_S` after the session's first page, calls `then()`: the server's warm-ups, never
    in a page's own run (started with the first page, they made Home 0.8 s slower to appear: 2.6 s
    against 1.8 s; in the run of a fresh app's first Train press, their 0.3 s in the page's thread
    delayed its first curve point). Both stay in every full run, the fragment without its timer
    once it has ticked: left out, a tick already on its way when a full run dropped them reached
    the browser addressed to a sidebar place that was gone ("Bad delta path index 4"), which blanked
    the tab (1 and 2 of 8 tabs of a class pressing at once, in two runs here)."""
    state = st.session_state
    since = state.setdefault(f"{_WARMED}.since", time.monotonic())  # the session's first page
    with st.sidebar:
        st.html("<style>.st-key-chart-preload { position: fixed; left: -2000px; width: 200px; }</style>")
        with st.container(key="chart-preload"):
            plot_preload()

    @st.fragment(run_every=None if state.get(_WARMED) else AFTER_FIRST_PAGE_S)
    def later() -> None:
        if state.get(_WARMED) or state.get(_FULL_RUN) or time.monotonic() - since < 0.9 * AFTER_FIRST_PAGE_S:
            return  # done, or a page's own run: its tick comes once the page is drawn
        state[_WARMED] = True
        then()

    state[_FULL_RUN] = True
    try:
        with st.sidebar:
            later()
    finally:
        del state[_FULL_RUN]


def figures_download() -> None:
    """Sidebar: every figure of this page in one standalone HTML page with one copy of plotly.js."""
    if drawn := st.session_state.get(_FIGURES):
        st.sidebar.download_button("All figures of this page (HTML)", data=partial(_page_html, drawn),
                                   file_name="reglab-figures.html", mime="text/html", on_click="ignore",
                                   icon=":material/download:", key="page-figures-html",
                                   help="one offline page with the figures as drawn now, plotly.js included once")


def _page_html(drawn: dict[str, tuple[str, go.Figure]]) -> str:
    return figures_page("RegLab", dict(drawn.values()))


def upload_cap_mb() -> int:
    """The most MB an upload may have: $REGLAB_UPLOAD_MB (default 200), and never more than the
    server's own `server.maxUploadSize`."""
    try:
        cap = max(1, int(os.environ.get("REGLAB_UPLOAD_MB", "200")))
    except ValueError:
        cap = 200
    return min(cap, int(st.get_option("server.maxUploadSize")))
