"""`python -m lab compare`: several methods trained on identical data, model, settings, seeds and
optimizer steps; per-run rows into a CSV and the mean ± std of each method printed."""
from __future__ import annotations

import argparse
import csv
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from lab.cli.options import TRAIN_CHECK, add_params, common, config, picked_names, specific_params, train_one

HELP = "train several methods on identical data, model and seeds, side by side"


def main(argv: Sequence[str]) -> int:
    from lab.store import runs_root

    picked, preset = picked_names(argv)
    parser = argparse.ArgumentParser(prog="python -m lab compare",
                                     description="Train several methods on identical data, model and seeds.")
    from lab.regularizers import REGISTRY

    common(parser, "each method's own: " + ", ".join(f"{m} {r.default_lam:g}" for m, r in REGISTRY.items()
                                                      if r.has_penalty()))
    parser.add_argument("--methods", default="ce,weight_decay",
                        help="comma-separated methods, built-in or FILE.py:CLASS (default ce,weight_decay)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--out", default=None, help="CSV file (default <runs>/compare-<data>-<model>.csv)")
    specific = specific_params(picked)
    for title, params in (("data set", specific["data_params"]), ("model", specific["model_params"])):
        add_params(parser.add_argument_group(f"{title} options"), params)
    ns = parser.parse_args(argv)
    from lab import regularizers

    methods = [regularizers.resolve(m).name for m in ns.methods.split(",") if m]
    seeds = [TRAIN_CHECK["seed"].check("training", s) for s in ns.seeds.split(",") if s]
    base = config(ns, {**picked, "method": "ce"}, {**specific, "method_params": ()}, preset)
    root = runs_root(ns.runs)
    from lab.train import check_start

    for method in methods:  # a plug-in's first-batch check, before any method trains
        if regularizers.REGISTRY[method].source is not None:
            check_start(replace(base, method=method, seed=seeds[0], lam=None))
    rows = []
    for method in methods:
        for seed in seeds:
            cfg = replace(base, method=method, seed=seed, lam=base.lam if regularizers.REGISTRY[method].has_penalty() else None)
            res = train_one(cfg, root, f"{method} s{seed}")
            rows.append({"method": method, "seed": seed, "status": res.status, "run": res.path.name,
                         "steps": res.history[-1]["steps"] if res.history else 0,
                         "test_acc": res.history[-1]["test_acc"] if res.history else None})
    out = Path(ns.out) if ns.out else root / f"compare-{picked['data']}-{picked['model']}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, ["method", "seed", "status", "run", "steps", "test_acc"])
        w.writeheader()
        w.writerows(rows)
    from lab.stats import pm

    print(f"Same data, model, training settings, seeds and optimizer steps for every method "
          f"({base.data}, {base.model}, {base.epochs} epochs, seeds {','.join(map(str, seeds))}).")
    from lab.config import batch_note, validate

    for m in methods:
        if note := batch_note(validate(replace(base, method=m, lam=None))):
            print(f"  {m}: {note}")
    print(f"{'method':<16} {'seeds':>5} {'steps':>6}  final test accuracy (mean ± std over seeds)")
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        steps = ",".join(sorted({str(r["steps"]) for r in mine}))
        print(f"{method:<16} {len(mine):>5} {steps:>6}  {pm([r['test_acc'] for r in mine if r['test_acc'] is not None], 4)}")
    print(f"per-run results: {out}")
    _judgements(methods, rows, root)
    return 0


def _judgements(methods: list[str], rows: list[dict], root: Path) -> None:
    """Each method against CE on the same seeds: test accuracy and its own quantity, with verdicts."""
    from lab.declare import REFERENCE
    from lab.readout.judge import judge_runs
    from lab.stats import change, p_text
    from lab.store import load_run

    done = {m: [load_run(root / r["run"]) for r in rows if r["method"] == m and r["status"] == "done"] for m in methods}
    others = {m: rs for m, rs in done.items() if m != REFERENCE and rs}
    if not done.get(REFERENCE) or not others:
        print(f"\nAdd {REFERENCE} to --methods to judge each method against it." if not done.get(REFERENCE) else "")
        return
    print(f"\nAgainst {REFERENCE} on the same seeds: method minus {REFERENCE} per seed, paired t-test "
          f"(Holm-corrected over the methods shown), wins/ties/losses (a win: a seed moved the way the measure should).")
    print(f"{'method':<16} {'measure':<44} {'Δ (mean ± std)':>18} {'W/T/L':>7} {'p':>7} {'Holm p':>7}  verdict")
    for j in judge_runs(others, done[REFERENCE]):
        wtl = f"{j['wins']}/{j['ties']}/{j['losses']}"
        print(f"{j['group']:<16} {j['measure'][:44]:<44} {change(list(j['per_seed'].values())):>18} {wtl:>7} "
              f"{p_text(j['t_p']):>7} {p_text(j['holm_p']):>7}  {j['verdict']}")
