"""Data sets by name, and `prepare`: split, subsample, probe set, standardise, move to device.

A prepared data set depends only on the data settings of a run (name, options,
`data_seed`, `train_size`, `val_size`, `probe_size`), never on the run seed, so every method and seed
of a comparison sees identical data.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from lab.data import offline
from lab.data.raw import DataSpec, Preset, RawData
from lab.data.tensors import TensorSet
from lab import paths
from lab.errors import ConfigError, DataError
from lab.params import Choice, Flag, Interval, Param, check_name

_TOY = (
    Param("n_samples", 1000, Interval(int, 20, 10**6), "points generated"),
    Param("noise", 0.1, Interval(float, 0, 5), "noise level (std of the added Gaussian)"),
)


def _images(name: str):
    def load(seed: int, root: str, download: bool) -> RawData:
        from lab.data.images import load_image_set

        return load_image_set(name, root, download)

    return load


class _Text:
    """Any non-empty text, e.g. a column's name; a `path` is made absolute, so one file named two
    ways is one setting."""

    def __init__(self, what: str = "a folder path", path: bool = False):
        self.what, self.absolute = what, path

    def coerce(self, value):
        if not isinstance(value, (str, Path)) or not str(value).strip():
            raise ValueError
        return str(Path(value).expanduser().resolve()) if self.absolute else str(value)

    def __str__(self) -> str:
        return self.what


def _file(kind: str):
    def load(seed: int, path: str, **options) -> RawData:
        return read_file(kind, path, **options)[0]

    return load


EXAMPLES = paths.EXAMPLES / "data"  # the kinds' default files (examples/data/make.py)
_FRACTION = Param("test_fraction", 0.2, Interval(float, 0.05, 0.9), "share of the samples held out for testing, "
                                                                     "stratified (when the file has no split)")
_MISSING = Param("drop_missing", False, Flag(), "drop samples with a missing or non-finite value (else refused)")
FILE_KINDS = {
    "table": DataSpec("table", _file("table"), (), (
        Param("path", str(EXAMPLES / "wine.csv"), _Text("a .csv or .tsv file", path=True),
              "the table: one row per sample"),
        Param("label_column", "-1", _Text("a column name or index"), "the label column: its header name, or its "
                                                                     "0-based index (-1: the last)"),
        _FRACTION, _MISSING), description="your table (.csv, .tsv): numeric columns and a label column"),
    "arrays": DataSpec("arrays", _file("arrays"), (), (
        Param("path", str(EXAMPLES / "digits.npz"), _Text("a .npz file", path=True), "the arrays x (samples) and y (labels)"),
        Param("layout", "auto", Choice(("auto", "signals")), "auto: (n, d) vectors, (n, H, W) or (n, C, H, W) "
                                                             "images; signals: (n, L) or (n, C, L) for the 1-D CNN"),
        _FRACTION, _MISSING), description="your arrays (.npz with x and y)"),
    "images": DataSpec("images", _file("images"), (), (
        Param("path", str(EXAMPLES / "shapes"), _Text("an image folder", path=True),
              "one subfolder of images per class (or train/ and test/ each with them)"),
        Param("size", 28, Interval(int, 4, 256), "images are resized to size x size"),
        Param("colour", "grey", Choice(("grey", "rgb")), "grey (1 channel) or rgb (3)"),
        _FRACTION), description="your image folder (one subfolder per class)"),
}


# MNIST-1D's paper (Greydanus & Kobak): 4,000 training signals (the lab's full training split),
# Adam; it reports test accuracy 94% for its CNN and 68% for its MLP. The lab's strided CNN with
# 25 channels per block and the MLP 100-100 reach these numbers under the same training settings.
_PAPER = {"optimizer": "adam", "lr": 0.01, "batch_size": 100, "epochs": 150, "train_size": 0}
_SOURCE = "Greydanus & Kobak, MNIST-1D (4,000 training signals)"
_MNIST1D_PAPER = (
    Preset("paper_cnn", {**_PAPER, "model": "cnn", "model_params": {"channels": (25, 25, 25), "kernel": 5}}, 0.94,
           _SOURCE),
    Preset("paper_mlp", {**_PAPER, "model": "mlp", "model_params": {"widths": (100, 100)}}, 0.68, _SOURCE),
)

_IMAGE_PARAMS = (
    Param("root", "data", _Text(), "folder that holds the data files"),
    Param("download", False, Flag(), "download the files into root when they are missing"),
)

DATASETS: dict[str, DataSpec] = {
    "digits": DataSpec("digits", lambda seed: offline.load_digits(), (1, 8, 8),
                       description="scikit-learn 8x8 digits, 1,797 images, 10 classes (offline)"),
    "mnist1d": DataSpec("mnist1d", lambda seed: offline.load_mnist1d(), (1, 40), test_fraction=0.2,
                        description="MNIST-1D, 5,000 generated signals of length 40, 10 classes (offline)",
                        presets=_MNIST1D_PAPER),
    "moons": DataSpec("moons", offline.load_moons, (2,), _TOY,
                      description="two interleaving half circles, 2 classes (offline)"),
    "circles": DataSpec("circles", offline.load_circles, (2,),
                        (_TOY[0], Param("noise", 0.05, Interval(float, 0, 5), "noise level")),
                        description="a circle inside a circle, 2 classes (offline)"),
    "spirals": DataSpec("spirals", offline.load_spirals, (2,),
                        (_TOY[0], Param("noise", 0.5, Interval(float, 0, 5), "noise level"),
                         Param("arms", 3, Interval(int, 2, 10), "number of spiral arms = classes")),
                        description="interleaved spirals, one class per arm (offline)"),
    "blobs": DataSpec("blobs", offline.load_blobs, (2,),
                      (_TOY[0], Param("noise", 0.3, Interval(float, 0, 5), "std of each blob around its centre"),
                       Param("classes", 4, Interval(int, 2, 10), "number of blobs = classes, centres on a circle")),
                      description="Gaussian blobs around a circle, 2 to 10 classes (offline)"),
    "mnist": DataSpec("mnist", _images("mnist"), (1, 28, 28), _IMAGE_PARAMS, offline=False,
                      description="MNIST handwritten digits (files under root)"),
    "fashion_mnist": DataSpec("fashion_mnist", _images("fashion_mnist"), (1, 28, 28), _IMAGE_PARAMS, offline=False,
                              description="Fashion-MNIST clothing images (files under root)"),
    "cifar10": DataSpec("cifar10", _images("cifar10"), (3, 32, 32), _IMAGE_PARAMS, offline=False,
                        description="CIFAR-10 colour images, 10 classes (files under root)"),
    "cifar100": DataSpec("cifar100", _images("cifar100"), (3, 32, 32), _IMAGE_PARAMS, offline=False,
                         description="CIFAR-100 colour images, 100 classes (files under root)"),
    **FILE_KINDS,
}


@lru_cache(maxsize=4)
def _read(kind: str, path: str, stamp: tuple[int, int], options: tuple) -> tuple[RawData, str]:
    from lab.data import files

    reader = {"table": files.read_table, "arrays": files.read_arrays, "images": files.read_images}[kind]
    return reader(path, **dict(options))


def _stamp(path: str) -> tuple[int, int]:
    """(modification time, size) of a file or folder: what the caches of its contents are keyed by."""
    st = Path(path).stat() if Path(path).exists() else None
    return (st.st_mtime_ns, st.st_size) if st else (0, 0)


def read_file(kind: str, path: str, **options) -> tuple[RawData, str]:
    """(the samples of your file of `kind`, one line on what was read), kept while the file is unchanged."""
    options = tuple(sorted((k, v) for k, v in options.items() if k != "test_fraction"))
    return _read(kind, str(Path(path)), _stamp(path), options)


def resolve(value: str) -> tuple[str, dict]:
    """(data set, its options) for what a user typed: a data set's name, or the path of a file or
    folder of their own ({"path": value} under its kind)."""
    from lab.data.files import kind

    if value in DATASETS:
        return value, {}
    found = kind(value)
    if found is None and ("/" in value or "." in Path(value).name):
        raise DataError(f"{value}: not a data set the lab reads; give a .csv, .tsv or .npz file or an image folder "
                        f"(one subfolder per class), or one of: {', '.join(DATASETS)}.")
    return (found, {"path": value}) if found else (check_name("data set", value, DATASETS), {})


def source(name: str, params: dict) -> dict | None:
    """What a run on your file records of it, {"path", "sha256"}; None for a built-in data set."""
    if name not in FILE_KINDS:
        return None
    from lab.config import content_hash

    if not Path(params["path"]).exists():
        raise DataError(f"Data {'folder' if name == 'images' else 'file'} {params['path']} not found; give the path "
                        f"to a .csv, .tsv or .npz file or an image folder.")
    return {"path": params["path"], "sha256": content_hash(params["path"])}


def sample_shape(name: str, params: dict) -> tuple[int, ...]:
    """The shape of one sample of data set `name` with `params` (validated): a file's is read from it."""
    if name not in FILE_KINDS:
        return DATASETS[name].sample_shape
    raw = read_file(name, **params)[0]
    return tuple(raw.x.shape[1:])


def n_classes(name: str, params: dict) -> int:
    """The number of classes of data set `name` with `params` (validated), read once per setting."""
    return len(_split(DATASETS[name], params, 0, 0, 0, 0)[6])


def check_files(name: str, params: dict) -> None:
    """DataError in one sentence when a data set read from files (not `offline`) lacks them under
    its `root` and is not to be downloaded (`params` as validated); the others always pass."""
    if not DATASETS[name].offline and not params.get("download"):
        from lab.data.images import check_files as check

        check(name, params["root"])


@dataclass
class Prepared:
    """A prepared data set on one device. `probe` indexes into `test`."""

    train: TensorSet
    test: TensorSet
    probe: TensorSet
    classes: list[str]
    sample_shape: tuple[int, ...]
    val: TensorSet | None = None  # held-out training samples (`val_size`), None without

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def published(config: dict) -> Preset | None:
    """The preset of the run's data set whose settings the run (a config dict) has, if any."""
    spec = DATASETS.get(config.get("data"))
    return next((p for p in spec.presets if p.matches(config)), None) if spec else None


def _stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a stratified subsample of size n (each class in proportion, largest
    remainders first, at least one per class when n allows)."""
    classes, counts = np.unique(y, return_counts=True)
    want = counts * n / len(y)
    take = np.floor(want).astype(int)
    short = n - take.sum()
    take[np.argsort(-(want - take), kind="stable")[:short]] += 1
    idx = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)]
    return np.sort(np.concatenate(idx))


_CACHE: dict[tuple, tuple] = {}
_LOCK = threading.Lock()


def _split(spec: DataSpec, params: dict, data_seed: int, train_size: int, val_size: int, probe_size: int):
    """numpy arrays (x_tr, y_tr, val, x_te, y_te, probe_idx, classes), val = (x, y) or None,
    cached per data settings."""
    stamp = _stamp(params["path"]) if spec.name in FILE_KINDS else None  # a changed file: new data
    key = (spec.name, tuple(sorted(params.items())), stamp, data_seed, train_size, val_size, probe_size)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    fraction = params.get("test_fraction", spec.test_fraction)
    raw = spec.load(seed=data_seed, **{k: v for k, v in params.items() if k != "test_fraction"})
    rng = np.random.default_rng(data_seed)
    if raw.test is None:
        test_idx = _stratified_take(raw.y, max(len(raw.classes), int(round(len(raw.y) * fraction))), rng)
        mask = np.ones(len(raw.y), bool)
        mask[test_idx] = False
        x_tr, y_tr, x_te, y_te = raw.x[mask], raw.y[mask], raw.x[test_idx], raw.y[test_idx]
    else:
        x_tr, y_tr, (x_te, y_te) = raw.x, raw.y, raw.test
    val = None
    if val_size:
        if not len(raw.classes) <= val_size <= len(y_tr) - len(raw.classes):
            raise ConfigError(f"val_size {val_size} does not fit the {spec.name} training split ({len(y_tr)} samples, "
                              f"{len(raw.classes)} classes); use 0 or {len(raw.classes)} to "
                              f"{len(y_tr) - len(raw.classes)}.")
        held = _stratified_take(y_tr, val_size, rng)
        rest = np.setdiff1d(np.arange(len(y_tr)), held)
        val, x_tr, y_tr = (x_tr[held], y_tr[held]), x_tr[rest], y_tr[rest]
    if train_size:
        if train_size < len(raw.classes):
            raise ConfigError(f"train_size {train_size} is smaller than the {len(raw.classes)} classes of {spec.name}; "
                              f"use 0 (all) or at least {len(raw.classes)}.")
        if train_size > len(y_tr):
            raise ConfigError(f"train_size {train_size} is larger than the {spec.name} training split "
                              f"({len(y_tr)} samples); use at most {len(y_tr)} or 0 for all.")
        keep = _stratified_take(y_tr, train_size, rng)
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    probe = _stratified_take(y_te, min(probe_size, len(y_te)), rng)
    out = (x_tr, y_tr, val, x_te, y_te, probe, raw.classes)
    with _LOCK:
        _CACHE[key] = out
    return out


def prepare(name: str, params: dict, *, data_seed: int = 0, train_size: int = 0, val_size: int = 0,
            probe_size: int = 2000, device: torch.device | str = "cpu") -> Prepared:
    """Split (stratified, fixed by `data_seed`), hold out `val_size` training samples for
    validation (0 = none), subsample `train_size` of the rest (0 = all), pick the probe set,
    standardise with training statistics only (per channel for images and signals, per feature
    for vectors), and put everything on `device`."""
    spec = DATASETS[name]
    x_tr, y_tr, val, x_te, y_te, probe, classes = _split(spec, params, data_seed, train_size, val_size, probe_size)
    axes = (0, *range(2, x_tr.ndim)) if x_tr.ndim > 2 else (0,)
    mean = x_tr.mean(axis=axes, keepdims=True)
    std = np.maximum(x_tr.std(axis=axes, keepdims=True), 1e-6)

    def tensors(x: np.ndarray, y: np.ndarray) -> TensorSet:
        return TensorSet(torch.as_tensor((x - mean) / std, dtype=torch.float32, device=device),
                         torch.as_tensor(y, dtype=torch.int64, device=device))

    test = tensors(x_te, y_te)
    pidx = torch.as_tensor(probe, device=test.y.device)
    return Prepared(tensors(x_tr, y_tr), test, TensorSet(test.x[pidx], test.y[pidx]), list(classes),
                    tuple(x_tr.shape[1:]), tensors(*val) if val is not None else None)
