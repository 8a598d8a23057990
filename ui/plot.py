"""One plotly figure in the page, drawn by plotly.js itself and redrawn in place: a Streamlit
component (`st.components.v2`, mounted in the page, not in a frame) whose script calls
`Plotly.react` on the same element each time its figure changes. `st.plotly_chart` derives its
element's identity from the whole figure, so a player's next frame or a live curve's next point
was a new element, blank for the 0.1-0.2 s plotly.js took to draw it (10 blank moments in one
play of a lesson); here the previous picture stays until the next one is drawn over it, and
figures that arrive faster than the browser paints wait their turn (each is on screen for at
least a frame: a player's every epoch is painted).

plotly.js (the plotly package's own copy, 4.6 MB) is served once by the app's static folder
(`server.enableStaticServing`, `static/` beside app.py) and loaded by the first figure of a page."""
from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import plotly
import streamlit as st
from plotly.utils import PlotlyJSONEncoder

STATIC = Path(__file__).resolve().parents[1] / "static"  # served at /app/static/ (.streamlit/config.toml)
SCRIPT = "plotly.min.js"
SOURCE = Path(plotly.__file__).parent / "package_data" / SCRIPT
URL = f"app/static/{SCRIPT}"  # relative to the app's base URL

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const box = parentElement.querySelector('.reglab-plot');
  const queue = box.reglabQueue || (box.reglabQueue = []);
  queue.push([JSON.parse(data.figure), data.config]);
  const next = () => {
    if (!queue.length) { box.reglabBusy = false; return; }
    box.reglabBusy = true;
    const [figure, config] = queue.shift();
    box.style.height = `${figure.layout.height || 450}px`;
    const painted = () => requestAnimationFrame(() => requestAnimationFrame(next));  // shown before the next
    window.Plotly.react(box, figure.data, figure.layout, config).then(painted, painted);
  };
  window.reglabPlotly = window.reglabPlotly || (window.Plotly ? Promise.resolve() : new Promise((loaded, failed) => {
    const script = document.createElement('script');
    script.src = new URL(data.src, document.baseURI).href;
    script.onload = loaded;
    script.onerror = failed;
    document.head.appendChild(script);
  }));
  const missing = () => {  // the static folder is not served: say so where the figure would be
    box.reglabBusy = false;
    box.textContent = `The chart library (${data.src}) did not load: start the app from the lab's folder with ` +
      'streamlit run app.py, so that its .streamlit/config.toml serves the static folder.';
  };
  if (!box.reglabBusy) { box.reglabBusy = true; window.reglabPlotly.then(next, missing); }
}
"""
_PLOT = st.components.v2.component("reglab_plot", html='<div class="reglab-plot" style="width: 100%"></div>',
                                   js=_JS, isolate_styles=False)


@functools.cache
def install_script() -> None:
    """plotly.js into the static folder, once (again when the plotly package changed its copy)."""
    target = STATIC / SCRIPT
    if not target.exists() or target.stat().st_size != SOURCE.stat().st_size:
        STATIC.mkdir(exist_ok=True)
        shutil.copyfile(SOURCE, target)


def plot(spec: dict, key: str, config: dict | None = None) -> None:
    """Draw the figure `spec` ({"data", "layout"}) under `key`; a later call with the same key
    redraws the same element in place. `config`: plotly.js's (modebar, PNG export)."""
    install_script()
    _PLOT(key=key, data={"figure": json.dumps(spec, cls=PlotlyJSONEncoder), "config": config or {}, "src": URL})
