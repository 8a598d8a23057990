"""Plotly figure builders: plain arrays and dicts in (from `lab.measure`), a go.Figure out."""
from lab.figures.curves import accuracy_curves, loss_curves, training_curves
from lab.figures.embedding import embedding_animation, embedding_scatter, knn_curves
from lab.figures.grid import grid
from lab.figures.infoplane import information_plane, mi_curves
from lab.figures.overlay import Line, overlay_curves
from lab.figures.similarity import gap_curves, similarity_heatmap, similarity_histograms
from lab.figures.sphere import angle_histogram, energy_curves, nn_angle_curves, sphere_figure

__all__ = ["accuracy_curves", "loss_curves", "training_curves", "grid", "information_plane", "mi_curves",
           "Line", "overlay_curves", "gap_curves", "similarity_heatmap", "similarity_histograms", "angle_histogram",
           "energy_curves", "nn_angle_curves", "sphere_figure", "embedding_animation", "embedding_scatter",
           "knn_curves"]
