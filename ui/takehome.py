"""The Lessons page's download of the lesson on screen as one offline HTML page
(`lab.takehome`, quoting `python -m lab lesson`'s lines): built when the button is pressed (a
deferred `st.download_button` callable), kept for the next press while the runs stay as they are."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from lab.lessons import LESSONS, Lesson
from lab.store import RunRecord, load_run

Stamp = tuple[tuple[str, str, int], ...]  # each run's folder, status and snapshot count: a changed run builds anew


@st.cache_data(max_entries=4, show_spinner=False)
def page(name: str, runs: Stamp) -> bytes:
    """The take-home page of lesson `name`'s CE and method runs (folders in `runs`), as bytes."""
    from lab.cli.lesson import take_home

    ce, method = (load_run(Path(path)) for path, _, _ in runs)
    return take_home(LESSONS[name], [(ce, method)]).encode()


def button(lesson: Lesson, ce: RunRecord, method: RunRecord) -> None:
    """A button that downloads the lesson's page of `ce` and `method`: its text, settings, verdict,
    quantity over epochs and views animated over epochs."""
    stamp = tuple((str(r.path), r.state, len(r.snapshot_epochs)) for r in (ce, method))
    st.download_button("Take this lesson home (one HTML page)", data=partial(page, lesson.name, stamp),
                       file_name=f"lesson-{lesson.name}-s{ce.config.seed}.html", mime="text/html", on_click="ignore",
                       icon=":material/download:", key="lesson.home",
                       help="one offline page: the claim, how the settings were chosen, the verdict with its numbers, "
                            "the quantity over epochs and both runs' views with a Play button (builds in a few seconds)")
