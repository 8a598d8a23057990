"""Similarity: class-by-class mean cosine similarity of a layer, intra- versus inter-class
pair histograms at any epoch, and intra, inter and their gap over training."""
import streamlit as st

import ui
from lab.figures import gap_curves, similarity_heatmap, similarity_histograms
from lab.measure import sample_pair_similarities, similarity_stats
from lab.measure.snapshot import hidden_layers

NOTES = {
    "ce": "**ce** only asks for the right class: features of different classes often stay quite similar "
          "(high inter-class cosine), especially with little data.",
    "phantom": "**phantom** pushes each sample away from the *phantoms* (averages) of the other classes: "
               "expect the inter-class similarity to fall towards 0 and the gap to widen.",
    "itra": "**itra** aligns the feature distributions of two batches: the matrix should look alike across "
            "epochs and runs; it does not directly separate classes.",
    "gini": "**gini** makes each feature fire for one class: different classes share fewer active features, "
            "so inter-class similarity drops.",
    "label_smoothing": "**label_smoothing** pulls same-class features together (tighter clusters, higher intra).",
}

ui.page("Similarity")
run = ui.page_run()
ui.explain(f"""
**Quantity.** The *cosine similarity* of two feature vectors a and b is cos = a·b / (‖a‖‖b‖): 1 when they
point the same way, 0 when perpendicular, −1 when opposite. The **matrix** shows, for every pair of classes
(c, c'), the mean cosine over all pairs of probe samples from c and c' (a sample is never paired with itself).
The diagonal is the **intra-class** similarity, the rest **inter-class**.

**Histograms.** Cosines of randomly drawn same-class and different-class pairs; dashed lines are the exact
means. **Gap** = intra − inter: the larger, the easier the classes are to tell apart by direction alone.

**What to expect.** {ui.expectation(run.config.method if run else "ce", NOTES)}
""")
record = ui.snapshot_record(run)
layers = hidden_layers(ui.snapshot(record, record.snapshot_epochs[0]))
layer = st.selectbox("Layer", layers, index=len(layers) - 1, key="similarity.layer",
                     format_func=lambda k: f"{k} (features)" if k == layers[-1] else k,
                     help="hidden_0 is nearest the input; the last hidden layer holds the features the head reads")


def draw(epoch: int) -> None:
    snap = ui.snapshot(record, epoch)
    stats = similarity_stats(snap[layer], snap["probe_y"], snap["logits"].shape[1])
    left, right = st.columns(2)
    with left:
        ui.figure(similarity_heatmap(stats["matrix"], title=f"Mean cosine between classes, epoch {epoch}"),
                  key="similarity.matrix", name=f"{record.id}-{layer}-similarity-e{epoch}")
    with right:
        ui.figure(similarity_histograms(sample_pair_similarities(snap[layer], snap["probe_y"]), stats,
                                        title=f"Sampled pairs, epoch {epoch}: gap {stats['gap']:.2f}"),
                  key="similarity.hist", name=f"{record.id}-{layer}-pairs-e{epoch}")


st.caption(f"Run **{ui.esc(record.id)}** · {ui.esc(run.label)} · {run.status}")
ui.epoch_player(record.snapshot_epochs, draw, key="similarity")
ui.figure(gap_curves(ui.series("similarity_series", record, layer=layer)), key="similarity.gap",
          name=f"{record.id}-{layer}-gap")
