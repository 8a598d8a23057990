"""The methods' own one-epoch views in the app: `lab.views` declares them (a method lists the
ones it motivates in `Regularizer.views`); here each is drawn for a saved run from the app's
caches, once per run, epoch and reference run (a player stepping back draws it again at once)."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lab import views
from lab.declare import REFERENCE, View
from lab.measure.quantities import Probe
from lab.measure.snapshot import n_classes
from lab.store import RunRecord, load_probe, load_run
from ui import cache, runs, widgets


def probe(record: RunRecord) -> Probe:
    """The run's probe inputs (read once through the store) and architecture."""
    x = cache._cached(("probe", str(record.path)), lambda: load_probe(record.path))["x"]
    return Probe.of(x, record.config, n_classes(cache.first_snapshot(record)))


def shown(record: RunRecord) -> list[View]:
    """The views the run's method declares that can be drawn for this run."""
    p = probe(record)
    return [v for v in views.method_views(record.config.method) if views.available(v, p)]


@st.cache_resource(max_entries=256, show_spinner=False)
def _drawn(key: str, method: str, path: str, epoch: int, reference: str | None) -> go.Figure:
    record, view = load_run(path), views.view(key, method)
    ref = None
    if reference is not None:
        other = load_run(reference)
        ref = (f"{runs.run_label(other.config)} ({other.id})", other.config.method, cache.snapshot(other, epoch))
    with widgets.busy("Measuring the snapshot…"):
        return views.build(view, cache.snapshot(record, epoch), probe(record), epoch, ref)


def draw(view: View, record: RunRecord, epoch: int, method: str | None = None,
         reference: RunRecord | None = None) -> go.Figure:
    """`view` of the run at `epoch` (a view of `method`'s, default the run's own method); an overlay
    view also draws `reference` at the same epoch, when it has one. Shared: never change it."""
    overlaid = view.overlay and reference is not None and epoch in cache.epochs(reference)
    return _drawn(view.key, method or record.config.method, str(record.path), epoch,
                  str(reference.path) if overlaid else None)


def comparable(record: RunRecord) -> list[RunRecord]:
    """Saved runs with the same data, model, seed, epochs and sizes as `record` (any method; the
    reference method first), the candidates to draw beside it at the same epoch."""
    fields = ("data", "data_params", "data_seed", "model", "model_params", "seed", "epochs", "train_size",
              "probe_size")
    same = [r for r in runs.saved_runs() if r.id != record.id
            and all(getattr(r.config, f) == getattr(record.config, f) for f in fields)]
    return sorted(same, key=lambda r: r.config.method != REFERENCE)


def reference_picker(record: RunRecord, key: str, label: str = "Reference run") -> RunRecord | None:
    """A select box of the runs `comparable` with `record` (none selectable; a saved reference-method
    run by default), with a caption when there is no such run; the picked run or None."""
    candidates = {r.id: r for r in comparable(record)}
    default = next((i + 1 for i, r in enumerate(candidates.values()) if r.config.method == REFERENCE), 0)
    picked = st.selectbox(label, [None, *candidates], index=default, key=key,
                          format_func=lambda r: "none" if r is None else f"{runs.run_label(candidates[r].config)} · {r}",
                          help="a saved run with the same data, model, seed and epochs, drawn beside at the same epoch")
    if default == 0:
        st.caption(f"No saved **{REFERENCE}** run with the same data, model, seed and epochs: train one to see it beside.")
    return candidates.get(picked)
