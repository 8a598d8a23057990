"""`python -m lab report RUN [--compare RUN...]`: one standalone HTML file with every figure of a
run (`lab.report`)."""
from __future__ import annotations

import argparse
from typing import Sequence

HELP = "write one standalone HTML file with every figure of a run (or several, side by side)"


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m lab report", description=HELP)
    p.add_argument("run", help="run id (under --runs) or path to a run folder, e.g. ./runs/ID")
    p.add_argument("--compare", nargs="+", default=(), metavar="RUN", help="more runs to show side by side")
    p.add_argument("--out", default=None, help="output file (default RUN.html in the current folder)")
    p.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    p.add_argument("--tsne", action="store_true", help="add an animated t-SNE map (slower on the first report)")
    p.add_argument("--epoch", type=int, default=None, help="epoch compared (default: the last one all runs have)")
    args = p.parse_args(argv)
    from lab.report import report  # plotly and torch: loaded when a report is written

    path = report(args.run, args.compare, args.out, args.runs, args.tsne, args.epoch)
    print(f"report: {path}")
    return 0
