"""Where the lab's own files live: `assets/` (notes, lessons, the report's CSS/JS), `examples/`
(the own-data kinds' default files) and `studies/`, beside the `lab` package in a checkout, or,
after `pip install .`, where the install put them (`<prefix>/share/reglab`, pyproject.toml)."""
from __future__ import annotations

import site
import sys
import sysconfig
from pathlib import Path


def _root() -> Path:
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout, *(Path(p) / "share" / "reglab" for p in (sysconfig.get_path("data"), sys.prefix,
                                                                     site.USER_BASE or ""))]
    return next((p for p in candidates if (p / "assets" / "lessons.toml").is_file()), checkout)


ROOT = _root()


def ray_runtime_env() -> dict:
    """The runtime environment of the lab's Ray tasks (studies, live runs): the workers import `lab`
    from the folder this process imports it from, ahead of $PYTHONPATH."""
    import os

    here = str(Path(__file__).resolve().parents[1])
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}}
ASSETS = ROOT / "assets"
EXAMPLES = ROOT / "examples"
STUDIES = ROOT / "studies"
