"""`python -m lab train`: train one run and save it; its options come from the declarations of
the chosen data set, model and method (`--method mhe --help` lists mhe's)."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from lab.cli.options import add_params, common, config, picked_names, specific_params, train_one

HELP = "train one run and save it (--method FILE.py:CLASS for your own regularizer)"


def main(argv: Sequence[str]) -> int:
    from lab.store import runs_root

    picked, preset = picked_names(argv)
    specific = specific_params(picked)
    parser = argparse.ArgumentParser(prog="python -m lab train", description="Train one run and save it.")
    from lab.regularizers import REGISTRY

    reg = REGISTRY[picked["method"]]
    common(parser, f"{reg.default_lam:g}, {picked['method']}'s" if reg.has_penalty() else "none: no penalty")
    parser.add_argument("--method", default="ce", help="regularizer (default ce), or your own: FILE.py:CLASS")
    parser.add_argument("--name", default=None, help="run folder name (default: generated)")
    for title, params in (("data set", specific["data_params"]), ("model", specific["model_params"]),
                          (f"method {picked['method']}", specific["method_params"])):
        add_params(parser.add_argument_group(f"{title} options"), params)
    ns = parser.parse_args(argv)
    res = train_one(config(ns, picked, specific, preset), runs_root(ns.runs), picked["method"])
    last = res.history[-1] if res.history else {}
    print(f"{res.status}: {len(res.history)} epochs, test accuracy {last.get('test_acc', float('nan')):.4f}"
          + (f" ({res.error})" if res.error else ""), file=sys.stderr)
    print(res.path)
    return 0 if res.status in ("done", "stopped") else 1
