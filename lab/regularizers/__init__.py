"""Regularizers by name (the name on screen, on the command line and in run folders).

The registry fills by explicit imports, one line per module. The pure formula functions
named in METHODS.md are importable from here.
"""
from lab.regularizers.base import REGISTRY, Quantity, Regularizer, StepContext, register
from lab.regularizers import baselines  # noqa: F401  (ce, weight_decay, dropout, label_smoothing)
from lab.regularizers.mhe import mhe_energy  # noqa: F401  (mhe)
from lab.regularizers.comhe import comhe_energy  # noqa: F401  (comhe)
from lab.regularizers.gini import class_coverage_kl, gini_impurity  # noqa: F401  (gini)
from lab.regularizers.phantom import class_phantoms, phantom_embeddings, phantom_mix, phantom_penalty  # noqa: F401  (phantom)
from lab.regularizers.racecar import model_reconstruction_errors, model_reverse_pass, racecar_loss_dense, reconstruction_errors, reverse_pass  # noqa: F401  (racecar)
from lab.regularizers.itra import class_conditional_mmd2, cross_kernel, mmd2  # noqa: F401  (itra)

__all__ = ["REGISTRY", "Quantity", "Regularizer", "StepContext", "register", "get"]


def get(name: str) -> type[Regularizer]:
    """The regularizer class registered as `name`; ConfigError lists the known names."""
    from lab.params import check_name

    return REGISTRY[check_name("method", name, REGISTRY)]
