"""`python -m lab`: train, runs, compare, and report/study/readme (whose modules add their own options).

Options are generated from the declarations: the training fields (`TRAIN_PARAMS`), then the
chosen data set's, model's and method's own `Param`s, so `python -m lab train --method mhe
--help` lists mhe's options. Every value is checked by its Param, so a bad value gets the
same one-line sentence here as in the app. Errors print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from lab.config import TRAIN_PARAMS, RunConfig
from lab.errors import LabError
from lab.params import Flag, Param, check_name
from lab.stats import num

TRAIN_CHECK = {p.name: p for p in TRAIN_PARAMS}
PICKS = (("data", "digits", "data set"), ("model", "mlp", "model"), ("method", "ce", "method"))


def _flag(p: Param) -> str:
    return "--" + p.name.replace("_", "-")


def _add_params(parser: argparse.ArgumentParser | argparse._ArgumentGroup, params: Sequence[Param]) -> None:
    """One option per Param; values stay strings until the Param checks them."""
    for p in params:
        if isinstance(p.constraint, Flag):
            parser.add_argument(_flag(p), dest=p.name, nargs="?", const="true", default=None,
                                metavar="BOOL", help=f"{p.help} (default {p.default})")
        else:
            parser.add_argument(_flag(p), dest=p.name, default=None, metavar=p.name.upper(),
                                help=f"{p.help}; {p.constraint} (default {p.default})")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="digits", help="data set (default digits)")
    parser.add_argument("--preset", default=None,
                        help="the data set's named settings with a published result (e.g. mnist1d: paper_cnn, "
                             "paper_mlp); options given here override them")
    parser.add_argument("--model", default=None, help="mlp or cnn (default mlp, or the preset's)")
    parser.add_argument("--lambda", dest="lam", default=None, help="weight of the penalty (default: the method's)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    _add_params(parser.add_argument_group("training"), TRAIN_PARAMS)


def _picked(argv: Sequence[str]) -> tuple[dict[str, str], dict]:
    """The data set, model and method named on the command line (validated), before full parsing,
    and the settings of the named preset ({} without one; its model is the default model)."""
    from lab import data, models, regularizers

    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name, default, _ in PICKS:
        pre.add_argument(f"--{name}", default=None)
    pre.add_argument("--preset", default=None)
    ns, _ = pre.parse_known_args(argv)
    dataset = check_name("data set", ns.data or "digits", data.DATASETS)
    preset = dict(data.DATASETS[dataset].preset(ns.preset).settings) if ns.preset else {}
    chosen = {"data": dataset, "model": ns.model or preset.get("model"), "method": ns.method}
    known = {"data": data.DATASETS, "model": models.MODELS}
    picked = {name: check_name(kind, chosen[name] or default, known[name]) for name, default, kind in PICKS[:2]}
    return {**picked, "method": regularizers.resolve(ns.method or "ce").name}, preset


def _specific_params(picked: dict[str, str]) -> dict[str, tuple[Param, ...]]:
    from lab import data, models, regularizers

    return {"data_params": data.DATASETS[picked["data"]].params,
            "model_params": models.MODELS[picked["model"]].params,
            "method_params": regularizers.REGISTRY[picked["method"]].params}


def _config(ns: argparse.Namespace, picked: dict[str, str], specific: dict[str, tuple[Param, ...]],
            preset: dict) -> RunConfig:
    """A RunConfig from parsed strings over the preset's settings (a given option wins; the
    preset's model options only for its own model); validation happens in `lab.config.validate`."""
    given = {p.name: getattr(ns, p.name) for p in TRAIN_PARAMS if getattr(ns, p.name) is not None}
    parts = {k: {p.name: getattr(ns, p.name) for p in ps if getattr(ns, p.name, None) is not None}
             for k, ps in specific.items()}
    if preset.get("model") == picked["model"]:
        parts["model_params"] = {**preset.get("model_params", {}), **parts["model_params"]}
    from lab.regularizers import REGISTRY

    lam = None if ns.lam is None else REGISTRY[picked["method"]].lam_param().check(picked["method"], ns.lam)
    training = {k: v for k, v in preset.items() if k in TRAIN_CHECK}
    return RunConfig(**picked, lam=lam, device=ns.device, name=getattr(ns, "name", None), **parts,
                     **{**training, **{k: TRAIN_CHECK[k].check("training", v) for k, v in given.items()}})


class _ProgressBar:
    """A tqdm bar over epochs, opened at the first progress event (so setup errors print alone)."""

    def __init__(self, total_epochs: int, desc: str):
        self.total, self.desc, self.bar = total_epochs, desc, None

    def __call__(self, ev: dict) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="epoch", file=sys.stderr, leave=False)
        if ev["event"] == "epoch":
            r = ev["record"]
            self.bar.update(1)
            self.bar.set_postfix(loss=num(r["train_loss"]), test_acc=f"{r['test_acc']:.3f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _train_one(cfg: RunConfig, runs: Path, desc: str):
    """Train with a progress bar; Ctrl-C stops the run cleanly (status `stopped`)."""
    from lab.config import validate
    from lab.train import train

    cfg = validate(cfg)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if threading.current_thread() is threading.main_thread() else None
    bar = _ProgressBar(cfg.epochs, desc)
    try:
        return train(cfg, runs=runs, on_progress=bar, stop=stop)
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def cmd_train(argv: Sequence[str]) -> int:
    from lab.store import runs_root

    picked, preset = _picked(argv)
    specific = _specific_params(picked)
    parser = argparse.ArgumentParser(prog="python -m lab train", description="Train one run and save it.")
    _common(parser)
    parser.add_argument("--method", default="ce", help="regularizer (default ce), or your own: FILE.py:CLASS")
    parser.add_argument("--name", default=None, help="run folder name (default: generated)")
    for title, params in (("data set", specific["data_params"]), ("model", specific["model_params"]),
                          (f"method {picked['method']}", specific["method_params"])):
        _add_params(parser.add_argument_group(f"{title} options"), params)
    ns = parser.parse_args(argv)
    res = _train_one(_config(ns, picked, specific, preset), runs_root(ns.runs), picked["method"])
    last = res.history[-1] if res.history else {}
    print(f"{res.status}: {len(res.history)} epochs, test accuracy {last.get('test_acc', float('nan')):.4f}"
          + (f" ({res.error})" if res.error else ""), file=sys.stderr)
    print(res.path)
    return 0 if res.status in ("done", "stopped") else 1


def cmd_runs(argv: Sequence[str]) -> int:
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


def cmd_compare(argv: Sequence[str]) -> int:
    from lab.store import runs_root

    picked, preset = _picked(argv)
    parser = argparse.ArgumentParser(prog="python -m lab compare",
                                     description="Train several methods on identical data, model and seeds.")
    _common(parser)
    parser.add_argument("--methods", default="ce,weight_decay",
                        help="comma-separated methods, built-in or FILE.py:CLASS (default ce,weight_decay)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--out", default=None, help="CSV file (default <runs>/compare-<data>-<model>.csv)")
    specific = _specific_params(picked)
    for title, params in (("data set", specific["data_params"]), ("model", specific["model_params"])):
        _add_params(parser.add_argument_group(f"{title} options"), params)
    ns = parser.parse_args(argv)
    from lab import regularizers

    methods = [regularizers.resolve(m).name for m in ns.methods.split(",") if m]
    seeds = [TRAIN_CHECK["seed"].check("training", s) for s in ns.seeds.split(",") if s]
    base = _config(ns, {**picked, "method": "ce"}, {**specific, "method_params": ()}, preset)
    root = runs_root(ns.runs)
    rows = []
    for method in methods:
        for seed in seeds:
            cfg = replace(base, method=method, seed=seed, lam=base.lam if regularizers.REGISTRY[method].has_penalty() else None)
            res = _train_one(cfg, root, f"{method} s{seed}")
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
    print(f"{'method':<16} {'seeds':>5} {'steps':>6}  final test accuracy (mean ± std over seeds)")
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        steps = ",".join(sorted({str(r["steps"]) for r in mine}))
        print(f"{method:<16} {len(mine):>5} {steps:>6}  {pm([r['test_acc'] for r in mine if r['test_acc'] is not None], 4)}")
    print(f"per-run results: {out}")
    return 0


def module_command(module: str, name: str) -> Callable[[Sequence[str]], int]:
    """A command that lives in its own module (`add_parser(subparsers)` + `run(args)`), imported
    only when used."""

    def command(argv: Sequence[str]) -> int:
        mod = importlib.import_module(module)
        parser = argparse.ArgumentParser(prog="python -m lab")
        mod.add_parser(parser.add_subparsers(dest="command"))
        return mod.run(parser.parse_args([name, *argv]))

    return command


COMMANDS = {"train": cmd_train, "runs": cmd_runs, "compare": cmd_compare,
            "report": module_command("lab.report", "report"), "study": module_command("lab.study.cli", "study"),
            "readme": module_command("lab.readme", "readme"), "lesson": module_command("lab.lesson_cli", "lesson")}
USAGE = f"usage: python -m lab {{{','.join(COMMANDS)}}} [options]   (python -m lab COMMAND --help for options)"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        command = COMMANDS[check_name("command", argv[0], COMMANDS)]
        return command(argv[1:])
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
