"""What the commands that train share: options generated from the declarations, the config they
build, and one run trained with a progress bar.

Options are generated from the declarations: the training fields (`TRAIN_PARAMS`), then the
chosen data set's, model's and method's own `Param`s, so `python -m lab train --method mhe
--help` lists mhe's options. Every value is checked by its Param, so a bad value gets the
same one-line sentence here as in the app. Errors print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from lab.config import TRAIN_PARAMS, RunConfig
from lab.params import Flag, Param, check_name
from lab.stats import num

TRAIN_CHECK = {p.name: p for p in TRAIN_PARAMS}
PICKS = (("data", "digits", "data set"), ("model", "mlp", "model"), ("method", "ce", "method"))


def flag(p: Param) -> str:
    return "--" + p.name.replace("_", "-")


def add_params(parser: argparse.ArgumentParser | argparse._ArgumentGroup, params: Sequence[Param]) -> None:
    """One option per Param; values stay strings until the Param checks them."""
    for p in params:
        if isinstance(p.constraint, Flag):
            parser.add_argument(flag(p), dest=p.name, nargs="?", const="true", default=None,
                                metavar="BOOL", help=f"{p.help} (default {p.default})")
        else:
            parser.add_argument(flag(p), dest=p.name, default=None, metavar=p.name.upper(),
                                help=f"{p.help}; {p.constraint} (default {p.default})")


def common(parser: argparse.ArgumentParser, lam_default: str) -> None:
    parser.add_argument("--data", default="digits", help="data set (default digits), or your own: a .csv, .tsv or "
                                                         ".npz file or an image folder")
    parser.add_argument("--preset", default=None,
                        help="the data set's named settings with a published result (e.g. mnist1d: paper_cnn, "
                             "paper_mlp); options given here override them")
    parser.add_argument("--model", default=None, help="mlp or cnn (default mlp, or the preset's)")
    parser.add_argument("--lambda", dest="lam", default=None, help=f"weight of the penalty (default {lam_default})")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    add_params(parser.add_argument_group("training"), TRAIN_PARAMS)


def picked_names(argv: Sequence[str]) -> tuple[dict[str, str], dict]:
    """The data set, model and method named on the command line (validated), before full parsing,
    and the settings of the named preset ({} without one; its model is the default model)."""
    from lab import data, models, regularizers

    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for name, default, _ in PICKS:
        pre.add_argument(f"--{name}", default=None)
    pre.add_argument("--preset", default=None)
    ns, _ = pre.parse_known_args(argv)
    dataset, own = data.resolve(ns.data or "digits")  # own: {"path": ...} for your file
    preset = dict(data.DATASETS[dataset].preset(ns.preset).settings) if ns.preset else {}
    preset = {**preset, "data_params": own} if own else preset
    chosen = {"data": dataset, "model": ns.model or preset.get("model"), "method": ns.method}
    known = {"data": data.DATASETS, "model": models.MODELS}
    picked = {name: check_name(kind, chosen[name] or default, known[name]) for name, default, kind in PICKS[:2]}
    return {**picked, "method": regularizers.resolve(ns.method or "ce").name}, preset


def specific_params(picked: dict[str, str]) -> dict[str, tuple[Param, ...]]:
    from lab import data, models, regularizers

    return {"data_params": data.DATASETS[picked["data"]].params,
            "model_params": models.MODELS[picked["model"]].params,
            "method_params": regularizers.REGISTRY[picked["method"]].params}


def config(ns: argparse.Namespace, picked: dict[str, str], specific: dict[str, tuple[Param, ...]],
            preset: dict) -> RunConfig:
    """A RunConfig from parsed strings over the preset's settings (a given option wins; the
    preset's model options only for its own model); validation happens in `lab.config.validate`."""
    given = {p.name: getattr(ns, p.name) for p in TRAIN_PARAMS if getattr(ns, p.name) is not None}
    parts = {k: {p.name: getattr(ns, p.name) for p in ps if getattr(ns, p.name, None) is not None}
             for k, ps in specific.items()}
    if preset.get("model") == picked["model"]:
        parts["model_params"] = {**preset.get("model_params", {}), **parts["model_params"]}
    parts["data_params"] = {**preset.get("data_params", {}), **parts["data_params"]}
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


def train_one(cfg: RunConfig, runs: Path, desc: str):
    """Train with a progress bar; Ctrl-C stops the run cleanly (status `stopped`)."""
    from lab.config import validate
    from lab.train import train

    cfg = validate(cfg)
    if cfg.data_source:
        from lab.data import read_file

        print(read_file(cfg.data, **{k: v for k, v in cfg.data_params.items() if k != "test_fraction"})[1],
              file=sys.stderr)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if threading.current_thread() is threading.main_thread() else None
    bar = _ProgressBar(cfg.epochs, desc)
    try:
        return train(cfg, runs=runs, on_progress=bar, stop=stop)
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
