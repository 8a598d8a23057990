"""A study file (`studies/<name>.toml`) read into a `Study`, every setting checked by the same
`Param` declarations (and error sentences) as `python -m lab train`, and expanded into one named
`RunConfig` per grid point.

A study file holds training fields of `RunConfig` (epochs, batch_size, lr, train_size, ...),
`seeds = [...]`, `[data.<name>]` and `[models.<name>]` tables with their options, and one
`[methods.<name>]` table per method with optional `params = {...}` (fixed options),
`sweep = {option = [values]}` (a grid over options) and `lam = [values]` (a lambda grid;
absent = the method's default). Run names are deterministic, so a rerun finds its runs:
`study-<study>-<data>-<model>-<method>[-<swept option><value>]-lam<lambda>-s<seed>`.

With `val_size = N` the study has two phases. Selection: every variant of a method with more
than one is trained on every seed with N training samples held out (names end in `-sel`), and
the variant with the best mean final validation accuracy is chosen per (data, model, method).
Final: the chosen variant of each method is trained on the full training split (no hold-out)
and its test accuracy is reported, once. Without `val_size` every variant is a final run.
"""
from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lab.declare import REFERENCE
from lab.config import TRAIN_PARAMS, RunConfig, validate
from lab import paths
from lab.errors import ConfigError
from lab.params import check_name, validate_params

STUDIES = paths.STUDIES
CHECK = {p.name: p for p in TRAIN_PARAMS}  # the CLI's declarations of the training fields
TRAIN_KEYS = set(CHECK) - {"seed"}  # a study gives `seeds`, a list
STUDY_KEYS = TRAIN_KEYS | {"description", "seeds", "data", "models", "methods"}
METHOD_KEYS = {"params", "sweep", "lam"}


@dataclass(frozen=True)
class Variant:
    """One setting of one method: its options and lambda (None = the method's default)."""

    method: str
    params: dict
    lam: float | None
    swept: tuple[str, ...]  # option names that vary across this method's variants (shown in labels)
    lam_swept: bool


@dataclass(frozen=True)
class Study:
    """A parsed study file: the grid is data x models x variants x seeds."""

    name: str
    description: str
    data: dict[str, tuple[str, dict]]  # label (a data set's name, your file's name) -> (data set, its options)
    models: dict[str, dict]  # model -> its options
    variants: tuple[Variant, ...]
    seeds: tuple[int, ...]
    train: dict[str, Any]  # RunConfig training fields, checked

    @property
    def selects(self) -> bool:
        """Whether λ and options are chosen on a validation split (`val_size` > 0)."""
        return bool(self.train.get("val_size"))


def available() -> list[str]:
    """The names of the shipped studies."""
    return sorted(p.stem for p in STUDIES.glob("*.toml"))


def _table(owner: str, doc: Any, allowed: set[str] | None = None) -> dict:
    """`doc` if it is a table whose keys are all in `allowed` (None: any keys)."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{owner} must be a table, got {doc!r}.")
    extra = sorted(set(doc) - allowed) if allowed is not None else []
    if extra:
        raise ConfigError(f"{owner} has no setting {extra[0]!r}; its settings are: {', '.join(sorted(allowed))}.")
    return doc


def _listed(owner: str, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{owner} must be a non-empty list, got {value!r}.")
    return value


def _options(kind: str, name: str, doc: Any, known: dict) -> tuple[str, dict]:
    """A data set's or model's name and options, both checked by its declarations."""
    check_name(kind, name, known)
    options = _table(f"{kind} {name}", doc)
    validate_params(name, known[name].params, options)
    return name, options


def _data(key: str, doc: Any) -> tuple[str, tuple[str, dict]]:
    """(label, (data set, options)) of one `[data.<key>]` table: a data set's name, or the path of
    your file (`[data."wine.csv"]`, labelled by its file name)."""
    from lab import data

    name, own = data.resolve(key)
    options = {**own, **_table(f"data set {key}", doc)}
    validate_params(name, data.DATASETS[name].params, options)
    return (Path(key).name if own else name), (name, options)


def _variants(name: str, method: str, spec: Any) -> list[Variant]:
    """Every variant of one `[methods.<method>]` table, each checked by the method's Params; the
    method is a name or a plug-in spec (`[methods."path/to/file.py:Class"]`)."""
    from lab.regularizers import resolve

    reg = resolve(method)
    method = reg.name
    spec = _table(f"methods.{method}", spec, METHOD_KEYS)
    fixed = _table(f"methods.{method}.params", spec.get("params", {}))
    sweep = {k: _listed(f"methods.{method}.sweep.{k}", v)
             for k, v in _table(f"methods.{method}.sweep", spec.get("sweep", {})).items()}
    lams = _listed(f"methods.{method}.lam", spec["lam"]) if "lam" in spec else [None]
    for lam in lams:
        if lam is not None:
            reg.lam_param().check(method, lam)
    swept = tuple(k for k, v in sweep.items() if len(v) > 1)
    out = []
    for values, lam in itertools.product(itertools.product(*sweep.values()), lams):
        params = {**fixed, **dict(zip(sweep, values))}
        validate_params(method, reg.params, params)
        out.append(Variant(method, params, lam, swept, len(lams) > 1))
    return out


def parse_study(name: str, doc: dict) -> Study:
    """A Study from a parsed study file; every name and value is checked here."""
    from lab import models

    doc = _table(f"study {name}", doc, STUDY_KEYS)
    for key in ("data", "models", "methods", "seeds"):
        if key not in doc:
            raise ConfigError(f"study {name} needs a '{key}' setting.")
    train = {k: CHECK[k].check("training", v) for k, v in doc.items() if k in TRAIN_KEYS}
    seeds = tuple(CHECK["seed"].check("training", s) for s in _listed(f"study {name} seeds", doc["seeds"]))
    datasets = dict(_data(d, o) for d, o in _table(f"study {name} data", doc["data"]).items())
    nets = dict(_options("model", m, o, models.MODELS) for m, o in _table(f"study {name} models", doc["models"]).items())
    variants = [v for method, spec in _table(f"study {name} methods", doc["methods"]).items()
                for v in _variants(name, method, spec)]
    if not any(v.method == REFERENCE for v in variants):
        raise ConfigError(f"study {name} needs the method '{REFERENCE}': it is the reference of the paired comparison.")
    return Study(name, str(doc.get("description", "")), datasets, nets, tuple(variants), seeds, train)



def load_study(name: str) -> Study:
    """`studies/<name>.toml`, or a path to a study file."""
    path = Path(name) if name.endswith(".toml") else STUDIES / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"Unknown study {name!r}; choose one of: {', '.join(available())} "
                          f"(or give the path of a .toml study file).")
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"The study file {path} is not valid TOML ({e}).") from None
    return parse_study(path.stem, doc)


def slug(value: Any) -> str:
    """A value as it appears in run names and labels: 0.0005, 256-256, true."""
    if isinstance(value, (list, tuple)):
        return "-".join(slug(v) for v in value)
    text = f"{value:g}" if isinstance(value, float) else str(value).lower()
    return re.sub(r"[^A-Za-z0-9.]", "_", text)


Chosen = dict[tuple[str, str, str], Variant]  # (data, model, method) -> the variant chosen on validation


def expand(study: Study, device: str = "auto", phase: str = "final",
           chosen: Chosen | None = None) -> list[tuple[RunConfig, Variant]]:
    """The runs of one phase as validated configs named after their grid points, with their
    variants. "selection": the variants of every method that has several, with the study's
    validation hold-out; "final": without hold-out, each method's `chosen` variant (all variants
    when `chosen` is None, i.e. a study without validation)."""
    several = {m for m in {v.method for v in study.variants} if sum(v.method == m for v in study.variants) > 1}
    out = []
    for (d, (dn, dp)), (m, mp), v, seed in itertools.product(study.data.items(), study.models.items(),
                                                       study.variants, study.seeds):
        if phase == "selection" and v.method not in several:
            continue
        if phase == "final" and chosen is not None and chosen.get((d, m, v.method), v) != v:
            continue
        train = {**study.train, "val_size": study.train.get("val_size", 0) if phase == "selection" else 0}
        cfg = validate(RunConfig(data=dn, model=m, method=v.method, lam=v.lam, data_params=dp, model_params=mp,
                                 method_params=v.params, seed=seed, device=device, **train))
        tags = "".join(f"-{k}{slug(cfg.method_params[k])}" for k in v.swept)
        suffix = "-sel" if phase == "selection" else ""
        out.append((replace(cfg, name=f"study-{study.name}-{d}-{m}-{v.method}{tags}-lam{slug(cfg.lam)}-s{seed}{suffix}"),
                    v))
    return out


def label(cfg: RunConfig, v: Variant) -> str:
    """What a variant is called in tables and legends: the method, its swept options, its lambda."""
    parts = [v.method, *(f"{k}={slug(cfg.method_params[k])}" for k in v.swept)]
    if v.lam_swept or (v.lam is not None and cfg.lam != 0):
        parts.append(f"λ={cfg.lam:g}")
    return " ".join(parts)
