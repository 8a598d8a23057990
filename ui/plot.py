"""One plotly figure in the page, drawn by plotly.js itself and redrawn in place: a Streamlit
component (`st.components.v2`, mounted in the page, not in a frame) whose script calls
`Plotly.react` on the same element each time its figure changes. `st.plotly_chart` derives its
element's identity from the whole figure, so a player's next frame or a live curve's next point
was a new element, blank for the 0.1-0.2 s plotly.js took to draw it (10 blank moments in one
play of a lesson); here the previous picture stays until the next one is drawn over it, and
figures that arrive faster than the browser paints wait their turn (each is on screen for at
least a frame: a player's every epoch is painted).

plotly.js is served by the app's static folder (`server.enableStaticServing`, `static/` beside
app.py) and loaded by the first figure of a page that needs it: plotly.js's own cartesian bundle
(1.5 MB, `assets/plotly-cartesian.min.js`: npm's plotly.js-cartesian-dist-min of the plotly package's
plotly.js version, MIT licence beside it; scatter, bar, heatmap, histogram, contour, ...) for the
2-D figures, which are nearly all, and the full one (4.8 MB, the plotly package's copy) only for a
figure with 3-D or WebGL traces. The full one alone took the browser seconds to fetch and start on
a fresh app, while the first Train press waited behind it for its first curve point."""
from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import plotly
import streamlit as st

from lab.paths import ASSETS

STATIC = Path(__file__).resolve().parents[1] / "static"  # served at /app/static/ (.streamlit/config.toml)
SOURCES = {"plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
           "plotly-cartesian.min.js": ASSETS / "plotly-cartesian.min.js"}
CARTESIAN = ("bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie",
             "scatter", "scatterternary", "violin")  # the trace types of the cartesian bundle (its README)
URLS = {"cartesian": "app/static/plotly-cartesian.min.js", "full": "app/static/plotly.min.js"}  # relative to the app

_LOADER = f"const URLS = {json.dumps(URLS)}, CARTESIAN = {json.dumps(CARTESIAN)};" + """
const reglabLoad = (name) => {  // plotly.js bundle `name`, once per page, one bundle at a time (each sets window.Plotly)
  const libs = window.reglabLibs || (window.reglabLibs = {});
  return libs[name] || (libs[name] = window.reglabLoading =
    (window.reglabLoading || Promise.resolve()).catch(() => {}).then(() => new Promise((loaded, failed) => {
      const script = document.createElement('script');
      script.src = new URL(URLS[name], document.baseURI).href;
      script.onload = () => loaded(window.Plotly);
      script.onerror = failed;
      document.head.appendChild(script);
    })));
};
"""
_JS = _LOADER + """
export default function (component) {
  const { data, parentElement } = component;
  const box = parentElement.querySelector('.reglab-plot');
  const queue = box.reglabQueue || (box.reglabQueue = []);
  queue.push([JSON.parse(data.figure), JSON.parse(data.config)]);
  const missing = (src) => {  // the static folder is not served: say so where the figure would be
    box.reglabBusy = false;
    box.textContent = `The chart library (${src}) did not load: start the app from the lab's folder with ` +
      'streamlit run app.py, so that its .streamlit/config.toml serves the static folder.';
  };
  const next = () => {
    if (!queue.length) { box.reglabBusy = false; return; }
    box.reglabBusy = true;
    const [figure, config] = queue.shift();
    const name = figure.data.every(t => CARTESIAN.includes(t.type || 'scatter')) ? 'cartesian' : 'full';
    reglabLoad(name).then(Plotly => {
      if (box.reglabLib && box.reglabLib !== Plotly) box.reglabLib.purge(box);  // drawn by the other bundle
      box.reglabLib = Plotly;
      box.style.height = `${figure.layout.height || 450}px`;
      const painted = () => requestAnimationFrame(() => requestAnimationFrame(next));  // shown before the next
      Plotly.react(box, figure.data, figure.layout, config).then(painted, painted);
    }, () => missing(URLS[name]));
  };
  if (!box.reglabBusy) next();
}
"""
_PRELOAD_JS = _LOADER + """
export default function (component) {
  const { data } = component;
  if (window.reglabLibs && window.reglabLibs.cartesian) return;  // this page has it, or is fetching it
  const start = () => reglabLoad('cartesian').then(Plotly => {  // and a first figure, out of sight
    const box = document.createElement('div');
    box.style.cssText = 'position: fixed; left: -2000px; top: 0; width: 200px; height: 60px';
    document.body.appendChild(box);
    const done = () => { Plotly.purge(box); box.remove(); window.reglabPreloaded = true; };
    Plotly.newPlot(box, [{type: 'scatter', x: [0], y: [0]}], {height: 60}, {staticPlot: true}).then(done, done);
  }, () => {});  // a figure that needs it says why it did not load
  const idle = () => (window.requestIdleCallback || ((f) => setTimeout(f, 200)))(start, {timeout: data.within_ms});
  const app = document.querySelector('[data-testid="stApp"]');
  const state = () => app && app.getAttribute('data-test-script-state');  // absent: do not wait for it
  const drawn = () => !state() || state() === 'notRunning';
  const wait = () => (drawn() ? idle() : setTimeout(wait, 50));  // after the page's script: the bundle's
  wait();  // evaluation (0.5-0.7 s here) holds up the browser's drawing of anything else while it runs
}
"""
_PLOT = st.components.v2.component("reglab_plot", html='<div class="reglab-plot" style="width: 100%"></div>',
                                   js=_JS, isolate_styles=False)
_PRELOADER = st.components.v2.component("reglab_plot_preload", html="<div></div>", js=_PRELOAD_JS, isolate_styles=False)
PRELOAD_WITHIN_MS = 1000  # ms after the page is drawn: the browser starts the chart library when idle, or then


@functools.cache
def install_scripts() -> None:
    """The two plotly.js bundles into the static folder, once (again when a source changed size)."""
    for name, source in SOURCES.items():
        target = STATIC / name
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            STATIC.mkdir(exist_ok=True)
            shutil.copyfile(source, target)


def plot(spec: dict, key: str, config: dict | None = None) -> None:
    """Draw the figure `spec` ({"data", "layout"}) under `key`; a later call with the same key
    redraws the same element in place. `config`: plotly.js's (modebar, PNG export). The data are
    strings only: a dict or list among them makes Streamlit look for data frames in it, which
    imports pandas (0.7 s in a session's first run, when it was the first figure or preload)."""
    from plotly.utils import PlotlyJSONEncoder  # here: it imports PIL and numpy, which the first page needs not

    install_scripts()
    _PLOT(key=key, data={"figure": json.dumps(spec, cls=PlotlyJSONEncoder), "config": json.dumps(config or {})})


def preload() -> None:
    """Have the browser fetch and start plotly.js's cartesian bundle (and draw a first figure out of
    sight) once this page's script has finished and the browser is idle (at most `PRELOAD_WITHIN_MS`
    after that), once per browser tab: a fresh app's first Train press, made as soon as the button
    was drawn, waited 1.8-2.4 s for its first curve point while the browser fetched and started the
    bundle that the page's first figure had only just asked for (the point had been sent after 0.55 s)."""
    install_scripts()
    _PRELOADER(key="reglab-plot-preload", data={"within_ms": PRELOAD_WITHIN_MS})
