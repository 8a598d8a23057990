"""Decision boundary: on a 2-D data set, the classifier's predicted class over the plane with the
training points on top, at any epoch; a second run (e.g. CE beside the method) side by side."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
from lab.store import load_probe
from lab.declare import REFERENCE
from lab.figures.grid import side_by_side

ui.page("Decision boundary")
run = ui.runs.page_run()
ui.widgets.explain("""
**Quantity.** On a data set with 2-D inputs (moons, circles, spirals) every point of the plane is an input
the network can classify. The colour of a region is the class the network predicts there; it is strong
where the network is confident (softmax probability near 1) and faint where it hesitates (near 1/C). The
border between colours is the **decision boundary**. The dots are the **training points** in their true
class colours; inputs are standardised (zero mean, unit variance per axis), so the axes are in those units.

**Across epochs.** The regions are computed on a fixed 64 x 64 grid covering the data (plus a 10% margin)
at every saved epoch; press Play to watch the boundary bend around the data.

**What to expect.** A method that regularizes the features may draw a smoother or wider-margin boundary than
plain CE on the same data and seed; pick a CE run as the second run to compare.
""")
record = ui.runs.snapshot_record(run)
if "grid_logits" not in ui.cache.first_snapshot(record):
    shape = tuple(load_probe(record)["x"].shape[1:])
    if shape == (2,):
        st.info("This run was saved before the lab stored decision-boundary grids; train it again to see its "
                "boundary.")
    else:
        st.info(f"There is no boundary to draw: **{ui.widgets.esc(record.config.data_label)}** inputs have "
                f"{' x '.join(map(str, shape))} values, and a decision boundary is drawn only in a 2-D input plane "
                "(moons, circles, spirals, blobs, or your own 2-column table). See how its classes separate in the features instead:")
        ui.nav.link("embeddings", run=record.id)
    st.stop()

same_data = {r.id: r for r in ui.runs.saved_runs() if r.id != record.id and r.config.data == record.config.data
             and r.config.data_params == record.config.data_params}
ces = [i for i, r in enumerate(same_data.values()) if r.config.method == REFERENCE and r.config.seed == record.config.seed]
same_model = [i for i in ces if list(same_data.values())[i].config.model_params == record.config.model_params]
ce = (same_model or ces or [None])[0]  # by default CE of the same seed, and of the same model when there is one
other = st.selectbox("Second run, side by side", list(same_data), index=None if record.config.method == REFERENCE else ce,
                     format_func=lambda r: f"{ui.runs.run_label(same_data[r].config)} · {r}", key="boundary.other",
                     placeholder="none", help="a saved run on the same data set, e.g. CE beside the method")
shown = [record]
if other:
    second = same_data[other]
    if ui.cache.epochs(second) and "grid_logits" in ui.cache.first_snapshot(second):
        shown.append(second)
    else:
        st.info("The second run has no boundary to draw yet: no readable snapshot, or it was saved before the lab "
                "stored decision-boundary grids.")
epochs = sorted(set.intersection(*(set(ui.cache.epochs(r)) for r in shown)))


def draw(epoch: int) -> list[Row]:
    figs = side_by_side([ui.cache.boundary_view(r, epoch, ui.runs.run_label(r.config)) for r in shown], shared=False)
    return [Row([Panel(fig, f"boundary.{len(shown)}.{r.id}", f"{r.id}-boundary-e{epoch}") for fig, r in zip(figs, shown)])]


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
if epochs:
    ui.player.epoch_player(epochs, draw, key="boundary")
    beside = (f"Second run: {ui.widgets.esc(ui.runs.run_label(shown[1].config))} · {ui.widgets.esc(shown[1].id)}"
              if len(shown) > 1 else "No second run")
    ui.takehome.page_button("Decision boundary", [caption, beside], epochs, draw, {}, shown)
else:
    st.info("The two runs have no saved epoch in common; pick another second run.")
