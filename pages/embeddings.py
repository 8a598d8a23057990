"""Embeddings: PCA, t-SNE or UMAP maps of a layer's probe features, one frame per epoch
(aligned to the previous epoch, cached on disk), coloured by class; k-NN accuracy per layer."""
import streamlit as st

import ui
import ui.takehome
import ui.umap_wait
from ui.player import Panel, Row
from lab.figures.embedding import LABELS, embedding_scatter, knn_curves
from lab.measure.snapshot import feature_layer, hidden_layers
from lab.declare import REFERENCE
from lab.notes import note

ui.page("Embeddings")
ui.warm.umap_wanted()  # UMAP's import and compilation start now if not yet: the first UMAP is one click away
run = ui.runs.page_run()
ui.widgets.explain(f"""
**Quantity.** Each of the probe points (held-out test samples, the same ones every epoch) is a vector of a
layer's activations, with as many numbers as the layer has units. A **map** squeezes these vectors into 2-D
so that you can see them: **PCA** keeps the two directions of largest variance (distances are faithful but
crowded); **t-SNE** and **UMAP** keep each point's nearest neighbours close (clusters are faithful, distances
between clusters and cluster sizes are not). Colour = true class; hover shows the point's index and class.

**Across epochs.** Each epoch's map starts from the previous one and is rotated/reflected onto it
(Procrustes), so the picture does not spin; press Play above the map to watch training.
**k-NN accuracy** (beside the map, or under it in projector mode) classifies each probe point by its 5
nearest neighbours in the layer itself: how separable the classes are, without a map.

**What to expect.** {note(run.config.method if run else REFERENCE, "embeddings")}
""")
record = ui.runs.snapshot_record(run)
first = ui.cache.first_snapshot(record)
features = feature_layer(first)
layers = hidden_layers(first) + ["logits"]
c_layer, c_algorithm = st.columns(2)
layer = c_layer.selectbox("Layer", layers, index=layers.index(features), key="embed.layer",
                          format_func=lambda k: f"{k} (features)" if k == features else k)
algorithm = c_algorithm.radio("Map", list(LABELS), format_func=LABELS.get, horizontal=True, key="embed.algorithm",
                              help="PCA is instant; t-SNE and UMAP take a few seconds per epoch the first time "
                                   "(then they are read from the run's cache)")

if algorithm == "umap" and not ui.warm.umap_wanted().done():
    ui.umap_wait.wait()  # a failure shows again when the map is drawn
bar = st.progress(0.0, text=f"{LABELS[algorithm]} of {layer}…")
maps = ui.cache.embedding(record, layer, algorithm, progress=lambda f, msg: bar.progress(f, text=msg))
bar.empty()
caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
index = {int(e): i for i, e in enumerate(maps["epoch"])}


def draw(epoch: int) -> list[Row]:
    return [Row([Panel(embedding_scatter(maps["xy"][index[epoch]], maps["y"], algorithm=algorithm, frame=maps["xy"],
                                         title=f"{LABELS[algorithm]} of {layer}, epoch {epoch}"),
                       "embed.map", f"{record.id}-{layer}-{algorithm}-e{epoch}")])]


left, right = ui.widgets.figure_columns([3, 2])
with left:
    ui.player.epoch_player(list(index), draw, key="embed")
with right:
    knn = knn_curves({name: ui.cache.knn(record, name) for name in layers[:-1]})
    ui.widgets.figure(knn, key="embed.knn", name=f"{record.id}-knn")
ui.takehome.page_button("Embeddings", [caption, f"Layer: {layer} · map: {LABELS[algorithm]}"], list(index), draw,
                        {"k-NN accuracy per layer": knn}, [record])
