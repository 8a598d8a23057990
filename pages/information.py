"""Information: the information plane (I(X;T) against I(T;Y) per hidden layer, coloured by
epoch) up to any epoch, and both informations against epoch, by binning or KDE."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
from lab.figures import mi_curves
from lab.measure import KDE_NOISE, binning_caveat
from lab.declare import REFERENCE
from lab.notes import note

ui.page("Information")
run = ui.runs.page_run()
ui.widgets.explain(f"""
**Quantity.** Treat the probe input X as picked at random among the n probe points, T as a layer's output and Y
as the label. **I(X;T)** (bits) says how much of the input the layer still distinguishes, at most log₂ n;
**I(T;Y)** how much it says about the label, at most H(Y) = log₂ 10 ≈ 3.3 bits for 10 balanced classes.
A deterministic network needs a way to make T coarse: **binning** puts each unit's value in one of a few bins
and counts patterns (I(X;T) = H(T), I(T;Y) = H(T) − Σ_c p_c H(T | Y = c)); **KDE** adds Gaussian noise of a
chosen variance to T and measures pairwise distances.

**The plane.** Each layer is a path through the epochs (colour = epoch): moving up means learning the label,
moving left means forgetting input detail.

**What to expect.** {note(run.config.method if run else REFERENCE, "information")}
""")
record = ui.runs.snapshot_record(run)
c_est, c_a, c_b = st.columns(3)
estimator = c_est.radio("Estimator", ("kde", "binning"), horizontal=True, key="info.estimator",
                        help="binning saturates at log2 n for wide layers (every probe point gets its own "
                             "pattern); KDE with a noise variance near the activations' scale stays informative")
if estimator == "binning":
    options = {"n_bins": c_a.slider("bins per unit", 2, 100, 30, key="info.bins"),
               "adaptive": c_b.checkbox("adaptive bins (equal mass)", value=True, key="info.adaptive")}
    n = len(ui.cache.first_snapshot(record)["probe_y"])
    caveat = binning_caveat(run.config.model_params.get("activation", "relu"), options["adaptive"],
                            options["n_bins"], n)
    st.info(caveat)
else:
    options = {"noise_var": c_a.select_slider("noise variance", (0.01, 0.1, 1.0, 10.0), value=KDE_NOISE,
                                              key="info.noise")}
    caveat = "KDE estimate: the numbers depend on the noise variance relative to the activations' scale."
per_layer = ui.cache.series("mi_series", record, estimator=estimator, **options)


def draw(epoch: int) -> list[Row]:
    return [Row([Panel(ui.cache.infoplane_view(record, epoch, estimator, **options), "info.plane",
                       f"{record.id}-infoplane-e{epoch}")])]


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
ui.player.epoch_player(ui.cache.epochs(record), draw, key="info")
curves = mi_curves(per_layer, note=caveat)
ui.widgets.figure(curves, key="info.curves", name=f"{record.id}-mi-curves")
ui.takehome.page_button("Information", [caption, f"Estimator: {estimator} · " + " · ".join(
    f"{k}: {v}" for k, v in options.items()), caveat], ui.cache.epochs(record), draw,
    {"Both informations over training": curves}, [record])
