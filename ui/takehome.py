"""Downloads of what is on screen as one offline HTML page (`lab.takehome`): the Lessons page's
lesson (quoting `python -m lab lesson`'s lines), and `page_button`, the one button of every view
page and Compare. Each is built when the button is pressed (a deferred `st.download_button`
callable, its icon a spinner meanwhile) and kept for the next press while the runs stay as they are."""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable, Mapping, Sequence

import plotly.graph_objects as go
import streamlit as st

from lab.lessons import LESSONS, Lesson
from lab.readout.series import spaced
from lab.store import RunRecord, load_run
from lab.takehome import MOST_FRAMES, player_page
from ui.player import Row

Stamp = tuple[tuple[str, str, int], ...]  # each run's folder, status and snapshot count: a changed run builds anew


def stamp(runs: Sequence[RunRecord]) -> Stamp:
    """The runs' `Stamp`, part of a cached page's name."""
    return tuple((str(r.path), r.state, len(r.snapshot_epochs)) for r in runs)


@st.cache_data(max_entries=4, show_spinner=False)
def page(name: str, runs: Stamp) -> bytes:
    """The take-home page of lesson `name`'s CE and method runs (folders in `runs`), as bytes."""
    from lab.cli.lesson import take_home

    ce, method = (load_run(Path(path)) for path, _, _ in runs)
    return take_home(LESSONS[name], [(ce, method)]).encode()


def button(lesson: Lesson, ce: RunRecord, method: RunRecord) -> None:
    """A button that downloads the lesson's page of `ce` and `method`: its text, settings, verdict,
    quantity over epochs and views animated over epochs."""
    st.download_button("Take this lesson home (one HTML page)", data=partial(page, lesson.name, stamp((ce, method))),
                       file_name=f"lesson-{lesson.name}-s{ce.config.seed}.html", mime="text/html", on_click="ignore",
                       icon=":material/download:", key="lesson.home",
                       help="one offline page: the claim, how the settings were chosen, the verdict with its numbers, "
                            "the quantity over epochs and both runs' views with a Play button (builds in a few seconds)")


def _plain(markdown: str | None) -> str | None:
    """A line, caption or row title in markdown as plain text: no heading marks, bold or backslash escapes."""
    if markdown is None:
        return None
    return re.sub(r"\\(.)", r"\1", re.sub(r"^#+\s*", "", markdown).replace("**", ""))


@st.cache_data(max_entries=4, show_spinner=False)
def _built(key: tuple, _build: Callable[[], str]) -> bytes:
    """`_build()`'s page as bytes, once per `key` (the page, its lines, epochs and runs' `stamp`)."""
    return _build().encode()


def page_button(title: str, lines: Sequence[str], epochs: Sequence[int], draw: Callable[[int], Sequence[Row]],
                figures: Mapping[str, go.Figure | None], runs: Sequence[RunRecord]) -> None:
    """A button that downloads the page called `title` (showing `runs`) as one offline HTML page
    (`lab.takehome.player_page`): `lines` (markdown: the run ids and every setting that `draw`
    and `figures` depend on; they also name the cached page), `figures` (heading -> figure; None:
    left out) and the player's panels `draw(epoch)` at up to `MOST_FRAMES` of `epochs`, built on
    the press (the button spins meanwhile), kept while the runs and the lines stay as they are."""
    def build() -> str:
        shown = spaced(list(epochs), MOST_FRAMES)
        frames = {e: [(_plain(row.title), [(_plain(p.caption), p.fig) for p in row.panels]) for row in draw(e)]
                  for e in shown}
        shown_figures = {k: f for k, f in figures.items() if f is not None}
        return player_page(title, [_plain(line) for line in lines], runs, shown_figures, frames)

    key = (title, tuple(lines), tuple(epochs), stamp(runs))
    name = re.sub(r"[^\w.-]+", "-", f"{title}-{runs[0].id}" + (f"-and-{len(runs) - 1}-more" if len(runs) > 1 else ""))
    st.download_button("Take this page home (one HTML page)", data=partial(_built, key, build),
                       file_name=f"{name.lower()}.html", mime="text/html", on_click="ignore",
                       icon=":material/download:", key="takehome." + re.sub(r"\W+", "-", title.lower()),
                       help="one offline page: what this page shows, the runs' settings, its figures over training "
                            f"and every panel above at up to {MOST_FRAMES} epochs with a Play button, all panels "
                            "moving together. It draws every epoch's figures first: that can take a minute on a "
                            "long run (the button spins meanwhile)")
