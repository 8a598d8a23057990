"""`Quantity`: what a method's penalty is meant to move, as a method (or a lesson) declares it.
A plain record with no torch, so pages that only name quantities load fast."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Quantity:
    """A method's own quantity: what its penalty is meant to move, measured on the probe set at
    every snapshot. `measurement` names the function in `lab.measure.quantities.MEASUREMENTS`
    that computes it, `key` its main value, `label` the axis title (with unit), `working` the
    direction in which the method works ("lower" or "higher"), and `also` further values of the
    same measurement that a study records, {key: title}."""

    measurement: str
    key: str
    label: str
    working: str = "lower"
    also: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The label without its unit: "hyperspherical energy of the hidden layers"."""
        return self.label.split(" (")[0]
