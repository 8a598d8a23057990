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
class Preset:
    """Named run settings under which the data set has a published result: `settings` are
    `RunConfig` fields (model, model_params, optimizer, lr, batch_size, epochs, train_size, ...);
    `published` the test accuracy its source reports, so a baseline can be shown beside it."""

    name: str
    settings: dict
    published: float | None = None
    source: str = ""

    def matches(self, config: dict) -> bool:
        """Whether a run's configuration (as a dict) has every setting of the preset."""
        return all(_same(config.get(k), v) for k, v in self.settings.items())


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() >= b.keys() and all(_same(a[k], v) for k, v in b.items())
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b


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
    presets: tuple[Preset, ...] = ()  # settings with a published result (e.g. the data set's paper)

    def preset(self, name: str) -> Preset:
        """The preset called `name`; ConfigError lists this data set's presets."""
        from lab.errors import ConfigError
        from lab.params import check_name

        if not self.presets:
            raise ConfigError(f"The data set {self.name} has no presets; leave --preset out.")
        return {p.name: p for p in self.presets}[check_name(f"preset of {self.name}", name, [p.name for p in self.presets])]
