"""The server's warm-ups, so that what a user does first does not pay a first use: torch, the data
set and an unsaved training epoch (`training_warmed`), UMAP's import and numba code (`umap_compiled`),
started by the pages that need them or once a session's first page is drawn (`warm_ups`); each waits
while page scripts run (`page_running`, `quiet`), and the background UMAP one also while runs train."""
from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import streamlit as st

from ui.runs import import_pandas, manager


_UMAP: list[Future] = []  # UMAP's warm-up, once a page asked for it: the training one waits for it
_PAGES = {"running": 0, "ended": 0.0}  # page scripts running in this process, when the last one ended
_PAGES_LOCK = threading.Lock()
QUIET_S = 1.0  # seconds without a page script before the training warm-up starts
_ASKED = threading.Event()  # a page will draw UMAP maps (`umap_wanted`): its warm-up waits for no run
UMAP_QUIET_S = 4.0  # seconds without a page script or a live run before UMAP's background warm-up starts
# Held by a warm-up while it imports torch or UMAP: scipy.stats, imported with UMAP, looks into a torch that
# another thread is importing ("partially initialized module 'torch' has no attribute 'Tensor'", seen once
# on a fresh app, the training warm-up importing torch).
_IMPORTING = threading.Lock()


def _quiet_s() -> float | None:
    """Seconds since the last page script ended; None while one runs."""
    with _PAGES_LOCK:
        return None if _PAGES["running"] else time.monotonic() - _PAGES["ended"]


def _idle() -> bool:
    """No run queued or training, and no page script for `UMAP_QUIET_S` (a press reruns its page)."""
    q = _quiet_s()
    return q is not None and q >= UMAP_QUIET_S and not manager().live()


@contextmanager
def page_running() -> Iterator[None]:
    """Around a page's script (app.py), a fragment's (as a decorator: the epoch player's) or a
    player frame built ahead in the background: the warm-ups wait while one runs (`quiet`)."""
    with _PAGES_LOCK:
        _PAGES["running"] += 1
    try:
        yield
    finally:
        with _PAGES_LOCK:
            _PAGES["running"] -= 1
            _PAGES["ended"] = time.monotonic()


def quiet(first: Sequence[Future] = (), after: float | None = None) -> None:
    """Wait until the warm-ups `first` are done, then until no page script has run for `after` seconds:
    the training warm-up ran beside the Embeddings page's first UMAP maps and made the user wait
    3.6 s for them instead of 2.1 s."""
    for future in first:
        future.exception()
    after = QUIET_S if after is None else after
    while (q := _quiet_s()) is None or q < after:
        time.sleep(0.05 if q is None else after - q)


@st.cache_resource
def umap_compiled(_after: Future | None = None) -> Future:
    """UMAP's import and numba code (compiled on a machine's first run, then read from numba's disk
    cache: `lab.measure.umap_layout.umap_modules`), in a background thread once per process, started by
    the first call (after `_after`, when the first call gives one, and after the low-priority
    process that compiles the code first, `compile_umap_elsewhere`); done when the future is."""
    from lab.measure.embed import compile_umap_elsewhere

    import_pandas()
    future: Future = Future()
    future.started = time.monotonic()  # for the wait's "so far" (`ui.umap_wait`)
    _UMAP.append(future)
    elsewhere = compile_umap_elsewhere()  # at once, at low priority: it only fills numba's disk cache
    future.compiling = elsewhere is not None  # else the code is only read back (`ui.umap_wait` says which)

    def work() -> None:
        if elsewhere is not None:
            elsewhere.wait()  # then the import here reads the compiled code instead of compiling it
        if _after is not None:  # the background warm-up: after the training one, then once `_idle` (a fresh app's
            # first press, made as soon as Train was drawn, waited 2.6-4.9 s for its first point beside this import)
            _after.exception()
            while not _ASKED.is_set() and not _idle():
                _ASKED.wait(0.25)
        try:
            with _IMPORTING:
                if "torch" in sys.modules:  # perhaps half-imported by a thread that holds no lock: wait for it
                    import torch  # noqa: F401  (UMAP needs none: importing it here cost a first UMAP 1.9 s)
                from lab.measure.embed import warm_umap

                future.set_result(warm_umap())
        except BaseException as e:  # reported through the future (the map itself will say it again)
            future.set_exception(e)

    threading.Thread(target=work, daemon=True, name="reglab-umap-warm").start()
    return future


def umap_wanted() -> Future:
    """`umap_compiled` for a page that draws UMAP maps (Embeddings): started now if not yet, and
    waiting for no run if the background warm-up started it."""
    _ASKED.set()
    return umap_compiled()


@st.cache_resource
def warm_ups() -> tuple[Future, Future]:
    """The process's warm-ups, once, called when a session's first page has been drawn (started with
    the first page, the training one made it 0.8 s slower to appear here: 2.6 s against 1.8 s): the
    views' modules and plotly's first figure (0.3 s, here, not on the first view), then in background
    threads one unsaved training epoch (`LiveRuns.warm`), once the pages are `quiet`, and UMAP's
    compilation after it (unless the Embeddings page asked for it first); their futures."""
    import plotly.graph_objects as go

    import ui.cache  # noqa: F401  the views' measurements and figures
    from lab.figures.grid import styled

    styled(go.Figure(go.Scatter(x=[0], y=[0])), "", "", "")  # plotly's validators and template load
    asked = list(_UMAP)  # by a page, before this: the training warm-up waits for it
    training = training_warmed(lambda: quiet(asked))
    return training, umap_compiled(training)


def torch_imported() -> None:
    """Import torch, never beside UMAP's import in another warm-up (`_IMPORTING`)."""
    with _IMPORTING:
        import torch  # noqa: F401


@st.cache_resource
def training_warmed(_wait: Callable[[], object] | None = None) -> Future:
    """One unsaved training epoch (`LiveRuns.warm`), once per process, started by the first call
    (after `_wait()`, when that call gives one): the pages that train call it when they open, as a
    run is then one click away (the first press on a fresh app took 1.9-2.7 s to its first point)."""
    import_pandas()

    def wait() -> None:
        if _wait is not None:
            _wait()
        torch_imported()

    return manager().warm(wait=wait)


