"""`RunConfig`: everything that defines a run, validated once, saved as config.json.

The scalar training fields are declared as `Param`s (`TRAIN_PARAMS`) so that the CLI
flags, the validator and the app's widgets come from one list. The data set, model and
method each declare their own options (`data_params`, `model_params`, `method_params`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.params import Choice, Interval, Param, check_name, validate_params

TRAIN_PARAMS: tuple[Param, ...] = (
    Param("epochs", 20, Interval(int, 1, 1000), "passes over the training split"),
    Param("batch_size", 128, Interval(int, 2, 65536), "samples per mini-batch"),
    Param("optimizer", "sgd", Choice(("sgd", "adam")), "sgd (with momentum) or adam"),
    Param("lr", 0.05, Interval(float, 0, 10, closed="right"), "learning rate"),
    Param("momentum", 0.9, Interval(float, 0, 1, closed="left"), "SGD momentum (ignored by adam)"),
    Param("seed", 0, Interval(int, 0, 2**31 - 1), "seed of initialisation, batch order and the method's draws"),
    Param("train_size", 0, Interval(int, 0, 10**7), "training samples used, stratified (0 = the full split)"),
    Param("val_size", 0, Interval(int, 0, 10**7), "training-split samples held out for validation, stratified, "
                                                   "before train_size is drawn (0 = none)"),
    Param("probe_size", 2000, Interval(int, 10, 5000), "test points measured every epoch (stratified; at most "
                                                         "what a map or a matrix view can draw)"),
    Param("data_seed", 0, Interval(int, 0, 2**31 - 1), "seed of the train/test split and subsample"),
    Param("max_grad_norm", 0.0, Interval(float, 0, None), "clip the gradient's total norm to this before each "
                                                          "step (0 = no clipping)"),
)


@dataclass(frozen=True)
class RunConfig:
    """One run. `lam=None` means the method's default weight (resolved by `validate`)."""

    data: str = "digits"  # data set name, a key of lab.data.DATASETS ("table", "arrays", "images": your file)
    model: str = "mlp"  # "mlp" or "cnn"
    method: str = "ce"  # regularizer name, a key of lab.regularizers.REGISTRY
    lam: float | None = None  # weight of the penalty in the total loss
    data_params: dict = field(default_factory=dict)  # the data set's own options
    model_params: dict = field(default_factory=dict)  # widths, activation, channels
    method_params: dict = field(default_factory=dict)  # the regularizer's own options
    epochs: int = 20
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05  # learning rate
    momentum: float = 0.9
    seed: int = 0
    train_size: int = 0  # 0 = full training split
    val_size: int = 0  # validation samples carved from the training split (0 = none)
    probe_size: int = 2000
    data_seed: int = 0
    max_grad_norm: float = 0.0  # gradient norm clipped to before each step; 0 = off
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    name: str | None = None  # run folder name; None = generated
    plugin: dict | None = None  # a plug-in method's {"name", "file", "class", "sha256"}; None for a built-in
    data_source: dict | None = None  # your data file's {"path", "sha256"}; None for a built-in data set

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def data_label(self) -> str:
        """The data set as a user names it: its name, or your file's name ("wine.csv")."""
        path = self.data_params.get("path")
        return Path(path).name if path else self.data

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """From a saved config.json; unknown keys are refused by `validate`, not silently dropped."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise ConfigError(f"Unknown run setting {extra[0]!r}; settings are: {', '.join(sorted(known))}.")
        return cls(**d)


def validate(cfg: RunConfig) -> RunConfig:
    """The same config with every name checked, every value coerced and all defaults filled in; a
    plug-in method (a spec FILE.py:CLASS, or a run's recorded `plugin`) is loaded, named by its
    `name`, and recorded with its file's hash."""
    from lab import data, models
    from lab.data.tensors import second_batch_problem
    from lab.device import check_device
    from lab.regularizers import plugins

    check_name("data set", cfg.data, data.DATASETS)
    check_name("model", cfg.model, models.MODELS)
    ds = data.DATASETS[cfg.data]
    reg = plugins.for_config(cfg.method, cfg.plugin)
    train = validate_params("training", TRAIN_PARAMS, {p.name: getattr(cfg, p.name) for p in TRAIN_PARAMS})
    lam = reg.default_lam if cfg.lam is None else reg.lam_param().check(cfg.method, cfg.lam)
    data_params = validate_params(cfg.data, ds.params, cfg.data_params)
    recorded = cfg.data_source
    source = data.source(cfg.data, data_params) if not recorded or Path(recorded["path"]).exists() else None
    if problem := data_source_problem(recorded, source):  # the file hashed once, here
        from lab.errors import DataError

        raise DataError(f"{problem}. Its snapshots stay viewable.")
    models.check_compatible(cfg.model, cfg.data, data.sample_shape(cfg.data, data_params))
    if cfg.train_size and (problem := second_batch_problem(reg.needs, train["batch_size"], train["train_size"])):
        raise ConfigError(f"{reg.name}: {problem}")  # train_size 0 (all): checked on the split, in `train`
    return replace(
        cfg,
        lam=lam,
        data_params=data_params,
        data_source=source,
        model_params=validate_params(cfg.model, models.MODELS[cfg.model].params, cfg.model_params),
        method_params=validate_params(cfg.method, reg.params, cfg.method_params),
        device=check_device(cfg.device),
        method=reg.name,
        plugin=reg.source.to_dict(reg.name) if reg.source else None,
        **train,
    )


def settings_key(cfg: RunConfig) -> str:
    """A config's training settings as canonical JSON, its name and device left out: two runs whose
    keys are equal are the same run (one trained on CUDA is as good as one trained on the CPU)."""
    return json.dumps({k: v for k, v in cfg.to_dict().items() if k not in ("name", "device")}, sort_keys=True)


def batch_note(cfg: RunConfig) -> str | None:
    """How a validated config's batches differ from CE's (phantom's class-balanced batches, ITRA's
    two), None when they do not (`lab.data.tensors.batching`)."""
    from lab import data
    from lab.data.tensors import batching
    from lab.regularizers import plugins

    needs = plugins.for_config(cfg.method, cfg.plugin).needs
    return batching(needs, cfg.batch_size, data.n_classes(cfg.data, cfg.data_params)) if needs else None


_PARTS = {"data": "data_params", "model": "model_params", "method": "method_params"}  # "data.noise" -> data_params


def to_query(cfg: RunConfig) -> dict[str, str]:
    """A validated config as URL query parameters, Playground-style: data, model, method and lam,
    each training setting that differs from its default, and each option as "data.noise",
    "model.widths", "method.s" (lists as "64,64"). `from_query` reads them back."""
    def text(v: Any) -> str:
        return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)

    out = {"data": cfg.data, "model": cfg.model, "method": cfg.method}
    if cfg.lam:
        out["lam"] = f"{cfg.lam:g}"
    out.update({p.name: text(getattr(cfg, p.name)) for p in TRAIN_PARAMS if getattr(cfg, p.name) != p.default})
    for prefix, part in _PARTS.items():
        out.update({f"{prefix}.{k}": text(v) for k, v in getattr(cfg, part).items()})
    return out


def from_query(query: dict[str, str]) -> RunConfig:
    """The validated config of `to_query`'s parameters (other keys, such as "run", are ignored);
    ConfigError in one line for a bad value."""
    known = {p.name for p in TRAIN_PARAMS}
    fields_ = {k: v for k, v in query.items() if k in known or k in ("data", "model", "method", "lam")}
    parts = {part: {k.split(".", 1)[1]: v for k, v in query.items() if k.startswith(prefix + ".")}
             for prefix, part in _PARTS.items()}
    return validate(RunConfig(**fields_, **parts))


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}  # what an image folder holds


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's image files (their relative paths and bytes, sorted)."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_file():
        h.update(p.read_bytes())
        return h.hexdigest()
    for f in sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES):
        h.update(str(f.relative_to(p)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def data_source_problem(source: dict | None, now: dict | None = None) -> str | None:
    """One line when the file a run recorded (`RunConfig.data_source`) has changed or gone since;
    None when it is as it was, or the run trained on a built-in data set. `now`: the file's source as
    just read (`lab.data.source`), so that it is not hashed twice."""
    if not source:
        return None
    path = Path(source["path"])
    if not path.exists():
        return f"{path} is gone since this run was trained; restore it to re-run the run"
    if (now["sha256"] if now else content_hash(path)) != source["sha256"]:
        return (f"{path} changed since this run was trained; restore that version to re-run it, or train a new run "
                f"on the file as it is")
    return None


COMPARED = ("method", "lam", "method_params", "plugin", "seed")  # what a comparison is allowed to vary
_NOT_SETTINGS = ("name", "device")  # a run's folder name and where it trained change no result


def differences(configs: list[RunConfig]) -> dict[str, list]:
    """The settings, other than method, lambda, the method's options and the seed, in which the
    runs differ: {field: [value of each run]} (empty: a fair comparison by construction)."""
    rows = [c.to_dict() for c in configs]
    fields_ = [k for k in rows[0] if k not in COMPARED + _NOT_SETTINGS] if rows else []
    return {k: [r[k] for r in rows] for k in fields_ if any(r[k] != rows[0][k] for r in rows)}
