"""Regularizers by name (the name on screen, on the command line and in run folders).

The registry fills by explicit imports, one line per module. The pure formula functions
named in METHODS.md are importable from here.
"""
from lab.declare import View
from lab.regularizers.base import REGISTRY, Quantity, Regularizer, StepContext, register
from lab.regularizers import baselines  # noqa: F401  (ce, weight_decay, dropout, label_smoothing)
from lab.regularizers.mhe import mhe_energy  # noqa: F401  (mhe)
from lab.regularizers.comhe import comhe_energy  # noqa: F401  (comhe)
from lab.regularizers.gini import class_coverage_kl, gini_impurity  # noqa: F401  (gini)
from lab.regularizers.phantom import class_phantoms, phantom_embeddings, phantom_mix, phantom_penalty  # noqa: F401  (phantom)
from lab.regularizers.racecar import model_reconstruction_errors, model_reverse_pass, racecar_loss_dense, reconstruction_errors, reverse_pass  # noqa: F401  (racecar)
from lab.regularizers.itra import class_conditional_mmd2, cross_kernel, mmd2  # noqa: F401  (itra)
from lab.regularizers.decov import decov_loss  # noqa: F401  (decov)
from lab.regularizers.center import center_loss  # noqa: F401  (center)
from lab.regularizers.plugins import PluginError, resolve  # after every built-in: they are the reserved names

__all__ = ["REGISTRY", "PluginError", "Quantity", "Regularizer", "StepContext", "View", "register", "get", "resolve"]



def get(name: str) -> type[Regularizer]:
    """The regularizer named `name`: a built-in, a registered or installed plug-in, or a plug-in
    spec FILE.py:CLASS (`plugins.resolve`); ConfigError lists the known names."""
    return resolve(name)
