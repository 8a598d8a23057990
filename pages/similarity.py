"""Similarity: class-by-class mean cosine similarity of a layer, intra- versus inter-class
pair histograms at any epoch, and intra, inter and their gap over training."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
from lab.figures import gap_curves
from lab.measure.snapshot import feature_layer, hidden_layers
from lab.declare import REFERENCE
from lab.notes import in_this_run, note

ui.page("Similarity")
run = ui.runs.page_run()
ui.widgets.explain(f"""
**Quantity.** The *cosine similarity* of two feature vectors a and b is cos = a·b / (‖a‖‖b‖): 1 when they
point the same way, 0 when perpendicular, −1 when opposite. The **matrix** shows, for every pair of classes
(c, c'), the mean cosine over all pairs of probe samples from c and c' (a sample is never paired with itself).
The diagonal is the **intra-class** similarity, the rest **inter-class**.

**Histograms.** Cosines of randomly drawn same-class and different-class pairs; dashed lines are the exact
means. **Gap** = intra − inter: the larger, the easier the classes are to tell apart by direction alone.

**What to expect.** {note(run.config.method if run else REFERENCE, "similarity")}
""")
record = ui.runs.snapshot_record(run)
first = ui.cache.first_snapshot(record)
features = feature_layer(first)
layers = hidden_layers(first)
layer = st.selectbox("Layer", layers, index=layers.index(features), key="similarity.layer",
                     format_func=lambda k: f"{k} (features)" if k == features else k,
                     help="hidden_0 is nearest the input; the last hidden layer holds the features the head reads")


def draw(epoch: int) -> list[Row]:
    return [Row([Panel(ui.cache.similarity_view(record, epoch, layer), "similarity.matrix",
                       f"{record.id}-{layer}-similarity-e{epoch}"),
                 Panel(ui.cache.pairs_view(record, epoch, layer), "similarity.hist", f"{record.id}-{layer}-pairs-e{epoch}")])]


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
ui.player.epoch_player(ui.cache.epochs(record), draw, key="similarity")
stats = ui.cache.series("similarity_series", record, layer=layer)
summary = (f"**In this run.** {in_this_run(f'inter-class cosine of {layer}', stats['epoch'], stats['inter'])} "
           f"{in_this_run(f'intra-class cosine of {layer}', stats['epoch'], stats['intra'])}")
st.markdown(summary)
gap = gap_curves(stats)
ui.widgets.figure(gap, key="similarity.gap", name=f"{record.id}-{layer}-gap")
ui.takehome.page_button("Similarity", [caption, f"Layer: {layer}", summary], ui.cache.epochs(record), draw,
                        {"Intra, inter and their gap over training": gap}, [record])
