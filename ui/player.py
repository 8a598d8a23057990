"""The one epoch player of every view page, Compare and the lessons: a slider over a run's saved
epochs, a Play/Pause button (Streamlit widgets, so nothing covers a figure's axis titles) and
the view, all in one fragment: a step or a tick redraws only these, and the slider always shows
the epoch drawn. Playing advances at most one epoch per tick, and only when the run that sent the
epoch on screen started at least `SPACING` ticks before this one (kept in the session): the browser
asks for ticks on a timer, and ticks that queue up behind a slow frame run back to back, a run's
length apart (0.03-0.13 s here), so advancing on each of them would send frames faster than the
browser paints them and it would show only some. Measured from the end of that run instead, a tick
came too early by the run's own length and every epoch took two ticks (2 frames/s at 4 asked for).
The pace is the one chosen on the Train page, or 5 epochs a second."""
from __future__ import annotations

import time
from typing import Callable, Sequence

import streamlit as st

from ui.widgets import stacked

PACE = "_pace"  # seconds per epoch chosen on the Train page (0: full speed); a plain key, kept across pages
TICK = 0.2  # seconds per epoch while playing when no pace is chosen
SPACING = 0.6  # ticks between the starts of two runs that each move one epoch on (timers jitter)


def tick(interval: float | None = None) -> float:
    """Seconds per epoch while playing: `interval`, else the chosen pace, else `TICK`."""
    return interval or st.session_state.get(PACE) or TICK


def epoch_player(epochs: Sequence[int], draw: Callable[[int], None], key: str, interval: float | None = None) -> None:
    """A slider over `epochs` and a Play button; `draw(epoch)` renders the view. When the epoch
    shown was the last one and more epochs arrive (a live run), it moves on to the new last."""
    epochs = list(epochs)
    at, playing, slider, last, drawn_at = (f"{key}.{part}" for part in ("epoch", "playing", "slider", "last", "drawn_at"))
    state = st.session_state
    if state.get(at) not in epochs or (state.get(at) == state.get(last) and not state.get(playing)):
        state[at] = epochs[-1]
    state[last] = epochs[-1]
    on = bool(state.get(playing))

    def moved() -> None:
        state[at] = state[slider]
        state[playing] = False

    def toggle() -> None:
        state[playing] = not state.get(playing, False)
        if state[playing] and state[at] == epochs[-1]:
            state[at] = epochs[0]
        state[drawn_at] = None  # the epoch on screen now is shown for a whole tick before the first move

    @st.fragment(run_every=tick(interval) if on else None)
    def view() -> None:
        started, shown = time.monotonic(), state.get(drawn_at)
        due = shown and shown[0] == state[at] and started - shown[1] >= SPACING * tick(interval)
        if on and state.get(playing) and due:
            i = epochs.index(state[at]) + 1  # the epoch on screen has had its tick: on to the next one
            if i < len(epochs):
                state[at] = epochs[i]
            else:
                state[playing] = False
        epoch = state[at]
        state[slider] = epoch  # the slider is created below, in this same fragment run: it shows `epoch`
        now = bool(state.get(playing))
        left, right = st.columns([3, 1] if stacked() else [5, 1], vertical_alignment="bottom")  # large letters: room for "Pause"
        with left:
            if len(epochs) > 1:  # held while playing: the browser would send the moving value back as a move
                st.select_slider("epoch", epochs, key=slider, on_change=moved, disabled=now)
            else:
                st.caption(f"epoch {epochs[0]} (the only epoch to show)")
        right.button("Pause" if now else "Play", key=f"{key}.play", on_click=toggle, disabled=len(epochs) < 2,
                     icon=":material/pause:" if now else ":material/play_arrow:", width="stretch")
        draw(epoch)
        if not shown or shown[0] != epoch:
            state[drawn_at] = epoch, started
        if bool(state.get(playing)) != on:  # the timer is set when the fragment is declared: start or stop it
            st.rerun()

    view()
