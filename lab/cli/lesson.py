"""`python -m lab lesson [NAME] [--method SPEC] [--seeds 0,1] [--runs DIR] [--html FILE]`: list the
lessons, or train one lesson's CE and method runs (ordinary run folders) and print, per seed, both
values of the lesson's quantity at the last epoch, both test accuracies, the verdict and the wall
time (`printed`); `--html` also writes the take-home page of the runs (`lab.takehome`).
`--method` puts another method (a plug-in's FILE.py:CLASS too) in the lesson's place, untuned:
lesson NAME's settings and quantity, or without NAME the lessons' usual digits MLP and the
method's own quantity (`lab.lessons.with_method`)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from lab.config import TRAIN_PARAMS, batch_note
from lab.declare import REFERENCE

if TYPE_CHECKING:
    from lab.lessons import Lesson, Outcome
    from lab.store import RunRecord

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
    p.add_argument("--html", default=None, metavar="FILE",
                   help="also write the lesson as one offline HTML page: this text, the quantity and the views")
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
    from lab.lessons import LESSONS, lesson, train_lesson, with_data, with_method
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
    from lab.regularizers import REGISTRY
    from lab.train import check_start

    if REGISTRY[chosen.method].source is not None and seeds:  # a plug-in's first-batch check, before CE trains
        check_start(chosen.config(chosen.method, seeds[0]))
    walls: dict[str, float] = {}
    pairs = train_lesson(chosen, seeds, runs_root(ns.runs), _timed_trainer(walls))
    tuned = not (ns.method or ns.data)
    lines, outcomes = printed(chosen, pairs, walls, tuned)
    print("\n".join(lines))
    if ns.html:
        from lab.takehome import lesson_page, write

        size = write(Path(ns.html), lesson_page(chosen, pairs, lines, tuned))
        print(f"wrote {ns.html} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0 if all(o.moved and o.kept_accuracy for o in outcomes) else 1


def printed(chosen: Lesson, pairs: Sequence[tuple[RunRecord, RunRecord]], walls: Mapping[str, float] | None = None,
            tuned: bool = True) -> tuple[list[str], list[Outcome]]:
    """What `python -m lab lesson` prints once the runs have trained, line by line (the take-home
    page quotes these lines as they are), and each seed's `Outcome`. `walls`: each run's wall
    seconds by id, as the CLI timed it; a run not in it shows the sum of its epochs' recorded
    `seconds`. `tuned`: the lesson's own settings (how they were chosen is printed), else its look."""
    from lab.lessons import describe, fmt, outcome, provenance, witness_text

    lines: list[str] = []

    def say(text: str = "") -> None:
        lines.append(text)

    def seconds(run: RunRecord) -> float:
        return walls[run.id] if walls and run.id in walls else sum(m.get("seconds") or 0.0 for m in run.metrics)

    q = chosen.quantity
    say(f"{chosen.title}\n{chosen.claim}\n" + (f"{chosen.look}\n" if not tuned else
                                                "\n".join(provenance(chosen)) + "\n"))
    note = batch_note(pairs[0][1].config)
    say(f"Same data, model, settings, seeds and optimizer steps for CE and {chosen.method}"
        + (f" ({note})" if note else "")
        + f". Quantity: {q.label}; the lesson expects {chosen.margin_text} {q.working} than CE.")
    if witness := witness_text(chosen):
        say(witness)
    say(f"{'seed':>4}  {'CE':>9} {chosen.method:>9} {'change':>7}  {'acc CE':>6} {'acc ' + chosen.method:>10}"
        f"  {'s CE':>5} {'s ' + chosen.method:>9}")
    outcomes = []
    for ce, me in pairs:
        o = outcome(chosen, ce.config.seed, ce, me)
        outcomes.append(o)
        say(f"{o.seed:>4}  {fmt(chosen, o.ce):>9} {fmt(chosen, o.method):>9} {chosen.change(o.ce, o.method):>7}  "
            f"{o.ce_acc:>6.3f} {o.method_acc:>10.3f}  {seconds(ce):>5.1f} {seconds(me):>9.1f}")
    say()
    for o in outcomes:
        say(f"seed {o.seed}: {o.verdict}" + (f"\nseed {o.seed}: {o.witness_verdict}" if o.witness_verdict else ""))
    say(f"\n{describe(outcomes[0])}" if len(outcomes) == 1 else "")
    say("runs: " + ", ".join(r.id for pair in pairs for r in pair))
    return lines, outcomes


def take_home(chosen: Lesson, pairs: Sequence[tuple[RunRecord, RunRecord]], walls: Mapping[str, float] | None = None,
              tuned: bool = True) -> str:
    """The take-home page (`lab.takehome.lesson_page`) of the lesson's runs, quoting `printed`'s lines."""
    from lab.takehome import lesson_page

    return lesson_page(chosen, pairs, printed(chosen, pairs, walls, tuned)[0], tuned)
