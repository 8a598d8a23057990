"""`python -m lab runs [export RUN... -o FILE.zip | import FILE.zip]`: list the saved runs with
their status, epochs and test accuracy; export whole runs as one zip, or import such a zip
(`lab.store.bundle`: checked before any run folder appears)."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

HELP = "list the saved runs; runs export RUN... -o FILE.zip, runs import FILE.zip carry them"


def _carry(argv: Sequence[str]) -> int:
    from pathlib import Path

    from lab.store import load_run, runs_root
    from lab.store.bundle import export, import_bundle

    parser = argparse.ArgumentParser(prog=f"python -m lab runs {argv[0]}")
    if argv[0] == "export":
        parser.add_argument("run", nargs="+", help="run ids (under --runs) or run folders")
        parser.add_argument("-o", "--out", required=True, help="the zip to write")
    else:
        parser.add_argument("file", help="a zip written by `python -m lab runs export`")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    ns = parser.parse_args(argv[1:])
    root = runs_root(ns.runs)
    if argv[0] == "export":
        runs = [load_run(r, root) for r in ns.run]
        export(runs, Path(ns.out))
        print(f"exported {len(runs)} run{'s' * (len(runs) > 1)} to {ns.out}: {', '.join(r.id for r in runs)}")
    else:
        added = import_bundle(Path(ns.file), root)
        print(f"imported {len(added)} run{'s' * (len(added) > 1)} into {root}: {', '.join(added)}")
    return 0


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] in ("export", "import"):
        return _carry(argv)
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
