"""Shared pieces of the app's pages: the live-run manager, run lookup, the run picker,
widgets generated from `Param` declarations, the epoch player, figures with HTML export.

Layout and widgets only: every number shown comes from `lab` (training, `lab.measure`,
`lab.figures`). Pages import this module; it imports `lab`, never the other way round.
"""
from __future__ import annotations

import hashlib
import math
import os
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import streamlit as st

from lab.errors import StoreError
from lab.live import LiveRuns, LiveView
from lab.params import Choice, Flag, Interval, IntList, Param
from lab.store import RunRecord, list_runs, load_run, load_snapshot, runs_root

LIVE_POLL_S = 0.25  # seconds between two redraws of a live run
PAGES = {"home": "pages/home.py", "train": "pages/train.py", "runs": "pages/runs.py", "compare": "pages/compare.py",
         "embeddings": "pages/embeddings.py", "hypersphere": "pages/hypersphere.py",
         "similarity": "pages/similarity.py", "information": "pages/information.py"}
_MD = "\\`*_{}[]<>()#+-.!|~$"


def esc(text: Any) -> str:
    """`text` safe inside st.markdown: every markdown and HTML character backslash-escaped."""
    return "".join("\\" + ch if ch in _MD else ch for ch in str(text))


def root() -> Path:
    """The runs folder: $REGLAB_RUNS, else ./runs."""
    return runs_root().resolve()


@st.cache_resource(max_entries=8)
def _manager(folder: str) -> LiveRuns:
    live = LiveRuns(Path(folder), max_workers=int(os.environ.get("REGLAB_WORKERS", "2")))
    live.warm()
    return live


def manager() -> LiveRuns:
    """The process-wide manager of live runs for this runs folder (shared by every session)."""
    return _manager(str(root()))


def owner() -> str:
    """This browser's token: only it may stop the runs it started. Taken from the browser's XSRF
    cookie, so a reload or a second tab keeps control; a random one where there is no cookie."""
    if "_owner" not in st.session_state:
        st.session_state["_owner"] = browser_id(st.context.cookies.get("_streamlit_xsrf")) or uuid.uuid4().hex
    return st.session_state["_owner"]


def browser_id(xsrf_cookie: str | None) -> str | None:
    """A stable id of the browser from its XSRF cookie "2|mask|masked token|time": the token
    (masked token XOR the repeated 4-byte mask) is fixed per browser, the mask changes per page
    load. Hashed, so the secret itself is never kept. None when the cookie is absent or unreadable."""
    try:
        _, mask, masked, _ = xsrf_cookie.split("|")
        m, t = bytes.fromhex(mask), bytes.fromhex(masked)
    except (AttributeError, ValueError):
        return None
    return hashlib.sha256(bytes(b ^ m[i % len(m)] for i, b in enumerate(t))).hexdigest()[:32] if m else None


@dataclass(frozen=True)
class RunInfo:
    """One run as a page sees it, live or saved: `live` while in memory, `record` once a folder exists."""

    id: str
    status: str
    history: list[dict]
    error: str | None
    live: LiveView | None
    record: RunRecord | None

    @property
    def config(self):
        return self.live.config if self.live else self.record.config

    @property
    def running(self) -> bool:
        return self.live is not None and self.live.active

    @property
    def label(self) -> str:
        return run_label(self.config)


def run_label(cfg, seed: bool = True) -> str:
    """"phantom λ=1 s0": method, its weight (not for ce), non-default options, and the seed."""
    from lab.regularizers import REGISTRY

    lam = "" if cfg.method == "ce" else f" λ={cfg.lam:g}"
    defaults = {p.name: p.default for p in REGISTRY[cfg.method].params} if cfg.method in REGISTRY else {}
    opts = "".join(f" {k}={v}" for k, v in cfg.method_params.items() if defaults.get(k) != v)
    return f"{cfg.method}{lam}{opts}" + (f" s{cfg.seed}" if seed else "")


def find(run_id: str | None, folder: bool = True) -> RunInfo | None:
    """The run called `run_id`: the live one if in memory, else the saved folder; None if neither.
    `folder=False` skips reading the folder of a live run (for the 4-per-second redraws)."""
    if not run_id:
        return None
    view = manager().get(run_id)
    if view is not None and view.active and not folder:
        return RunInfo(view.id, view.status, list(view.history), view.error, view, None)
    try:
        record = load_run(run_id, root())
    except StoreError:
        record = None
    if view is not None:
        return RunInfo(view.id, view.status, list(view.history), view.error, view, record)
    if record is not None:
        return RunInfo(record.id, record.state, record.metrics, record.status.get("error"), None, record)
    return None


def saved_runs() -> list[RunRecord]:
    """Every readable saved run, newest first, less the runs other sessions are still training."""
    live, me = manager(), owner()
    return [r for r in list_runs(root())
            if r.state != "running" or (v := live.get(r.id)) is None or not v.active or v.owner == me]


def current_run() -> str | None:
    """The run id in the URL (?run=...)."""
    return st.query_params.get("run")


def open_run(run_id: str | None) -> None:
    """Show `run_id` on every page from now on (None: no run)."""
    if run_id:
        st.query_params["run"] = st.session_state["_last_run"] = run_id
    else:
        st.query_params.pop("run", None)
        st.session_state.pop("_last_run", None)


def run_picker() -> None:
    """Sidebar: this session's live runs, then the saved runs; picking one puts it in the URL.
    A page switch drops the URL's query, so the session's last run is put back."""
    current = current_run() or st.session_state.get("_last_run")
    if current:
        open_run(current)
    mine = {v.id: (v.config, v.status) for v in manager().runs_of(owner())}
    shown = mine | {r.id: (r.config, r.state) for r in saved_runs() if r.id not in mine}
    options = list(shown)
    if current and current not in options:
        options.insert(0, current)
    if not options:
        st.sidebar.caption("No runs yet: train one on the Train page.")
        return
    st.session_state["_picker"] = current if current in options else None

    def picked() -> None:
        if st.session_state["_picker"]:
            open_run(st.session_state["_picker"])

    st.sidebar.selectbox("Run", options, key="_picker", index=None, placeholder="pick a run",
                         format_func=lambda r: f"{run_label(shown[r][0])} · {shown[r][1]} · {r}" if r in shown else r,
                         on_change=picked,
                         help="Your live runs first, then every saved run. The run is shown on each page.")


def page_run() -> RunInfo | None:
    """The run a view page shows; when there is none, a note on how to get one."""
    info = find(current_run())
    if info is None:
        if current_run():
            st.warning(f"There is no run called {esc(current_run())} (it may have been deleted or renamed).")
        st.info("No run selected. Train one on the **Train** page, start the demo on **Home**, "
                "or pick a saved run in the sidebar.")
        st.page_link(PAGES["train"], label="Go to Train", icon="🏋️")
    return info


def snapshot_record(run: RunInfo | None) -> RunRecord:
    """The saved record of a view page's run; stops the page (after its explanation) when
    there is no run or no snapshot yet."""
    if run is None:
        st.stop()
    if run.record is None or not run.record.snapshot_epochs:
        st.info("This run has no snapshot yet; its first one is written when training starts.")
        st.stop()
    return run.record


def view_links(run_id: str) -> None:
    """Links to the four views of one run."""
    cols = st.columns(4)
    for col, (name, icon) in zip(cols, (("embeddings", "🗺️"), ("hypersphere", "🌐"), ("similarity", "🟥"),
                                        ("information", "ℹ️"))):
        col.page_link(PAGES[name], label=name.capitalize(), icon=icon, query_params={"run": run_id})


def page(title: str) -> None:
    """Start a page: make sure it has app.py's frame, then draw its title.

    Because a pages/ folder exists, Streamlit runs a pages/ file by itself (its old multipage
    mode) until app.py's st.navigation has run once in the process: on a fresh server whose
    first request is a page URL (/train?run=...), and on every AppTest run after switch_page.
    Switch that mode off; on a session's first run (nothing to lose) rerun through app.py,
    otherwise (a rerun would drop the click that caused it) draw the sidebar here."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state:
            st.rerun()
        run_picker()
    st.title(title)


def explain(text: str) -> None:
    """The "What am I looking at?" box of every page (markdown written by the page, not user input)."""
    with st.expander("What am I looking at?"):
        st.markdown(text)


def expectation(method: str, notes: dict[str, str]) -> str:
    """What `method` is expected to do on this page's quantity, from the page's `notes`."""
    return notes.get(method, f"**{method}** makes no specific promise about this quantity; compare it with **ce**.")


def _bound(c: Interval, side: str) -> Any:
    value = c.low if side == "low" else c.high
    inclusive = c.closed in ("both", "left" if side == "low" else "right")
    if value is None or (not inclusive and c.type is float):
        return None
    return c.type(value if inclusive else value + (1 if side == "low" else -1))


def _step(value: float) -> float:
    return 10.0 ** math.floor(math.log10(abs(value))) if value else 0.1


def param_widget(p: Param, key: str, value: Any = None, label: str | None = None) -> Any:
    """One widget for one declared parameter: Interval -> number box within its bounds, Choice ->
    select box, Flag -> checkbox, IntList and anything else -> text box. Returns the raw value;
    `lab.config.validate` checks it (and its ConfigError is what the page shows)."""
    c, value = p.constraint, p.default if value is None else value
    label, helptext = label or p.name.replace("_", " "), f"{p.help}; {c}"
    if isinstance(c, Flag):
        return st.checkbox(label, value=bool(value), key=key, help=helptext)
    if isinstance(c, Choice):
        options = list(c.options)
        return st.selectbox(label, options, index=options.index(value), key=key, help=helptext)
    if isinstance(c, Interval):
        lo, hi = _bound(c, "low"), _bound(c, "high")
        if c.type is int:
            return st.number_input(label, lo, hi, int(value), step=1, key=key, help=helptext)
        return st.number_input(label, lo, hi, float(value), step=_step(value), format="%g", key=key, help=helptext)
    if isinstance(c, IntList):
        return st.text_input(label, ",".join(map(str, value)), key=key, help=helptext)
    return st.text_input(label, str(value), key=key, help=helptext)


def param_widgets(params: Sequence[Param], prefix: str, cols: int = 2) -> dict[str, Any]:
    """Widgets for a declaration list, laid out in `cols` columns; keys are `prefix.name`."""
    if not params:
        return {}
    columns, values = st.columns(cols), {}
    for i, p in enumerate(params):
        with columns[i % cols]:
            values[p.name] = param_widget(p, f"{prefix}.{p.name}")
    return values


def figure(fig, key: str, name: str | None = None) -> None:
    """A plotly figure and a button that downloads it as a standalone HTML file (built on click)."""
    st.plotly_chart(fig, key=key, width="stretch", config={"displaylogo": False})
    st.download_button("⬇ HTML", data=partial(_html, fig), file_name=f"{name or key}.html", mime="text/html",
                       key=f"{key}-html", on_click="ignore", help="Download this figure as a standalone HTML page")


def _html(fig) -> str:
    return fig.to_html(include_plotlyjs=True, full_html=True)


@st.cache_data(max_entries=256, show_spinner=False)
def _snapshot(path: str, epoch: int) -> dict:
    return load_snapshot(Path(path), epoch)


def snapshot(record: RunRecord, epoch: int) -> dict:
    """One epoch's probe snapshot (cached per run folder and epoch)."""
    return _snapshot(str(record.path), epoch)


@st.cache_data(max_entries=64, show_spinner="Measuring the snapshots…")
def _series(name: str, path: str, epochs: tuple[int, ...], options: tuple) -> dict:
    from lab.readout import series

    return getattr(series, name)(load_run(Path(path)), epochs=list(epochs), **dict(options))


def series(name: str, record: RunRecord, epochs: Sequence[int] | None = None, **options: Any) -> dict:
    """`lab.readout.series.<name>(record, epochs, **options)`, cached per run folder, epochs and options."""
    return _series(name, str(record.path), tuple(record.snapshot_epochs if epochs is None else epochs),
                   tuple(sorted(options.items())))


@st.cache_data(max_entries=64, show_spinner="Measuring the method's own quantity…")
def _quantity(path: str, method: str, epochs: tuple[int, ...]) -> dict:
    from lab.readout.quantities import quantity_series

    return quantity_series(load_run(Path(path)), method, list(epochs))


def quantity(record: RunRecord, method: str, epochs: Sequence[int] | None = None) -> dict:
    """`lab.readout.quantities.quantity_series(record, method, epochs)`, cached per run folder."""
    return _quantity(str(record.path), method, tuple(record.snapshot_epochs if epochs is None else epochs))


def error(e: Exception | str) -> None:
    """A lab error as one escaped line (messages quote user input)."""
    st.error(esc(e))


def epoch_player(epochs: list[int], draw: Callable[[int], None], key: str, interval: float = 0.8) -> None:
    """A slider over `epochs` and a Play button; `draw(epoch)` renders the view. Playing
    advances one epoch per tick inside a fragment (only the view redraws) and stops at the end."""
    at, playing, slider = f"{key}.epoch", f"{key}.playing", f"{key}.slider"
    if st.session_state.get(at) not in epochs:
        st.session_state[at] = epochs[-1]
    st.session_state[slider] = st.session_state[at]

    def moved() -> None:
        st.session_state[at] = st.session_state[slider]

    def toggle() -> None:
        st.session_state[playing] = not st.session_state.get(playing, False)
        if st.session_state[playing] and st.session_state[at] == epochs[-1]:
            st.session_state[at] = epochs[0]

    left, right = st.columns([8, 1], vertical_alignment="bottom")
    with left:
        if len(epochs) > 1:
            st.select_slider("epoch", epochs, key=slider, on_change=moved)
        else:
            st.caption(f"epoch {epochs[0]} (the only saved snapshot)")
    right.button("⏸ Pause" if st.session_state.get(playing) else "▶ Play", key=f"{key}.play",
                 on_click=toggle, disabled=len(epochs) < 2, width="stretch")

    @st.fragment(run_every=interval if st.session_state.get(playing) else None)
    def view() -> None:
        epoch = st.session_state[at]
        draw(epoch)
        if st.session_state.get(playing):
            nxt = epochs.index(epoch) + 1 if epoch in epochs else len(epochs)
            if nxt < len(epochs):
                st.session_state[at] = epochs[nxt]
            else:
                st.session_state[playing] = False
                st.rerun()

    view()


def overlay_curves(histories: dict[str, list[dict]], key: str, title: str, y_title: str) -> Any:
    """One line per run of the metric `key` against epoch, on one plot (lab.figures styling);
    accuracies keep the fixed range [0, 1] so an empty plot of a starting run looks right."""
    import plotly.graph_objects as go

    from lab.figures.grid import styled
    from lab.figures.palette import color

    fig = go.Figure([go.Scatter(x=[h["epoch"] for h in hist], y=[h.get(key) for h in hist], name=name,
                                mode="lines+markers", line={"color": color(i)})
                     for i, (name, hist) in enumerate(histories.items())])
    styled(fig, title, "epoch", y_title)
    return fig.update_yaxes(range=[0, 1.02]) if key.endswith("_acc") else fig


# Per-epoch figures of one run, shared by the view pages and Compare's small multiples.

def similarity_view(record: RunRecord, epoch: int) -> Any:
    from lab.figures.views import similarity_view as view

    return view(snapshot(record, epoch), epoch)


def angles_view(record: RunRecord, epoch: int) -> Any:
    from lab.figures.views import angles_view as view

    return view(snapshot(record, epoch), epoch)


def infoplane_view(record: RunRecord, epoch: int, estimator: str = "kde", **options: Any) -> Any:
    """Every hidden layer's path in the information plane from epoch 0 up to `epoch` (default:
    KDE with noise variance `lab.measure.KDE_NOISE`; binning saturates at log2 n for wide layers)."""
    from lab.figures.views import infoplane_view as view

    return view(series("mi_series", record, estimator=estimator, **options), epoch, estimator)


def embedding_view(record: RunRecord, epoch: int) -> Any:
    """PCA map of the features (the last hidden state) at `epoch`."""
    from lab.figures.views import embedding_view as view
    from lab.readout.embeddings import embed_run

    maps = embed_run(record, None, "pca", epochs=[epoch])
    return view(maps["xy"][0], maps["y"], epoch)


VIEWS: dict[str, Callable[[RunRecord, int], Any]] = {
    "Embedding (PCA)": embedding_view,
    "Similarity between classes": similarity_view,
    "Angles between neurons": angles_view,
    "Information plane": infoplane_view,
}
