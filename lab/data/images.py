"""Real image sets read from a data root: MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100.

Nothing is downloaded unless `download` is true or `fetch` is called (the app's Download button):
torchvision's downloader fetches and md5-checks the archives. Missing files are refused by
`check_files` in one sentence before anything else happens. MNIST and Fashion-MNIST are read by
torchvision's own `MNIST`/`FashionMNIST` classes: the idx files hold raw bytes and no code,
so their reader is safe on any file. CIFAR's files are Python pickles, and torchvision reads
them with a plain `pickle.load`, which runs whatever a crafted file asks for; the lab never
unpickles a user-provided file that way. So for CIFAR torchvision only downloads and checks
the archive (md5), and the batches are read here by `_SafeUnpickler`, which rebuilds numpy
arrays and nothing else. Images come back as float32 (n, C, H, W) in [0, 255] with the data
set's own test split in `RawData.test`.
"""
from __future__ import annotations

import codecs
import pickle
from pathlib import Path
from typing import Callable

import numpy as np

from lab.data.raw import RawData
from lab.errors import DataError

IMAGE_SETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")

# The only globals a CIFAR batch needs: numpy's array reconstruction (under its numpy 1 and 2
# module names) and, for files written by Python 3 with protocol 2, `_codecs.encode` (bytes).
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _Refused(pickle.UnpicklingError):
    """The pickle asks for a global outside `_ALLOWED`."""


class _SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only dicts, lists, strings, numbers and numpy arrays."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise _Refused(f"unexpected object {module}.{name}")
        return _ALLOWED[(module, name)]


def _layout(name: str, root: Path) -> tuple[Path, list[str], list[tuple[list[str], Path, str, str | None]]]:
    """(folder, the files read there, downloads as (mirror urls, into, archive name, md5))."""
    from torchvision import datasets

    if name in ("mnist", "fashion_mnist"):
        cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
        folder = root / cls.__name__ / "raw"
        files = [f.removesuffix(".gz") for f, _ in cls.resources]
        jobs = [([m + f for m in cls.mirrors], folder, f, md5) for (f, md5), out in zip(cls.resources, files)
                if not (folder / out).is_file()]
        return folder, files, jobs
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    folder = root / cls.base_folder
    files = [*(f for f, _ in cls.train_list), *(f for f, _ in cls.test_list), cls.meta["filename"]]
    return folder, files, [([cls.url], root, cls.filename, cls.tgz_md5)]


def check_files(name: str, root: str | Path) -> None:
    """DataError in one sentence when any file of `name` is missing under `root`."""
    folder, files, _ = _layout(name, Path(root).expanduser())
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        what = f"{missing[0]} is" if len(missing) == 1 else f"{len(missing)} of its {len(files)} files are"
        raise DataError(f"{name}: {what} not in {folder}; download them (Download on Train, or --download) "
                        f"or copy them there.")


def fetch(name: str, root: str | Path, progress: Callable[[float, str], None] | None = None) -> None:
    """Fetch the missing files of `name` into `root` with torchvision's downloader (md5-checked,
    each mirror in turn), calling `progress(fraction, message)` per archive; DataError in one line
    (e.g. without network)."""
    from torchvision.datasets import utils

    root = Path(root).expanduser()
    try:
        check_files(name, root)
        return
    except DataError:
        pass
    folder, _, jobs = _layout(name, root)
    for i, (urls, into, filename, md5) in enumerate(jobs):
        if progress:
            progress(i / len(jobs), f"downloading {filename} ({i + 1} of {len(jobs)})")
        for url in urls:
            try:
                utils.download_and_extract_archive(url, str(into), filename=filename, md5=md5)
                break
            except Exception as e:  # network, disk or checksum: the next mirror, else one line
                error = e
        else:
            raise DataError(f"{name}: cannot download {urls[-1]} ({_one_line(error)}); check the network "
                            f"connection or copy the files into {folder}.")
    if progress:
        progress(1.0, f"{name} downloaded into {folder}")
    check_files(name, root)


def _one_line(e: BaseException) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())


def _check_labels(labels: np.ndarray, n_classes: int, folder: Path, name: str) -> None:
    if len(labels) == 0 or labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(f"{name}: the files in {folder} hold no samples, or labels outside the {n_classes} classes.")


def _as_images(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(-1, *shape), dtype=np.float32)


def _load_mnist(name: str, root: Path) -> RawData:
    """MNIST or Fashion-MNIST from the four uncompressed idx files in <root>/<Class>/raw/."""
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    folder = root / cls.__name__ / "raw"
    try:
        train, test = (cls(str(root), train=t, download=False) for t in (True, False))
    except (RuntimeError, AssertionError, TypeError, ValueError, KeyError, OSError) as e:
        raise DataError(f"{name}: cannot read the files in {folder} ({_one_line(e)}).") from None
    y, y_test = (s.targets.numpy().astype(np.int64) for s in (train, test))
    _check_labels(np.concatenate([y, y_test]), len(cls.classes), folder, name)
    return RawData(_as_images(train.data.numpy(), (1, 28, 28)), y, list(cls.classes),
                   (_as_images(test.data.numpy(), (1, 28, 28)), y_test))


def _field(doc: dict, *keys: str):
    """doc[key] for the first key present as str or bytes (Python 2 and 3 pickles differ)."""
    for k in keys:
        for kk in (k, k.encode()):
            if kk in doc:
                return doc[kk]
    raise KeyError(keys[0])


def _read_pickle(path: Path, name: str) -> dict:
    try:
        with open(path, "rb") as f:
            doc = _SafeUnpickler(f, encoding="latin1").load()
    except _Refused as e:
        raise DataError(f"{name}: refusing to load {path}: {e}; only numpy arrays are allowed.") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise DataError(f"{name}: {path} is not a readable CIFAR file ({_one_line(e)}).") from None
    if not isinstance(doc, dict):
        raise DataError(f"{name}: {path} is not a CIFAR file (it holds a {type(doc).__name__}, not a dict).")
    return doc


def _read_batches(folder: Path, files: list[str], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated (n, 3, 32, 32) float32 images and int64 labels of CIFAR batch files."""
    xs, ys = [], []
    for f in files:
        doc = _read_pickle(folder / f, name)
        try:
            x, y = _field(doc, "data"), np.asarray(_field(doc, "labels", "fine_labels"), dtype=np.int64)
        except KeyError as e:
            raise DataError(f"{name}: {folder / f} has no {e.args[0]!r} entry; is it a CIFAR batch?") from None
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072 \
                or y.shape != (len(x),):
            raise DataError(f"{name}: {folder / f} does not hold uint8 (n, 3072) images with n labels.")
        xs.append(x)
        ys.append(y)
    return _as_images(np.concatenate(xs), (3, 32, 32)), np.concatenate(ys)


def _load_cifar(name: str, root: Path) -> RawData:
    """CIFAR-10/100 batches from <root>/cifar-10-batches-py/ or <root>/cifar-100-python/."""
    from torchvision import datasets

    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    folder = root / cls.base_folder
    train_files, test_files = [f for f, _ in cls.train_list], [f for f, _ in cls.test_list]
    meta = _read_pickle(folder / cls.meta["filename"], name)
    try:
        classes = [c.decode() if isinstance(c, bytes) else str(c) for c in _field(meta, cls.meta["key"])]
    except KeyError:
        raise DataError(f"{name}: {folder / cls.meta['filename']} has no {cls.meta['key']!r} entry.") from None
    x, y = _read_batches(folder, train_files, name)
    test = _read_batches(folder, test_files, name)
    _check_labels(np.concatenate([y, test[1]]), len(classes), folder, name)
    return RawData(x, y, classes, test)


def load_image_set(name: str, root: str, download: bool) -> RawData:
    """One of IMAGE_SETS from the folder `root` (downloaded into it first when `download`)."""
    if name not in IMAGE_SETS:
        raise DataError(f"Unknown image set {name!r}; choose one of: {', '.join(IMAGE_SETS)}.")
    root = Path(root).expanduser()
    (fetch if download else check_files)(name, root)
    return (_load_mnist if name in ("mnist", "fashion_mnist") else _load_cifar)(name, root)
