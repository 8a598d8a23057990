"""Hypersphere: a layer's neurons as unit vectors: pairwise-angle histogram against the
uniform reference and the neurons on a 3-D sphere at any epoch; energy and nearest-neighbour
angles over training."""
import streamlit as st

import ui
from lab.figures import angle_histogram, energy_curves, nn_angle_curves, sphere_figure
from lab.measure import neuron_rows, pairwise_angles, sphere_points
from lab.measure.snapshot import weight_labels

NOTES = {
    "ce": "**ce** does not look at the neurons' directions: with little data many neurons stay close to each "
          "other (redundant), so the histogram leans left of the uniform curve.",
    "mhe": "**mhe** minimises exactly this energy: the neurons spread out, the histogram moves onto the uniform "
           "curve and the nearest-neighbour angle grows.",
    "comhe": "**comhe** minimises the energy after random projections to fewer dimensions: the same spreading "
             "as mhe, cheaper for wide layers.",
    "weight_decay": "**weight_decay** shrinks the weights' lengths, not their directions: little change here.",
    "racecar": "**racecar** asks the layers to be invertible, which discourages neurons pointing the same way.",
}

ui.page("Hypersphere")
run = ui.page_run()
ui.explain(f"""
**Quantity.** Each neuron of a layer is its row of incoming weights w, a vector of d numbers (the layer's
fan-in); only its *direction* ŵ = w/‖w‖ matters here, a point on the unit sphere in d dimensions. The
**histogram** shows the angles between every pair of neurons; the curve is what independent random directions
would give (density ∝ sin(θ)^(d−2), which concentrates around 90° when d is large).

**Energy.** The hyperspherical energy is the mean over pairs of 1/‖ŵᵢ − ŵⱼ‖ˢ (s = 0: −log distance):
it is large when some neurons crowd together. The nearest-neighbour angle is how close each neuron's closest
other neuron is. The **sphere** shows the directions in 3-D (projected when d > 3, so angles are then only
approximate; the subtitle says which).

**What to expect.** {ui.expectation(run.config.method if run else "ce", NOTES)}
""")
record = ui.snapshot_record(run)
labels = weight_labels(ui.snapshot(record, record.snapshot_epochs[0]))
keys = list(labels)
c_layer, c_s, c_half = st.columns([3, 1, 1])
layer = c_layer.selectbox("Weight layer", keys, index=max(len(keys) - 2, 0), format_func=labels.get,
                          key="sphere.layer")
s = c_s.selectbox("energy power s", (0, 1, 2), index=2, key="sphere.s",
                  help="kernel of the energy: distance^-s (s = 0: -log distance)")
half = c_half.checkbox("half-space", value=run.config.method in ("mhe", "comhe"), key="sphere.half",
                       help="also count the negated copies -w (half-space MHE treats w and -w alike)")


def draw(epoch: int) -> None:
    w = ui.snapshot(record, epoch)[layer]
    left, right = st.columns(2)
    with left:
        ui.figure(angle_histogram(pairwise_angles(w), neuron_rows(w).shape[1],
                                  title=f"Angles between neurons, epoch {epoch}"),
                  key="sphere.angles", name=f"{record.id}-{layer}-angles-e{epoch}")
    with right:
        points, note = sphere_points(w)
        ui.figure(sphere_figure(points, note, half, title=f"Neuron directions, epoch {epoch}"),
                  key="sphere.points", name=f"{record.id}-{layer}-sphere-e{epoch}")


st.caption(f"Run **{ui.esc(record.id)}** · {ui.esc(run.label)} · {run.status}")
ui.epoch_player(record.snapshot_epochs, draw, key="sphere")
energy = ui.series("energy_series", record, s=s, half_space=half)
left, right = st.columns(2)
with left:
    ui.figure(energy_curves(energy, s), key="sphere.energy", name=f"{record.id}-energy")
with right:
    ui.figure(nn_angle_curves(energy), key="sphere.nn", name=f"{record.id}-nn-angles")
