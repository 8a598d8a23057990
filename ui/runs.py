"""Run ownership and lookup: the process-wide manager of live runs, the browser that owns a run,
a run as a page sees it (`RunInfo`, live or saved), the run in the URL and the sidebar's picker."""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lab.config import RunConfig, data_source_problem
from lab.errors import StoreError
from lab.live import LiveRuns, LiveView
from lab.store import RunRecord, list_runs, load_run, runs_root, snapshot_epochs
from ui import nav, plugins
from ui.widgets import esc

LIVE_POLL_S = 0.25  # seconds between two redraws of a live run
FOLLOW_S = 1.0  # seconds between two looks for a live run's new epochs on a view page


def root() -> Path:
    """The runs folder: $REGLAB_RUNS, else ./runs."""
    return runs_root().resolve()


def import_pandas() -> None:
    """pandas, imported by the caller before a thread that may import it starts (a warm-up, a run):
    the thread imports it through scikit-learn, and plotly, drawing a figure in a script meanwhile,
    finds it half initialised in `sys.modules` ("partially initialized module 'pandas' has no
    attribute 'Series'": seen on a fresh app whose Embeddings page started UMAP's warm-up)."""
    import pandas  # noqa: F401


@st.cache_resource(show_spinner="Connecting to the Ray cluster of REGLAB_RAY_ADDRESS...")
def _ray() -> tuple:
    """`lab.live_ray.connect()`, once per process: (the backend for $REGLAB_RAY_ADDRESS's Ray cluster,
    None if unset or unusable; the sentence on what to do when it is unusable, else None)."""
    from lab.live_ray import connect

    return connect()


@st.cache_resource(max_entries=8)
def _manager(folder: str) -> LiveRuns:
    """The manager of live runs for `folder` (on the Ray cluster of $REGLAB_RAY_ADDRESS, when set)."""
    env = os.environ.get
    return LiveRuns(Path(folder), max_workers=int(env("REGLAB_WORKERS", "2")),
                    max_per_owner=int(env("REGLAB_MAX_RUNS_PER_BROWSER", "8")),
                    max_active=int(env("REGLAB_MAX_RUNS", "16")), backend=_ray()[0])


def manager() -> LiveRuns:
    """The process-wide manager of live runs for this runs folder (shared by every session)."""
    return _manager(str(root()))


def start(configs: list[RunConfig], pace: float = 0.0, shared: bool = False) -> list[str]:
    """`LiveRuns.start_all` for this browser (`shared`: `start_shared`, joining identical live runs
    of any browser): their run ids. pandas first (`import_pandas`): the runs' threads load their
    data sets through scikit-learn. Warns when $REGLAB_RAY_ADDRESS names a Ray cluster that could
    not be used (the runs then train in this process)."""
    import_pandas()
    if note := _ray()[1]:
        st.warning(esc(note), icon=":material/cloud_off:")
    return manager().start_shared(configs, owner()) if shared else manager().start_all(configs, owner(), pace)


def queue_text(view: LiveView) -> str:
    """"queued: position 3, about 40 s; 2 runs train at a time" for a queued run's `LiveView`."""
    wait = "" if view.wait_s is None else f", about {max(1, round(view.wait_s))} s"
    return f"queued: position {view.position}{wait}; {manager().max_workers} runs train at a time"


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
    """One run as a page sees it: `in_memory` (the manager's view) while the manager holds it,
    `record` once its folder can be read; at least one of the two is set."""

    id: str
    status: str
    history: list[dict]
    error: str | None
    in_memory: LiveView | None
    record: RunRecord | None

    @property
    def config(self) -> RunConfig:
        return self.in_memory.config if self.in_memory else self.record.config

    @property
    def running(self) -> bool:
        """Queued or running (it has not ended yet)."""
        return self.in_memory is not None and self.in_memory.active

    @property
    def label(self) -> str:
        return run_label(self.config)


def run_label(cfg: RunConfig, seed: bool = True, options: Collection[str] | None = None) -> str:
    """"phantom λ=1 s0": method, its weight (not for ce), options, and the seed. `options`: the
    names of the options to show; None: those away from the method's default (which imports the
    registry, so torch, for a run that has options)."""
    lam = f" λ={cfg.lam:g}" if cfg.lam else ""  # none for a method without a penalty
    if options is None and cfg.method_params:
        from lab.regularizers import REGISTRY

        defaults = {p.name: p.default for p in REGISTRY[cfg.method].params} if cfg.method in REGISTRY else {}
        options = [k for k, v in cfg.method_params.items() if defaults.get(k) != v]
    opts = "".join(f" {k}={v}" for k, v in cfg.method_params.items() if k in (options or ()))
    return f"{cfg.method}{lam}{opts}" + (f" s{cfg.seed}" if seed else "")


def find(run_id: str | None, folder: bool = True) -> RunInfo | None:
    """The run called `run_id`: the one in memory if any, else the saved folder; None if neither.
    `folder=False` skips reading the folder of an active run (for the 4-per-second redraws)."""
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


FIRST_POINT_S = 0.5  # seconds a page waits for a run that trains without a curve point yet (just started)


def with_first_point(run_id: str) -> RunInfo | None:
    """`find(run_id, folder=False)`, once the run, if it is training, has sent a curve point: a run
    just started sends its first one within a step (a few hundredths of a second on digits), and
    waiting up to `FIRST_POINT_S` for it draws it in this page run, not a timer tick (0.25-0.45 s) later."""
    end = time.monotonic() + FIRST_POINT_S
    while (run := find(run_id, folder=False)) is not None and run.status == "running" \
            and not run.in_memory.points and time.monotonic() < end:
        time.sleep(0.02)
    return run


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


@st.cache_data(ttl=10, show_spinner=False)
def _data_problem(path: str, sha256: str) -> str | None:
    """`lab.config.data_source_problem`, checked at most every 10 s per file (hashing reads it all)."""
    return data_source_problem({"path": path, "sha256": sha256})


def page_run() -> RunInfo | None:
    """The run a view page shows; when there is none, a note on how to get one."""
    info = find(current_run())
    if info is not None:
        plugins.for_run(info.config)
        if info.config.data_source and (problem := _data_problem(**info.config.data_source)):
            st.warning(f"{problem}. Its snapshots stay viewable.", icon=":material/folder_off:")
    if info is None:
        if current_run():
            st.warning(f"There is no run called {esc(current_run())} (it may have been deleted or renamed).")
        st.info("No run selected. Train one on the **Train** page, start the demo on **Home**, "
                "or pick a saved run in the sidebar.")
        nav.link("train", "Go to Train")
    return info


def follow(run: RunInfo) -> None:
    """While `run` trains, look for its new snapshots every `FOLLOW_S` seconds and rerun the page
    when one has landed or the run has ended: a view page follows a live run epoch by epoch (its
    player moves on when it showed the last epoch)."""
    if not run.running:
        return
    seen = snapshot_epochs(root() / run.id)

    @st.fragment(run_every=FOLLOW_S)
    def watch() -> None:
        view = manager().get(run.id)
        if view is None or not view.active or snapshot_epochs(root() / run.id) != seen:
            st.rerun()
        st.caption(f":material/directions_run: live: epoch {len(view.history)} of {view.config.epochs} done; "
                   "this page follows the run as its epochs land")

    watch()


def snapshot_record(run: RunInfo | None) -> RunRecord:
    """The saved record of a view page's run (followed while it trains, see `follow`); says why
    when later epochs are hidden (non-finite snapshots), and stops the page (after its
    explanation) when there is nothing to draw."""
    from ui import cache

    if run is None:
        st.stop()
    follow(run)
    if run.record is None or not run.record.snapshot_epochs:
        st.info("This run has no snapshot yet; its first one is written when training starts.")
        st.stop()
    note = cache.readable(run.record).note
    if note:
        st.warning(esc(note), icon=":material/warning:")
    if not cache.epochs(run.record):
        st.stop()
    return run.record
