"""`python -m lab train`: train one run and save it; its options come from the declarations of
the chosen data set, model and method (`--method mhe --help` lists mhe's)."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from lab.cli.options import add_params, common, config, picked_names, specific_params, train_one

HELP = "train one run and save it (--method FILE.py:CLASS for your own regularizer)"


def from_file(argv: Sequence[str]) -> int:
    """`train --config FILE [--name N] [--runs DIR] [--device D]`: the whole setting from a saved
    run's config.json (its name aside), so the run trains again exactly as it did."""
    import json
    from pathlib import Path

    from lab.config import RunConfig
    from lab.errors import ConfigError
    from lab.store import runs_root

    p = argparse.ArgumentParser(prog="python -m lab train --config")
    p.add_argument("--config", required=True, help="a run's config.json (runs/ID/config.json)")
    p.add_argument("--name", default=None, help="run folder name (default: generated)")
    p.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default: the file's)")
    ns, rest = p.parse_known_args(argv)
    if rest:
        raise ConfigError(f"--config takes the whole setting from {ns.config}; {rest[0]} cannot change it: edit a copy "
                          f"of the file, or leave --config out.")
    try:
        doc = json.loads(Path(ns.config).read_text())
    except (OSError, ValueError) as e:
        raise ConfigError(f"{ns.config} is not a run's config.json ({e}).") from None
    cfg = RunConfig.from_dict({**doc, "name": ns.name, **({"device": ns.device} if ns.device else {})})
    res = train_one(cfg, runs_root(ns.runs), cfg.method)
    print(res.path)
    return 0 if res.status in ("done", "stopped") else 1


def main(argv: Sequence[str]) -> int:
    from lab.config import batch_note
    from lab.store import load_run, runs_root

    if any(a == "--config" or a.startswith("--config=") for a in argv):
        return from_file(argv)
    picked, preset = picked_names(argv)
    specific = specific_params(picked)
    parser = argparse.ArgumentParser(prog="python -m lab train", description="Train one run and save it.")
    from lab.regularizers import REGISTRY

    reg = REGISTRY[picked["method"]]
    common(parser, f"{reg.default_lam:g}, {picked['method']}'s" if reg.has_penalty() else "none: no penalty")
    parser.add_argument("--method", default="ce", help="regularizer (default ce), or your own: FILE.py:CLASS")
    parser.add_argument("--name", default=None, help="run folder name (default: generated)")
    parser.add_argument("--config", default=None, help="train again from a run's config.json (every other "
                                                       "setting comes from the file)")
    for title, params in (("data set", specific["data_params"]), ("model", specific["model_params"]),
                          (f"method {picked['method']}", specific["method_params"])):
        add_params(parser.add_argument_group(f"{title} options"), params)
    ns = parser.parse_args(argv)
    res = train_one(config(ns, picked, specific, preset), runs_root(ns.runs), picked["method"])
    last = res.history[-1] if res.history else {}
    print(f"{res.status}: {len(res.history)} epochs, test accuracy {last.get('test_acc', float('nan')):.4f}"
          + (f" ({res.error})" if res.error else ""), file=sys.stderr)
    if res.path is not None and (note := batch_note(cfg := load_run(res.path).config)):
        print(f"{cfg.method}: {note}", file=sys.stderr)
    print(res.path)
    return 0 if res.status in ("done", "stopped") else 1
