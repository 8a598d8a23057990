"""Measurements of representations: pure functions on numpy arrays or torch tensors (METHODS.md,
"Measurements"). Arrays in, numbers out: nothing here reads or writes a run folder; per-epoch
series over a saved run are `lab.readout`'s job."""
from lab.measure.angles import (angle_summary, hyperspherical_energy, nearest_neighbour_angles, neuron_rows,
                                pairwise_angles, sphere_points, uniform_angle_density)
from lab.measure.embed import class_centroids, knn_accuracy, procrustes_align  # embed(): lab.measure.embed.embed
from lab.measure.information import KDE_NOISE, MI, binning_caveat, mi_binning, mi_ceilings, mi_kde
from lab.measure.similarity import class_spread, sample_pair_similarities, similarity_stats, within_class_ratio
from lab.measure.snapshot import feature_layer, feature_weight, features, hidden_layers, weight_labels

__all__ = ["angle_summary", "hyperspherical_energy", "nearest_neighbour_angles", "neuron_rows", "pairwise_angles",
           "sphere_points", "uniform_angle_density", "KDE_NOISE", "MI", "binning_caveat", "mi_binning",
           "mi_ceilings", "mi_kde", "sample_pair_similarities", "similarity_stats", "within_class_ratio",
           "class_spread", "class_centroids", "knn_accuracy", "procrustes_align", "feature_layer", "feature_weight",
           "features", "hidden_layers", "weight_labels"]
