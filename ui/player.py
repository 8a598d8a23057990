"""The one epoch player of every view page, Compare and the lessons: a slider over a run's saved
epochs, Play and Pause buttons (one for each state; Streamlit widgets, so nothing covers a
figure's axis titles) and the view, all in one fragment: a step or a tick redraws only these,
and the slider always shows the epoch drawn.

A page's `build(epoch)` returns the frame as `Row`s of `Panel`s (figures built, nothing shown);
the player builds the whole frame first and only then sends the slider, the buttons and every
figure, one after the other with no work between them, so the browser gets them close together
and no figure waits for the next one to be built (measured on the phantom lesson while the machine
was busy: moments where slider, captions and figure titles disagree, 61 of 149 samples before, 25 of
160 after). Elements of the player never dim while a tick runs (`ui.widgets.PLAYER_CSS`). While
playing, the next epoch's frame is built in a background thread as soon as the current one is sent,
and once a view is drawn, its other epochs' frames are built in order in one background thread
(Play starts from the first), so a first Play runs at the pace of the sends, not of the builds.
Each figure is redrawn in place (`ui.plot`): no frame goes blank while the next one is drawn.

Playing advances at most one epoch per tick, and only when the run that sent the epoch on screen
started at least `SPACING` ticks before this one (kept in the session): the browser asks for ticks on
a timer, and ticks that queue up behind a slow frame run back to back, a run's length apart, so
advancing on each of them would send frames faster than the browser paints them and it would show
only some. The pace is the one chosen on the Train page, or a tick every `TICK` seconds (at most ~6.7 epochs
a second; with the time a frame takes to send and paint, a lesson of four figures played 5.0-5.5 here)."""
from __future__ import annotations

import atexit
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from lab.figures.theme import side_by_side_marked
from ui import warm
from ui.widgets import PREFETCH, figure, figure_columns, stacked

PACE = "_pace"  # seconds per epoch chosen on the Train page (0: full speed); a plain key, kept across pages
TICK = 0.15  # seconds per epoch while playing when no pace is chosen
_WARMING = "_player_warming"  # the session's newest warm-up of a view's epochs (`_prefetch`)
SPACING = 0.6  # ticks between the starts of two runs that each move one epoch on (timers jitter)
_EXITING = threading.Event()  # the process is ending: the frame builders stop (`_stop_builders`)
_BUILDERS: set[threading.Thread] = set()  # the threads building frames ahead now


@dataclass
class Panel:
    """One figure of a frame (`ui.widgets.figure`'s key and export name), with a caption above it;
    `fig` None shows only the caption (e.g. why the run has no picture at this epoch)."""

    fig: go.Figure | None
    key: str
    name: str
    caption: str | None = None


@dataclass
class Row:
    """Panels side by side (`figure_columns`, `widths` as `st.columns`' spec) under an optional
    markdown `title`."""

    panels: list[Panel]
    title: str | None = None
    widths: list[int] | None = field(default=None)


def tick(interval: float | None = None) -> float:
    """Seconds per epoch while playing: `interval`, else the chosen pace, else `TICK`."""
    return interval or st.session_state.get(PACE) or TICK


def show(rows: Sequence[Row]) -> None:
    """Send a built frame: titles, captions and figures, nothing computed in between."""
    for row in rows:
        if row.title:
            st.markdown(row.title)
        runs = all(side_by_side_marked(p.fig) for p in row.panels if p.fig is not None)  # several runs' same view
        places = figure_columns(row.widths or len(row.panels), runs) if len(row.panels) > 1 else [st.container()]
        for place, p in zip(places, row.panels):
            with place:
                if p.caption:
                    st.caption(p.caption)
                if p.fig is not None:
                    figure(p.fig, key=p.key, name=p.name)


def _prefetch(build: Callable[[int], Sequence[Row]], epochs: Sequence[int], newest: bool = False) -> None:
    """Build the frames of `epochs`, in order, in a background thread (their figures land in the
    pages' caches); the thread carries the session's script context, so the caches are the session's own.
    Before each frame it waits while a page script runs in the process (a view's first draw is what a
    user waits for: clicking through the views while the last one's epochs were built took 1.5-3.5 s a
    view, 0.5-1.1 s before), and each build counts as one (`warm.page_running`): the server's warm-ups
    wait for it, where torch's import beside it had left a first Play's first epochs unbuilt (first
    Plays of an unviewed run, 6 each here: 4.1-5.3 epochs/s, every epoch painted, against 3.5-4.6 with
    3 of 5 missing 1-2 epochs; a lesson's: 4.6-5.8 against 4.2-5.1 with 2 of 5 missing one).
    `newest`: the session's newest such warm-up, which ends the older ones (the page it warmed is gone)."""
    state, token = st.session_state, object()
    if newest:
        state[_WARMING] = token

    def work() -> None:
        try:
            for epoch in epochs:
                warm.quiet(after=0)
                if _EXITING.is_set() or (newest and state.get(_WARMING) is not token):
                    return
                with warm.page_running():
                    build(epoch)
        except Exception:  # noqa: BLE001  the frame's own drawing shows the error when it is asked for
            return
        finally:
            _BUILDERS.discard(threading.current_thread())

    thread = threading.Thread(target=work, daemon=True, name=PREFETCH)
    add_script_run_ctx(thread, get_script_run_ctx())
    _BUILDERS.add(thread)
    thread.start()


@atexit.register
def _stop_builders(timeout: float = 10.0) -> None:
    """At the process's end, let each frame builder finish the frame in hand and stop: one still
    inside torch when the interpreter ended aborted the process ("terminate called without an active
    exception", rc 134: a test process whose last test drew a lesson)."""
    _EXITING.set()
    end = time.monotonic() + timeout
    for thread in list(_BUILDERS):
        thread.join(max(0.0, end - time.monotonic()))


def epoch_player(epochs: Sequence[int], build: Callable[[int], Sequence[Row]], key: str,
                 interval: float | None = None) -> None:
    """A slider over `epochs` and a Play (while playing: Pause) button; `build(epoch)` returns the
    view's frame (`Row`s). When the epoch shown was the last one and more epochs arrive (a live
    run), it moves on to the new last."""
    epochs = list(epochs)
    at, playing, slider, last, drawn_at, warmed = (f"{key}.{part}" for part in
                                                   ("epoch", "playing", "slider", "last", "drawn_at", "warmed"))
    state = st.session_state
    if state.get(at) not in epochs or (state.get(at) == state.get(last) and not state.get(playing)):
        state[at] = epochs[-1]
    state[last] = epochs[-1]
    on = bool(state.get(playing))

    def moved() -> None:
        state[at] = state[slider]
        state[playing] = False

    def play(start: bool) -> None:
        """Play (`start`) or pause. Streamlit can deliver one click twice (a fragment timer's message
        sent at the same moment carries the click too: a first Play stopped at once, 1 in ~40 here),
        so each state has a button of its own and a click for the state already on changes nothing."""
        if bool(state.get(playing)) == start:
            return
        state[playing] = start
        if start and state[at] == epochs[-1]:
            state[at] = epochs[0]
        state[drawn_at] = None  # the epoch on screen now is shown for a whole tick before the first move
        st.rerun()  # the click's run is the whole app's, which sets (or clears) the fragment's timer at once

    @st.fragment(run_every=tick(interval) if on else None)
    @warm.page_running()  # a Play's ticks are page scripts too: the server's background warm-ups (UMAP's
    def view() -> None:  # import and compilation, the training epoch) wait until it has ended, not land in it
        started, shown = time.monotonic(), state.get(drawn_at)
        due = shown and shown[0] == state[at] and started - shown[1] >= SPACING * tick(interval)
        if on and state.get(playing) and due:
            i = epochs.index(state[at]) + 1  # the epoch on screen has had its tick: on to the next one
            if i < len(epochs):
                state[at] = epochs[i]
            else:
                state[playing] = False
        epoch = state[at]
        rows = build(epoch)  # everything slow happens here, before anything is sent
        state[slider] = epoch  # the slider is created below, in this same fragment run: it shows `epoch`
        now = bool(state.get(playing))
        with st.container(key=f"player-{key}"):
            left, right = st.columns([3, 1] if stacked() else [5, 1], vertical_alignment="bottom")  # room for "Pause"
            with left:
                if len(epochs) > 1:  # held while playing: the browser would send the moving value back as a move
                    st.select_slider("epoch", epochs, key=slider, on_change=moved, disabled=now)
                else:
                    st.caption(f"epoch {epochs[0]} (the only epoch to show)")
            label = "Pause" if now else "Play"
            right.button(label, key=f"{key}.{label.lower()}", on_click=play, args=(not now,), disabled=len(epochs) < 2,
                         icon=":material/pause:" if now else ":material/play_arrow:", width="stretch")
            show(rows)
        if not shown or shown[0] != epoch:
            state[drawn_at] = epoch, started
        if now and epoch != epochs[-1]:
            _prefetch(build, [epochs[epochs.index(epoch) + 1]])
        elif not now:  # Play starts from the first epoch: its frames, in order, once per what is on screen
            shown_now = tuple(sorted(st.query_params.to_dict().items()))  # the run(s) and lesson on screen
            done = state.get(warmed, {}).get(shown_now, set())
            if todo := [e for e in epochs[:-1] if e not in done]:
                state[warmed] = {**state.get(warmed, {}), shown_now: done | set(todo)}
                _prefetch(build, todo, newest=True)
        if bool(state.get(playing)) != on:  # the timer is set when the fragment is declared: start or stop it
            st.rerun()

    view()
