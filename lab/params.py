"""Declared hyperparameters: one `Param` carries default, allowed values and help.

The CLI options, the validator and the app's widgets are all generated from these
declarations (scikit-learn's `_parameter_constraints` idea, reduced to what we need).
Every refusal uses one sentence template:
"The 's' parameter of mhe must be 0, 1 or 2. Got 3 instead."
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from lab.errors import ConfigError


@dataclass(frozen=True)
class Interval:
    """Numbers of `type` in [low, high]; `None` bounds are open-ended; `closed` picks the ends."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    def coerce(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError
        if self.type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, str):
                value = value.strip()
            v = int(value) if not isinstance(value, float) else int(value)
        else:
            v = float(value)
            if not math.isfinite(v):
                raise ValueError
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        if not (lo_ok and hi_ok):
            raise ValueError
        return v

    def __str__(self) -> str:
        """In plain words: "a whole number from 1 to 1000", "a number greater than 0 and at most 10"."""
        name = "a whole number" if self.type is int else "a number"
        low_in, high_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and self.high is not None and low_in and high_in:
            return f"{name} from {self._number(self.low)} to {self._number(self.high)}"
        words = [f"{'at least' if low_in else 'greater than'} {self._number(self.low)}"] if self.low is not None else []
        if self.high is not None:
            words.append(f"{'at most' if high_in else 'less than'} {self._number(self.high)}")
        text = " and ".join(words)
        return f"{name} of {text}" if text.startswith("at") else f"{name} {text}".rstrip()

    def _number(self, bound: float) -> str:
        return str(int(bound)) if self.type is int else f"{bound:g}"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values (ints or strings)."""

    options: tuple

    def coerce(self, value: Any) -> Any:
        for o in self.options:
            if isinstance(o, int) and not isinstance(o, bool):
                try:
                    if not isinstance(value, bool) and float(value) == o:
                        return o
                except (TypeError, ValueError):
                    pass
            elif value == o:
                return o
        raise ValueError

    def __str__(self) -> str:
        """The options in plain words: "relu or tanh", "0, 1 or 2"."""
        words = [str(o) for o in self.options]
        return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


@dataclass(frozen=True)
class Flag:
    """A boolean; accepts True/False and the strings true/false/yes/no/1/0."""

    def coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise ValueError

    def __str__(self) -> str:
        return "true or false"


_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True)
class Param:
    """One hyperparameter: `name` (as on the CLI with - for _), default, constraint, help."""

    name: str
    default: Any
    constraint: Interval | Choice | Flag
    help: str

    def check(self, owner: str, value: Any) -> Any:
        """The coerced value, or ConfigError with the one-sentence template."""
        try:
            return self.constraint.coerce(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(
                f"The '{self.name}' parameter of {owner} must be {self.constraint}. Got {value!r} instead."
            ) from None


def validate_params(owner: str, params: Iterable[Param], values: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in, every value checked; unknown names are refused with the allowed list."""
    params = tuple(params)
    values = dict(values or {})
    known = {p.name for p in params}
    unknown = sorted(set(values) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"{owner} has no parameter {unknown[0]!r}; its parameters are: {allowed}.")
    return {p.name: p.check(owner, values.get(p.name, p.default)) for p in params}


def check_name(kind: str, name: Any, allowed: Iterable[str]) -> str:
    """`name` if it is one of `allowed`, else ConfigError listing them."""
    allowed = list(allowed)
    if name not in allowed:
        raise ConfigError(f"Unknown {kind} {name!r}; choose one of: {', '.join(allowed)}.")
    return name


@dataclass(frozen=True)
class IntList:
    """A non-empty list of ints in [low, high], also written "64,128"; at most `max_len` items."""

    low: int = 1
    high: int = 4096
    max_len: int = 8

    def coerce(self, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        items = tuple(Interval(int, self.low, self.high).coerce(v) for v in value)
        if not 1 <= len(items) <= self.max_len:
            raise ValueError
        return items

    def __str__(self) -> str:
        return f"1 to {self.max_len} whole numbers from {self.low} to {self.high}, separated by commas (e.g. 256,256)"
