"""`python -m lab runs`: list the saved runs with their status, epochs and test accuracy."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

HELP = "list the saved runs"


def main(argv: Sequence[str]) -> int:
    import warnings

    from lab.store import list_runs, runs_root

    parser = argparse.ArgumentParser(prog="python -m lab runs", description="List saved runs.")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    ns = parser.parse_args(argv)
    root = runs_root(ns.runs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = list_runs(root)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if not runs:
        print(f"No runs in {root}; start one with `python -m lab train`.")
        return 0
    print(f"{'run':<52} {'status':<11} {'epochs':>6} {'test acc':>8}")
    for r in runs:
        acc = r.final("test_acc")
        print(f"{r.id:<52} {r.state:<11} {len(r.metrics):>6} {'-' if acc is None else f'{acc:.4f}':>8}")
    return 0
