"""Hypersphere: a layer's neurons as unit vectors: pairwise-angle histogram against the
uniform reference and the neurons on a 3-D sphere at any epoch; energy and nearest-neighbour
angles over training."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
from lab.figures import energy_curves, nn_angle_curves
from lab.measure.snapshot import feature_weight, weight_labels
from lab.declare import REFERENCE
from lab.notes import in_this_run, note

ui.page("Hypersphere")
run = ui.runs.page_run()
ui.widgets.explain(f"""
**Quantity.** Each neuron of a layer is its row of incoming weights w, a vector of d numbers (the layer's
fan-in); only its *direction* ŵ = w/‖w‖ matters here, a point on the unit sphere in d dimensions. The
**histogram** shows the angles between every pair of neurons; the curve is what independent random directions
would give (density ∝ sin(θ)^(d−2), which concentrates around 90° when d is large).

**Energy.** The hyperspherical energy is the mean over pairs of 1/‖ŵᵢ − ŵⱼ‖ˢ (s = 0: −log distance):
it is large when some neurons crowd together. The nearest-neighbour angle is how close each neuron's closest
other neuron is. The **sphere** shows the directions in 3-D (projected when d > 3, so angles are then only
approximate; the subtitle says which).

The **map** shows the whole sphere flat at once (Hammer's equal-area projection: equal areas stay equal,
so a crowd looks as crowded anywhere on it); the **3-D** sphere can be turned with the mouse.

**What to expect.** {note(run.config.method if run else REFERENCE, "hypersphere")}
""")
record = ui.runs.snapshot_record(run)
first = ui.cache.first_snapshot(record)
labels = weight_labels(first)
keys = list(labels)
if ui.widgets.stacked():  # projector: the four controls' large labels need two rows
    (c_layer, c_s), (c_half, c_shape) = st.columns([3, 2]), st.columns([2, 3])
else:
    c_layer, c_s, c_half, c_shape = st.columns([3, 1, 1, 1])
layer = c_layer.selectbox("Weight layer", keys, index=keys.index(feature_weight(first)), format_func=labels.get,
                          key="sphere.layer")
s = c_s.selectbox("energy power s", (0, 1, 2), index=2, key="sphere.s",
                  help="kernel of the energy: distance^-s (s = 0: -log distance)")
half = c_half.checkbox("half-space", value=bool(run.config.method_params.get("half_space", False)), key="sphere.half",
                       help="also count the negated copies -w (half-space MHE treats w and -w alike)")
shape = c_shape.radio("sphere", ("map", "3-D"), horizontal=True, key="sphere.shape",
                      help="map: the whole sphere flat, quick to draw; 3-D: a sphere to turn with the mouse")


def draw(epoch: int) -> list[Row]:
    return [Row([Panel(ui.cache.angles_view(record, epoch, layer), "sphere.angles", f"{record.id}-{layer}-angles-e{epoch}"),
                 Panel(ui.cache.sphere_view(record, epoch, layer, half, shape == "map"), "sphere.points",
                       f"{record.id}-{layer}-sphere-e{epoch}")])]


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
ui.player.epoch_player(ui.cache.epochs(record), draw, key="sphere")
energy = ui.cache.series("energy_series", record, s=s, half_space=half)
shown, name = energy[labels[layer]], labels[layer]
angle = in_this_run(f"mean nearest-neighbour angle of {name}", shown["epoch"], shown["mean_nn"], radians=True)
summary = f"**In this run.** {angle} {in_this_run(f'energy of {name}', shown['epoch'], shown['energy'])}"
st.markdown(summary)
curves = {"Hyperspherical energy over training": energy_curves(energy, s),
          "Nearest-neighbour angles over training": nn_angle_curves(energy)}
left, right = ui.widgets.figure_columns(2)
with left:
    ui.widgets.figure(curves["Hyperspherical energy over training"], key="sphere.energy", name=f"{record.id}-energy")
with right:
    ui.widgets.figure(curves["Nearest-neighbour angles over training"], key="sphere.nn", name=f"{record.id}-nn-angles")
ui.takehome.page_button("Hypersphere", [caption, f"Weight layer: {name} · energy power s = {s} · half-space: "
                                        f"{'on' if half else 'off'} · sphere: {shape}", summary],
                        ui.cache.epochs(record), draw, curves, [record])
