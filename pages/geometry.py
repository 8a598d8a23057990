"""Geometry: a run's representation measured over training (neural collapse NC1-NC4, effective rank,
participation ratio, optionally a linear probe per layer), beside a second run on the same probe
points (a saved CE run by default); the layer x layer CKA at any epoch, and the CKA between the two
runs per layer over epochs (METHODS.md, "Geometry of a representation")."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
import ui.method_views
from lab.declare import REFERENCE
from lab.figures.geometry import COLLAPSE, cka_curves, cka_heatmap, geometry_grid
from lab.figures.grid import side_by_side
from lab.notes import note

ui.page("Geometry")
run = ui.runs.page_run()
ui.widgets.explain(f"""
**Neural collapse** (Papyan, Han & Donoho 2020), per hidden layer on the probe points: **NC1** compares the spread
of each class around its mean with the spread of the class means (0: every class a single point);
**equinorm** and **equiangularity** say how unequal the class means' lengths and angles are (0: all equal),
the **simplex gap** how far their angles are from a regular simplex's; on the features, **NC3** compares the
classifier's weight rows with the class means (0: the same up to scale) and **NC4** counts the points where
the classifier and the nearest class mean disagree.

**Effective rank** and **participation ratio**: how many directions the layer's states really use.
**Linear probe**: how well a logistic regression reads the label from the layer (slow: on demand).
**CKA** (Kornblith et al. 2019): how alike two representations of the same points are, up to rotation and scale.

**What to expect.** {note(run.config.method if run else REFERENCE, "geometry")}
""")
record = ui.runs.snapshot_record(run)
c_ref, c_probe = st.columns([3, 2], vertical_alignment="bottom")
with c_ref:
    other = ui.method_views.reference_picker(record, "geometry.other", "Second run, on the same probe points")
probe = c_probe.toggle("Linear probe per layer", key="geometry.probe",
                       help=f"a 5-fold logistic regression per layer, on at most {ui.cache.PROBE_EPOCHS} epochs")
bar = st.progress(0.0, text=f"Linear probes, at most {ui.cache.PROBE_EPOCHS} epochs a run…") if probe else None
step = (lambda f, msg: bar.progress(f, text=f"Linear probes: {msg}")) if bar else None
shown = [(run.label, run.config.method, ui.cache.geometry(record, probe, step))]
if other is not None:
    shown.append((ui.runs.run_label(other.config), other.config.method, ui.cache.geometry(other, probe, step)))
if bar:
    bar.empty()
spectral = ("effective_rank", "participation_ratio") + (("probe_accuracy",) if probe else ())
curves = {"Neural collapse": geometry_grid(shown, COLLAPSE, "Neural collapse over training (0: collapsed)"),
          "Rank": geometry_grid(shown, spectral, "Rank" + (" and linear probe" if probe else "") + " over training"),
          "CKA between the two runs": cka_curves(ui.cache.cka(record, other), "CKA between the two runs, per layer")
          if other is not None else None}
ui.widgets.figure(curves["Neural collapse"], key="geometry.nc", name=f"{record.id}-neural-collapse")
ui.widgets.figure(curves["Rank"], key="geometry.rank", name=f"{record.id}-rank")
if other is not None:
    ui.widgets.figure(curves["CKA between the two runs"], key="geometry.cka_runs", name=f"{record.id}-cka-vs-{other.id}")


def draw(epoch: int) -> list[Row]:
    pair = [(run.label, record)] + ([(ui.runs.run_label(other.config), other)]
                                    if other is not None and epoch in ui.cache.epochs(other) else [])
    figs = side_by_side([cka_heatmap(**ui.cache.cka(rec, epoch=epoch), title=f"{label}: CKA between layers, epoch {epoch}")
                         for label, rec in pair])
    return [Row([Panel(fig, f"geometry.cka.{rec.id}", f"{rec.id}-cka-layers-e{epoch}") for fig, (_, rec) in zip(figs, pair)])]


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
ui.player.epoch_player(ui.cache.epochs(record), draw, key="geometry")
second = (f"Second run: {ui.widgets.esc(ui.runs.run_label(other.config))} · {ui.widgets.esc(other.id)}"
          if other is not None else "No second run")
ui.takehome.page_button("Geometry", [caption, f"{second} · linear probe: {'on' if probe else 'off'}"],
                        ui.cache.epochs(record), draw, curves, [record] + ([other] if other is not None else []))
