"""Where runs live and what they are called: the runs folder, a safe run name, a new run's id."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from lab.config import RunConfig
from lab.errors import StoreError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # the whole name (fullmatch)


def runs_root(path: str | os.PathLike | None = None) -> Path:
    """The runs folder: `path`, else $REGLAB_RUNS, else ./runs."""
    return Path(path or os.environ.get("REGLAB_RUNS") or "runs")


def check_run_name(name: str) -> str:
    """A run name that stays inside the runs folder: letters, digits, '.', '_', '-', 1-100
    characters, not starting with '.' or '-'."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise StoreError(f"Invalid run name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
                         f"starting with a letter or digit.")
    return name


def new_run_id(cfg: RunConfig) -> str:
    """`<data>-<model>-<method>-s<seed>-<yymmdd-hhmmss>-<4 hex>`: unique and readable."""
    stamp = time.strftime("%y%m%d-%H%M%S")
    data = re.sub(r"[^\w.-]+", "_", Path(cfg.data_label).stem)
    return f"{data}-{cfg.model}-{cfg.method}-s{cfg.seed}-{stamp}-{os.urandom(2).hex()}"
