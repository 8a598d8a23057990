"""`python -m lab lesson [NAME] [--method SPEC] [--seeds 0,1] [--runs DIR]`: list the lessons, or
train one lesson's CE and method runs (ordinary run folders) and print, per seed, both values of
the lesson's quantity at the last epoch, both test accuracies, the verdict and the wall time.
`--method` puts another method (a plug-in's FILE.py:CLASS too) in the lesson's place, untuned:
lesson NAME's settings and quantity, or without NAME the lessons' usual digits MLP and the
method's own quantity (`lab.lessons.with_method`)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

from lab.config import TRAIN_PARAMS, batch_note
from lab.declare import REFERENCE

SEED = next(p for p in TRAIN_PARAMS if p.name == "seed")


HELP = "train a lesson: CE and one seed method side by side, with its verdict"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lab lesson", description=HELP)
    p.add_argument("name", nargs="?", default=None, help="the lesson (= its method); omit to list them")
    p.add_argument("--method", default=None,
                   help="train this method (built-in or FILE.py:CLASS) against CE instead of the lesson's own")
    p.add_argument("--data", default=None, help="run the lesson on other data: a data set, or your .csv, .tsv, "
                                                 ".npz file or image folder (untuned)")
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default: the lesson's)")
    p.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    return p


def _timed_trainer(walls: dict[str, float]):
    from lab.cli.options import train_one
    from lab.store import load_run

    def trainer(cfg, runs: Path):
        t0 = time.perf_counter()
        res = train_one(cfg, runs, f"{cfg.method} s{cfg.seed}")
        walls[res.path.name] = time.perf_counter() - t0
        return load_run(res.path)

    return trainer


def main(argv: Sequence[str]) -> int:
    ns = _parser().parse_args(argv)
    from lab.lessons import (LESSONS, describe, fmt, lesson, outcome, provenance, train_lesson, with_data, with_method,
                             witness_text)
    from lab.store import runs_root

    if ns.name is None and ns.method is None and ns.data is None:
        width = max(map(len, LESSONS))
        for name, l in LESSONS.items():
            print(f"{name:<{width}}  {l.title}")
        print("\nTrain one with `python -m lab lesson NAME [--seeds 0,1]`.")
        return 0
    chosen = lesson(ns.name) if ns.name else None
    if ns.method is not None:
        from lab.regularizers import resolve

        chosen = with_method(resolve(ns.method).name, chosen)
    if ns.data is not None:
        chosen = with_data(chosen or with_method(REFERENCE), ns.data)
    seeds = chosen.seeds if ns.seeds is None else tuple(SEED.check("training", s) for s in ns.seeds.split(",") if s)
    walls: dict[str, float] = {}
    pairs = train_lesson(chosen, seeds, runs_root(ns.runs), _timed_trainer(walls))
    q = chosen.quantity
    print(f"{chosen.title}\n{chosen.claim}\n" + (f"{chosen.look}\n" if ns.method or ns.data else
                                                  "\n".join(provenance(chosen)) + "\n"))
    note = batch_note(pairs[0][1].config)
    print(f"Same data, model, settings, seeds and optimizer steps for CE and {chosen.method}"
          + (f" ({note})" if note else "")
          + f". Quantity: {q.label}; the lesson expects {chosen.margin_text} {q.working} than CE.")
    if witness := witness_text(chosen):
        print(witness)
    print(f"{'seed':>4}  {'CE':>9} {chosen.method:>9} {'change':>7}  {'acc CE':>6} {'acc ' + chosen.method:>10}"
          f"  {'s CE':>5} {'s ' + chosen.method:>9}")
    outcomes = []
    for ce, me in pairs:
        o = outcome(chosen, ce.config.seed, ce, me)
        outcomes.append(o)
        print(f"{o.seed:>4}  {fmt(chosen, o.ce):>9} {fmt(chosen, o.method):>9} {chosen.change(o.ce, o.method):>7}  "
              f"{o.ce_acc:>6.3f} {o.method_acc:>10.3f}  {walls[ce.id]:>5.1f} {walls[me.id]:>9.1f}")
    print()
    for o in outcomes:
        print(f"seed {o.seed}: {o.verdict}" + (f"\nseed {o.seed}: {o.witness_verdict}" if o.witness_verdict else ""))
    print(f"\n{describe(outcomes[0])}" if len(outcomes) == 1 else "")
    print("runs: " + ", ".join(r.id for pair in pairs for r in pair))
    return 0 if all(o.moved and o.kept_accuracy for o in outcomes) else 1
