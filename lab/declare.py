"""What a method declares besides its maths, as plain records with no torch (pages that only name
them load fast): `Quantity`, what its penalty is meant to move, and `View`, a figure of one
snapshot it motivates. A built-in and a user's plug-in declare them the same way."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Measurement = Callable[..., "float | dict[str, float]"]  # (snapshot, probe) -> value or {key: value}


@dataclass(frozen=True)
class Quantity:
    """A method's own quantity: what its penalty is meant to move, measured on the probe set at
    every snapshot. `measurement` is a function `(snapshot, probe) -> float | {key: float}` (a
    plug-in's own), or the name of one of the lab's (`lab.measure.quantities.MEASUREMENTS`); `key`
    is its main value, `label` the axis title (with unit), `working` the direction in which the
    method works ("lower" or "higher"), and `also` further values of the same measurement that a
    study records, {key: title}."""

    measurement: str | Measurement
    key: str
    label: str
    working: str = "lower"
    also: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The label without its unit: "hyperspherical energy of the hidden layers"."""
        return self.label.split(" (")[0]


@dataclass(frozen=True)
class View:
    """A one-epoch view a method motivates: `build(snapshot, probe, epoch) -> plotly Figure`
    (`probe`: a `lab.measure.quantities.Probe`, the probe inputs, the run's config and its
    architecture), drawn for any run of any method (a reference run reads alike). `key` names it
    in notes and links, `title` heads it; `available(probe)` is False where it cannot be drawn
    (e.g. images of non-image inputs); `shared`: two runs' pictures share axis ranges (False: maps
    whose axes are each run's own); `overlay`: `build` also takes `reference=(label, method,
    snapshot)`, a second run at the same epoch drawn on the same axes; `note`: what to expect."""

    key: str
    title: str
    build: Callable[..., Any]
    available: Callable[[Any], bool] | None = None
    shared: bool = True
    overlay: bool = False
    note: str = ""

REFERENCE = "ce"  # the method every comparison is against (plain cross-entropy): lessons, Compare, studies
