"""RegLab: `streamlit run app.py`. The router and the frame: page list, shared sidebar.

Runs live in $REGLAB_RUNS (default ./runs). Every file in pages/ is listed here
(with `st.navigation` the folder is not scanned; tests/test_app.py checks the list).
"""
import streamlit as st

import ui

st.set_page_config(page_title="RegLab", page_icon="🧪", layout="wide")
page = st.navigation({
    "Lab": [st.Page(ui.PAGES["home"], title="Home", icon="🏠", default=True),
            st.Page(ui.PAGES["train"], title="Train", icon="🏋️"),
            st.Page(ui.PAGES["runs"], title="Runs", icon="🗂️"),
            st.Page(ui.PAGES["compare"], title="Compare", icon="⚖️")],
    "Views": [st.Page(ui.PAGES["embeddings"], title="Embeddings", icon="🗺️"),
              st.Page(ui.PAGES["hypersphere"], title="Hypersphere", icon="🌐"),
              st.Page(ui.PAGES["similarity"], title="Similarity", icon="🟥"),
              st.Page(ui.PAGES["information"], title="Information", icon="ℹ️")],
})
ui.run_picker()
page.run()
