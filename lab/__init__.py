"""RegLab engine: data, models, regularizers, training loop, measurements, run store, figures.

Never imports streamlit; the app in `app.py`/`pages/` is a thin layer over this package.
"""
from importlib import import_module
from typing import Any

_PUBLIC = {"RunConfig": "lab.config", "validate": "lab.config", "train": "lab.train", "REGISTRY": "lab.regularizers",
           "load_run": "lab.store", "list_runs": "lab.store", "runs_root": "lab.store", "LabError": "lab.errors",
           "ConfigError": "lab.errors", "DataError": "lab.errors", "StoreError": "lab.errors"}
__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    """The public API, imported on first use: `import lab.config` (the app's first page) must not
    import torch (seconds), which `lab.train` and `lab.regularizers` do."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'lab' has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)
