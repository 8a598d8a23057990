"""RegLab engine: data, models, regularizers, training loop, measurements, run store, figures.

Never imports streamlit; the app in `app.py`/`pages/` is a thin layer over this package.
"""
from lab.config import RunConfig, validate
from lab.errors import ConfigError, DataError, LabError, StoreError
from lab.regularizers import REGISTRY
from lab.store import load_run, list_runs, runs_root
from lab.train import train

__all__ = ["RunConfig", "validate", "train", "REGISTRY", "load_run", "list_runs", "runs_root",
           "LabError", "ConfigError", "DataError", "StoreError"]
