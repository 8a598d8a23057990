"""The app's pages, listed once: `PAGES` (key, file, title, icon, section, and for the views what
they draw) is what `app.py`'s navigation, the Home page's text and links, the run picker's note,
the view links, Compare's small multiples, the benchmark and the tests all read. Teaching notes
are keyed by these keys in assets/notes.toml. Icons are Streamlit's bundled Material Symbols (no
emoji: a browser without an emoji font shows boxes); the tab's is assets/favicon.png."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from lab.paths import ASSETS
from ui.widgets import stacked

APP_ICON = str(ASSETS / "favicon.png")  # the tab's icon, served by the app (a material one is fetched from Google)


@dataclass(frozen=True)
class Page:
    """One page of the app: `key` names it in code, `path` is its file, `section` its sidebar group.
    A view page also says whether it draws for every run (`every_run`: not the method's own views,
    which CE has none of, nor the decision boundary, which needs 2-D inputs) and how many figures it
    draws at least for a finished run of the default settings (`charts`: the benchmark waits for them)."""

    key: str
    path: str
    title: str
    icon: str
    section: str
    every_run: bool = True
    charts: int = 0


PAGES: dict[str, Page] = {p.key: p for p in (
    Page("home", "pages/home.py", "Home", ":material/home:", "Lab"),
    Page("lessons", "pages/lessons.py", "Lessons", ":material/school:", "Lab"),
    Page("train", "pages/train.py", "Train", ":material/fitness_center:", "Lab"),
    Page("runs", "pages/runs.py", "Runs", ":material/folder_open:", "Lab"),
    Page("compare", "pages/compare.py", "Compare", ":material/compare:", "Lab"),
    Page("embeddings", "pages/embeddings.py", "Embeddings", ":material/scatter_plot:", "Views", charts=2),
    Page("hypersphere", "pages/hypersphere.py", "Hypersphere", ":material/public:", "Views", charts=4),
    Page("similarity", "pages/similarity.py", "Similarity", ":material/grid_on:", "Views", charts=3),
    Page("information", "pages/information.py", "Information", ":material/info:", "Views", charts=2),
    Page("geometry", "pages/geometry.py", "Geometry", ":material/hub:", "Views", charts=3),
    Page("method", "pages/method.py", "Method views", ":material/biotech:", "Views", every_run=False),
    Page("boundary", "pages/boundary.py", "Decision boundary", ":material/border_style:", "Views", every_run=False),
)}
VIEWS = [p.key for p in PAGES.values() if p.section == "Views"]
EVERY_RUN = [k for k in VIEWS if PAGES[k].every_run]  # the views any saved run opens in
ONE_RUN = ("train", "runs", *VIEWS)  # the pages that show the sidebar's run (its link names what is on screen)


def key_of(title: str) -> str | None:
    """The key in `PAGES` of the page titled `title` (titles are unique)."""
    return next((p.key for p in PAGES.values() if p.title == title), None)


def path(key: str) -> str:
    """The file of page `key`, as st.switch_page and st.page_link take it."""
    return PAGES[key].path


def navigation() -> StreamlitPage:
    """st.navigation over every page of `PAGES`, grouped by section; Home is the default."""
    sections: dict[str, list] = {}
    for p in PAGES.values():
        sections.setdefault(p.section, []).append(st.Page(p.path, title=p.title, icon=p.icon,
                                                          default=p.key == "home"))
    return st.navigation(sections)


def link(key: str, label: str | None = None, run: str | None = None, **query: str) -> None:
    """A link to page `key` with its icon (label: its title), showing `run` when given; `query`:
    more URL parameters (e.g. lesson="mhe")."""
    p = PAGES[key]
    params = {**({"run": run} if run else {}), **query}
    st.page_link(p.path, label=label or p.title, icon=p.icon, query_params=params or None)


def view_links(run_id: str, but: str | None = None) -> None:
    """Links to the view pages of one run, side by side (all but page `but`), in rows of three when
    the letters are large (projector mode: six in a row cut their names to four letters)."""
    keys = [k for k in VIEWS if k != but]
    per_row = 3 if stacked() else len(keys)
    for start in range(0, len(keys), per_row):
        for col, key in zip(st.columns(per_row), keys[start:start + per_row]):
            with col:
                link(key, run=run_id)


def outside_navigation() -> bool:
    """True when Streamlit ran a page file without app.py's frame (the caller then draws it).

    Because a pages/ folder exists, Streamlit runs a pages/ file by itself (its old multipage
    mode) until an st.navigation call has run once in the process: on a fresh server whose first
    request is a page URL (/train?run=...), and on every AppTest run after switch_page. There is
    no public switch for this mode in Streamlit 1.67 (only renaming pages/, which the layout
    keeps), so the flag of the private `PagesManager` is turned off here, the one place that
    touches it. On a session's first run (nothing to lose) the script reruns through app.py;
    otherwise (a rerun would drop the click that caused it) the caller draws the frame itself."""
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return False
    PagesManager.uses_pages_directory = False
    if not st.session_state:
        st.rerun()
    return True
