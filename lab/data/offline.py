"""Offline data sets: scikit-learn digits, MNIST-1D (generated), and 2-D toys."""
from __future__ import annotations

import numpy as np

from lab.data.raw import RawData

DIGIT_NAMES = [str(i) for i in range(10)]


def load_digits() -> RawData:
    """scikit-learn's 8x8 digits (1,797 images, bundled with scikit-learn) as (n, 1, 8, 8), read
    from the file scikit-learn ships (datasets/data/digits.csv.gz: 64 pixels then the label per
    row, as its `load_digits` reads it) without importing scikit-learn: that import took 1-3 s of a
    first Train press on a fresh app."""
    import importlib.util
    from pathlib import Path

    folder = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    table = np.loadtxt(Path(folder) / "datasets" / "data" / "digits.csv.gz", delimiter=",", dtype=np.float32)
    return RawData(table[:, :-1].reshape(-1, 1, 8, 8), table[:, -1].astype(np.int64), DIGIT_NAMES)


def load_mnist1d() -> RawData:
    """MNIST-1D from the `mnist1d` package's own generator with its default arguments
    (5,000 signals of length 40, 10 classes), as (n, 1, 40); its URL is never used."""
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    x = np.concatenate([d["x"], d["x_test"]]).astype(np.float32)[:, None]
    y = np.concatenate([d["y"], d["y_test"]]).astype(np.int64)
    return RawData(x, y, DIGIT_NAMES)


def load_moons(n_samples: int, noise: float, seed: int = 0) -> RawData:
    """Two interleaving half circles (scikit-learn `make_moons`)."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return RawData(x.astype(np.float32), y.astype(np.int64), ["upper", "lower"])


def load_circles(n_samples: int, noise: float, seed: int = 0) -> RawData:
    """A small circle inside a large one, radius ratio 0.5 (scikit-learn `make_circles`)."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    return RawData(x.astype(np.float32), y.astype(np.int64), ["outer", "inner"])


def load_spirals(n_samples: int, noise: float, arms: int = 3, seed: int = 0) -> RawData:
    """`arms` interleaved Archimedean spirals, r = t, angle = 2.5 t + 2 pi c / arms, t in [0.1, 1]
    (one class per arm), with Gaussian noise of std `noise` x 0.1 on each coordinate."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % arms
    t = rng.uniform(0.1, 1.0, n_samples)
    angle = 2.5 * np.pi * t + 2 * np.pi * y / arms
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) + rng.normal(0, 0.1 * noise, (n_samples, 2))
    return RawData(x.astype(np.float32), y.astype(np.int64), [f"arm {c}" for c in range(arms)])


def load_blobs(n_samples: int, noise: float, classes: int = 4, seed: int = 0) -> RawData:
    """`classes` Gaussian blobs whose centres are evenly spaced on the unit circle (centre c at angle
    2 pi c / classes), each point the centre plus Gaussian noise of std `noise` per coordinate."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % classes
    angle = 2 * np.pi * y / classes
    x = np.stack([np.cos(angle), np.sin(angle)], 1) + rng.normal(0, noise, (n_samples, 2))
    return RawData(x.astype(np.float32), y.astype(np.int64), [f"blob {c}" for c in range(classes)])
