"""Measurements of representations: pure functions on numpy arrays or torch tensors (METHODS.md,
"Measurements"). Per-epoch series over a saved run live in `lab.measure.series`."""
from lab.measure.angles import (angle_summary, hyperspherical_energy, nearest_neighbour_angles, neuron_rows,
                                pairwise_angles, sphere_points, uniform_angle_density)
from lab.measure.embed import class_centroids, knn_accuracy, procrustes_align  # embed(): lab.measure.embed.embed
from lab.measure.information import MI, binning_caveat, mi_binning, mi_ceilings, mi_kde
from lab.measure.similarity import sample_pair_similarities, similarity_stats

__all__ = ["angle_summary", "hyperspherical_energy", "nearest_neighbour_angles", "neuron_rows", "pairwise_angles",
           "sphere_points", "uniform_angle_density", "MI", "binning_caveat", "mi_binning", "mi_ceilings", "mi_kde",
           "sample_pair_similarities", "similarity_stats", "class_centroids", "knn_accuracy",
           "procrustes_align"]
