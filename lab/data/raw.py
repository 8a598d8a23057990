"""`RawData`, what every loader returns, and `DataSpec`, how a data set is declared."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lab.params import Param


@dataclass
class RawData:
    """Samples as float32 `x` (n, *shape), int64 `y` (n,), class names; `test` is a split the
    data set defines itself (torchvision sets), else the lab splits `x` stratified."""

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    test: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class DataSpec:
    """A data set by name: its options, its sample shape, and the loader `load(**options)`."""

    name: str
    load: Callable[..., RawData]
    sample_shape: tuple[int, ...]  # (d,) vectors, (C, L) signals, (C, H, W) images
    params: tuple[Param, ...] = field(default=())
    description: str = ""
    offline: bool = True  # False: needs files under a data root (or --download)
    test_fraction: float = 0.25  # used when the data set has no test split of its own

    @property
    def image_shaped(self) -> bool:
        return len(self.sample_shape) >= 2
