"""`python -m lab study NAME`: run (or resume) the grid of `studies/NAME.toml` and write its
outputs into `--out` (default `docs/study/NAME`)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from lab.errors import LabError

HELP = "run (or resume) a study grid and write its tables, figures and report"


def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from lab.study.spec import available

    parser.add_argument("name", help=f"a study in studies/ ({', '.join(available())}) or a .toml path")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    parser.add_argument("--out", default=None, help="output folder (default docs/study/NAME)")
    parser.add_argument("--backend", default="local", choices=("local", "ray"),
                        help="local: one run after the other in this process (CUDA when present); "
                             "ray: one Ray task per run")
    parser.add_argument("--address", default=None, help="ray: address of an existing cluster (default: start one here)")
    parser.add_argument("--num-cpus", type=int, default=None, help="ray: CPUs of the local instance (default: all)")
    parser.add_argument("--gpus-per-run", type=float, default=0.0,
                        help="ray: GPUs per run task (e.g. 0.25 puts four runs on one GPU; default 0 = CPU)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--threads", type=int, default=1,
                        help="local: CPU threads of torch (default 1: these small models gain nothing from more, "
                             "and a busy machine loses a lot; a Ray task also uses one)")
    return parser


def _check_plugins(study, device: str) -> None:
    """Each plug-in's first-batch check on the study's first seed, before any run of the grid trains."""
    from lab.regularizers import REGISTRY
    from lab.study.spec import expand
    from lab.train import check_start

    for cfg, _ in expand(study, device):
        if REGISTRY[cfg.method].source is not None and cfg.seed == study.seeds[0]:
            check_start(cfg)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study named in `argv`; errors print one line (status 2), Ctrl-C leaves a resumable state (130)."""
    args = _arguments(argparse.ArgumentParser(prog="python -m lab study", description=HELP)).parse_args(argv)
    import torch

    from lab.store import runs_root
    from lab.study.execute import run_study
    from lab.study.outputs import write_outputs
    from lab.study.spec import load_study
    from lab.study.summary import timing

    torch.set_num_threads(max(1, args.threads))
    try:
        study = load_study(args.name)
        _check_plugins(study, args.device)
        t0 = time.perf_counter()
        results = run_study(study, runs_root(args.runs), args.backend, args.device, args.address, args.num_cpus,
                            args.gpus_per_run)
        summary = timing(results, time.perf_counter() - t0)
        paths = write_outputs(study, results, Path(args.out or f"docs/study/{study.name}"), summary)
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume (finished runs are reused).", file=sys.stderr)
        return 130
    print(summary, file=sys.stderr)
    print("\n".join(map(str, paths)))
    return 0

