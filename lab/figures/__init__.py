"""Plotly figure builders: plain arrays and dicts in (from `lab.measure`), a go.Figure out.

The names below load on first use: `lab.figures.theme` (every page's figure styling) must not
import the measurements (and torch) that some builders need, nor numpy (the app's first page).
`grid` is not among them (its module has its name): `from lab.figures.grid import grid`."""
from importlib import import_module
from typing import Any

_PUBLIC = {
    "lab.figures.curves": ("accuracy_curves", "loss_curves", "run_curves", "training_curves"),
    "lab.figures.embedding": ("embedding_animation", "embedding_scatter", "knn_curves"),
    "lab.figures.infoplane": ("information_plane", "mi_curves"),
    "lab.figures.overlay": ("Line", "overlay_curves"),
    "lab.figures.similarity": ("gap_curves", "similarity_heatmap", "similarity_histograms"),
    "lab.figures.sphere": ("angle_histogram", "energy_curves", "nn_angle_curves", "sphere_figure",
                           "sphere_map_figure"),
}
_MODULE = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = list(_MODULE)


def __getattr__(name: str) -> Any:
    """`from lab.figures import loss_curves` and the like, importing only the module that holds it."""
    if name not in _MODULE:
        raise AttributeError(f"module 'lab.figures' has no attribute {name!r}")
    return getattr(import_module(_MODULE[name]), name)
