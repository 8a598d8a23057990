"""The app's shared pieces, one job per module: `nav` (the table of pages, links), `runs` (run
ownership and lookup, the run picker), `widgets` (declared parameters, text, figures), `link` (a
link with a copy button), `cache` (measurements and the one-epoch views), `player` (the epoch
player), `own_data` (uploads and files of your own).

Layout and widgets only: every number shown comes from `lab`. Pages import this package; it
imports `lab`, never the other way round."""
import os
import sys
from importlib import import_module

import streamlit as st

from ui import link, nav, picker, player, plugins, runs, warm, widgets

# BLAS on one thread in the app's process (unless $OPENBLAS_NUM_THREADS says otherwise): its measurements
# are small products (a probe of a few hundred points), for which OpenBLAS's second thread costs more
# than it gives. On 2 cores the PCA of 449 x 256 features took 23 ms on 2 threads against 9 ms on one,
# and 81 ms against 13 ms with another process busy, as the server's training and warm-up threads make
# it. numpy's and scipy's OpenBLAS read the variable when they load (in the app, after the first page,
# which needs neither); one loaded already (a test's process) is told through threadpoolctl.
_BLAS_THREADS = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", "1"))
if "numpy" in sys.modules:
    from threadpoolctl import threadpool_limits

    threadpool_limits(_BLAS_THREADS, user_api="blas")

__all__ = ["cache", "link", "nav", "own_data", "page", "picker", "player", "plugins", "runs", "warm", "widgets"]
_LAZY = ("cache", "own_data")  # they import torch (the measurements, the data sets), which Home does not need


def __getattr__(name: str):
    """`ui.cache` and `ui.own_data` on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'ui' has no attribute {name!r}")
    return import_module(f"ui.{name}")


def frame(key: str | None = None) -> None:
    """The sidebar every page shares: the run picker (with the link to the run on pages that show
    it: `nav.ONE_RUN`; page `key`), the presentation toggles, the chart library's preload and the
    server's warm-ups once the first page is drawn (before the page, which may st.stop())."""
    if plugins.configured():
        plugins.load()
    picker.run_picker(link=key in nav.ONE_RUN)
    widgets.presentation()
    widgets.preload_charts(then=warm.warm_ups)


def page(title: str) -> None:
    """Start a page: app.py's `frame` when Streamlit ran the page without it (see
    `nav.outside_navigation`), then the page's title."""
    if nav.outside_navigation():
        frame(nav.key_of(title))
    st.title(title)
