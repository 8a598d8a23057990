"""The epoch player: a slider over a run's saved epochs and a Play button that steps through them."""
from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st


def epoch_player(epochs: Sequence[int], draw: Callable[[int], None], key: str, interval: float = 0.8) -> None:
    """A slider over `epochs` and a Play button; `draw(epoch)` renders the view. Playing
    advances one epoch per tick inside a fragment (only the view redraws) and stops at the end."""
    epochs = list(epochs)
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
            st.caption(f"epoch {epochs[0]} (the only epoch to show)")
    on = st.session_state.get(playing)
    right.button("Pause" if on else "Play", key=f"{key}.play", on_click=toggle, disabled=len(epochs) < 2,
                 icon=":material/pause:" if on else ":material/play_arrow:", width="stretch")

    @st.fragment(run_every=interval if on else None)
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
