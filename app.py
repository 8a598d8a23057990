"""RegLab: `streamlit run app.py`. The router and the frame: the pages of `ui.nav.PAGES`, the
shared sidebar (the run picker, the presentation toggles, the chart library's preload), then
the chosen page and the download of its figures.

Runs live in $REGLAB_RUNS (default ./runs). With `st.navigation` the pages/ folder is not
scanned, so every file in it is listed in `ui.nav.PAGES` (tests/test_ui.py checks it)."""
import streamlit as st

import ui

st.set_page_config(page_title="RegLab", page_icon=ui.nav.APP_ICON, layout="wide")
page = ui.nav.navigation()
ui.frame(ui.nav.key_of(getattr(page, "title", "")))  # no title outside a server (a spawned child re-running this file)
with ui.warm.page_running():
    page.run()
ui.widgets.figures_download()
