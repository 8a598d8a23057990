"""Embeddings: PCA, t-SNE or UMAP maps of a layer's probe features, one frame per epoch
(aligned to the previous epoch, cached on disk), coloured by class; k-NN accuracy per layer."""
import streamlit as st

import ui
from lab.figures.embedding import embedding_animation, knn_curves
from lab.measure.snapshot import hidden_layers
from lab.readout.embeddings import embed_run, knn_series

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
NOTES = {
    "ce": "**ce** separates the classes as training goes, but with little data the clusters stay loose "
          "and touch each other.",
    "phantom": "**phantom** pushes every sample away from the other classes' phantoms: expect tighter, "
               "better separated clusters in the features.",
    "itra": "**itra** aligns batches, so the map changes more smoothly from epoch to epoch.",
    "gini": "**gini** makes features class-specific: clusters tend to lie along different axes.",
    "label_smoothing": "**label_smoothing** gives tighter, rounder clusters at a similar distance from each other.",
}

ui.page("Embeddings")
run = ui.page_run()
ui.explain(f"""
**Quantity.** Each of the probe points (held-out test samples, the same ones every epoch) is a vector of a
layer's activations, with as many numbers as the layer has units. A **map** squeezes these vectors into 2-D
so that you can see them: **PCA** keeps the two directions of largest variance (distances are faithful but
crowded); **t-SNE** and **UMAP** keep each point's nearest neighbours close (clusters are faithful, distances
between clusters and cluster sizes are not). Colour = true class; hover shows the point's index and class.

**Across epochs.** Each epoch's map starts from the previous one and is rotated/reflected onto it
(Procrustes), so the picture does not spin; press Play under the map to watch training.
**k-NN accuracy** (right) classifies each probe point by its 5 nearest neighbours in the layer itself:
how separable the classes are, without a map.

**What to expect.** {ui.expectation(run.config.method if run else "ce", NOTES)}
""")
record = ui.snapshot_record(run)
layers = hidden_layers(ui.snapshot(record, record.snapshot_epochs[0])) + ["logits"]
c_layer, c_method = st.columns(2)
layer = c_layer.selectbox("Layer", layers, index=len(layers) - 2, key="embed.layer",
                          format_func=lambda k: f"{k} (features)" if k == layers[-2] else k)
method = c_method.radio("Map", list(METHODS), format_func=METHODS.get, horizontal=True, key="embed.method",
                        help="PCA is instant; t-SNE and UMAP take a few seconds per epoch the first time "
                             "(then they are read from the run's cache)")

bar = st.progress(0.0, text=f"{METHODS[method]} of {layer}…")
maps = embed_run(record, layer, method, progress=lambda f, msg: bar.progress(f, text=msg))
bar.empty()
st.caption(f"Run **{ui.esc(record.id)}** · {ui.esc(run.label)} · {run.status}")
left, right = st.columns([3, 2])
with left:
    ui.figure(embedding_animation(maps, algorithm=method, title=f"{METHODS[method]} of {layer}"),
              key="embed.map", name=f"{record.id}-{layer}-{method}")
with right:
    knn = {name: knn_series(record, name) for name in layers[:-1]}
    ui.figure(knn_curves(knn), key="embed.knn", name=f"{record.id}-knn")
