"""The app's shared pieces, one job per module: `nav` (the table of pages, links), `runs` (run
ownership and lookup, the run picker), `widgets` (declared parameters, text, figures), `cache`
(measurements and the one-epoch views), `player` (the epoch player).

Layout and widgets only: every number shown comes from `lab`. Pages import this package; it
imports `lab`, never the other way round."""
from importlib import import_module

import streamlit as st

from ui import nav, player, runs, widgets

__all__ = ["cache", "nav", "page", "player", "runs", "widgets"]


def __getattr__(name: str):
    """`ui.cache` on first use: it imports the measurements (and torch), which Home does not need."""
    if name != "cache":
        raise AttributeError(f"module 'ui' has no attribute {name!r}")
    return import_module("ui.cache")


def frame() -> None:
    """The sidebar every page shares: the run picker, the presentation toggles, the chart library's
    preload and the server's warm-ups once the first page is drawn (before the page, which may st.stop())."""
    runs.run_picker()
    widgets.presentation()
    widgets.preload_charts(then=lambda: runs.warm_ups())


def page(title: str) -> None:
    """Start a page: app.py's `frame` when Streamlit ran the page without it (see
    `nav.outside_navigation`), then the page's title."""
    if nav.outside_navigation():
        frame()
    st.title(title)
