"""Lessons: each seed paper's claim shown by CE and the method trained side by side (same data,
model, optimizer steps and seeds), with the numbers of the text measured on the runs themselves.

A lesson is data (assets/lessons.toml, one table per method): the settings, the views, the
quantity that shows the effect with its margin, and text. Its settings were chosen by the sweep
in scripts/lesson_sweep.py (docs/lessons/): on every seed the quantity moves from CE's by the
margin in the paper's direction, test accuracy stays within `ACC_SLACK` of CE's, one run takes
at most 15 s on 2 CPU cores.
"""
from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from lab.config import RunConfig, validate
from lab.errors import ConfigError
from lab.params import check_name
from lab.declare import REFERENCE, Quantity
from lab.store import RunRecord, load_snapshot

SOURCE = Path(__file__).resolve().parents[1] / "assets" / "lessons.toml"
ACC_SLACK = 0.03  # the most test accuracy a lesson's method may lose against CE


@dataclass(frozen=True)
class Lesson:
    """One paper's claim: `settings` are RunConfig fields (method and lambda included), the
    `quantity` with its `margin` (relative change, or degrees when `unit` is "degrees"), the
    `views` that show it, and the text: `claim` (the paper's), `look` (what to look at)."""

    name: str
    title: str
    claim: str
    look: str
    settings: Mapping[str, Any]
    quantity: Quantity
    margin: float
    unit: str = "relative"
    seeds: tuple[int, ...] = (0, 1)
    views: tuple[str, ...] = ()
    sweep: str = ""

    @property
    def method(self) -> str:
        return self.settings["method"]

    @property
    def margin_text(self) -> str:
        return f"{self.margin:g} degrees" if self.unit == "degrees" else f"{self.margin:.0%} relative"

    def config(self, method: str, seed: int, name: str | None = None) -> RunConfig:
        """The lesson's run of `method` ("ce" or the lesson's own) with `seed`: CE keeps every
        setting but the method, its lambda and options."""
        cfg = RunConfig(**{**self.settings, "seed": seed, "name": name})
        if method != self.method:
            cfg = replace(cfg, method=method, lam=None, method_params={})
        return validate(cfg)

    def moved(self, ce: float, method: float) -> bool:
        """Whether `method`'s value differs from CE's by the margin in the paper's direction."""
        if not (math.isfinite(ce) and math.isfinite(method)):
            return False
        sign = 1 if self.quantity.working == "higher" else -1
        if self.unit == "degrees":
            return sign * (method - ce) >= self.margin
        return ce != 0 and sign * (method - ce) / abs(ce) >= self.margin

    def change(self, ce: float, method: float) -> str:
        """The change from CE's value to the method's: "+11.8°" or "-93%"."""
        if not (math.isfinite(ce) and math.isfinite(method)):
            return "n/a"
        if self.unit == "degrees":
            return f"{method - ce:+.1f}°"
        return f"{(method - ce) / abs(ce):+.0%}" if ce else "n/a"


def _lesson(name: str, table: dict) -> Lesson:
    """One `[name]` table of the lessons file; an unknown key is refused (a typo must not vanish)."""
    known = {f.name for f in fields(Lesson)} - {"name", "margin", "unit"}
    if unknown := sorted(set(table) - known):
        raise ConfigError(f"Lesson {name!r} has an unknown key {unknown[0]!r}; keys are: {', '.join(sorted(known))}.")
    q = table["quantity"]
    quantity = Quantity(q["measurement"], q["key"], q["label"], q.get("working", "lower"))
    return Lesson(**{**table, "name": name, "quantity": quantity, "margin": float(q["margin"]),
                     "unit": q.get("unit", "relative"), "seeds": tuple(table.get("seeds", (0, 1))),
                     "views": tuple(table.get("views", ()))})


def load(path: Path = SOURCE) -> dict[str, Lesson]:
    """Every lesson in `path`, in file order."""
    with open(path, "rb") as f:
        return {name: _lesson(name, dict(table)) for name, table in tomllib.load(f).items()}


LESSONS: dict[str, Lesson] = load()


def lesson(name: str) -> Lesson:
    """The lesson called `name`; an unknown name gets the one-line list of lessons."""
    return LESSONS[check_name("lesson", name, LESSONS)]


def final_value(lesson: Lesson, run: RunRecord) -> float:
    """The lesson's quantity on `run`'s last snapshot (nan when the run has none)."""
    if not run.snapshot_epochs:
        return float("nan")
    from lab.measure.quantities import measure  # torch: loaded when a run is measured, not with the lessons
    from lab.readout.quantities import run_probe

    snap = load_snapshot(run, run.snapshot_epochs[-1])
    with np.errstate(all="ignore"):  # a diverged run's non-finite weights measure as nan, said as "n/a"
        return float(measure(lesson.quantity, snap, run_probe(run))[lesson.quantity.key])


@dataclass(frozen=True)
class Outcome:
    """One seed of a lesson: the quantity and test accuracy of CE and of the method at the last
    epoch, each run's status, and what they add up to."""

    lesson: Lesson
    seed: int
    ce: float
    method: float
    ce_acc: float
    method_acc: float
    ce_status: str = "done"
    method_status: str = "done"

    @property
    def moved(self) -> bool:
        return self.lesson.moved(self.ce, self.method)

    @property
    def kept_accuracy(self) -> bool:
        return self.method_acc >= self.ce_acc - ACC_SLACK

    @property
    def verdict(self) -> str:
        """One sentence: whether the effect shows and what it cost, from these numbers only."""
        q, change = self.lesson.quantity.title, self.lesson.change(self.ce, self.method)
        if self.ce_status != "done" or self.method_status != "done":
            return f"not comparable: CE ended {self.ce_status}, {self.lesson.method} ended {self.method_status}."
        lost = self.ce_acc - self.method_acc
        cost = (f"and test accuracy held ({self.method_acc:.3f} vs CE's {self.ce_acc:.3f})" if self.kept_accuracy
                else f"but it cost {lost:.3f} of test accuracy ({self.method_acc:.3f} vs CE's {self.ce_acc:.3f})")
        if self.moved:
            return f"clear effect: the {q} changed by {change} against CE, {cost}."
        way = "higher" if self.lesson.quantity.working == "higher" else "lower"
        return (f"no clear effect: the {q} changed by {change} against CE (the lesson expects at least "
                f"{self.lesson.margin_text}, {way}), {cost}.")


def outcome(lesson: Lesson, seed: int, ce: RunRecord, method: RunRecord) -> Outcome:
    """The `Outcome` of the lesson's CE and method runs with `seed`, measured on their last epoch."""
    return Outcome(lesson, seed, final_value(lesson, ce), final_value(lesson, method), ce.final("test_acc"),
                   method.final("test_acc"), ce.state, method.state)


def fmt(lesson: Lesson, value: float) -> str:
    """A value of the lesson's quantity as the text writes it (degrees with a degree sign)."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.1f}°" if lesson.unit == "degrees" else f"{value:.3g}"


def describe(o: Outcome) -> str:
    """What this run measured, in one paragraph whose every number is the runs' own."""
    return (f"In this run (seed {o.seed}) the {o.lesson.quantity.title} was {fmt(o.lesson, o.ce)} with CE and "
            f"{fmt(o.lesson, o.method)} with {o.lesson.method} at the last epoch; test accuracy {o.ce_acc:.3f} (CE) vs "
            f"{o.method_acc:.3f}. Verdict: {o.verdict}")


def _settings(cfg: RunConfig) -> str:
    """A config's training settings as canonical JSON (no name, no device)."""
    return json.dumps({k: v for k, v in cfg.to_dict().items() if k not in ("name", "device")}, sort_keys=True)


def role(lesson: Lesson, cfg: RunConfig) -> str | None:
    """"ce" or the lesson's method when `cfg` is that run of the lesson (its settings exactly, any
    of its seeds), else None."""
    return next((m for m in (REFERENCE, lesson.method)
                 if cfg.method == m and _settings(cfg) == _settings(lesson.config(m, cfg.seed))), None)


def saved_pair(lesson: Lesson, seed: int, runs: Sequence[RunRecord]) -> tuple[RunRecord, RunRecord] | None:
    """The newest finished CE and method runs among `runs` (newest first) trained with exactly
    the lesson's settings and `seed`, or None when either is missing."""
    pair = []
    for method in (REFERENCE, lesson.method):
        want = _settings(lesson.config(method, seed))
        pair.append(next((r for r in runs if r.state == "done" and _settings(r.config) == want), None))
    return None if None in pair else (pair[0], pair[1])


def train_lesson(lesson: Lesson, seeds: tuple[int, ...], runs: Path,
                 trainer: Callable[[RunConfig, Path], RunRecord]) -> list[tuple[RunRecord, RunRecord]]:
    """CE and the method for each seed via `trainer(config, runs)`; the pairs of finished runs."""
    if not seeds:
        raise ConfigError("A lesson needs at least one seed, e.g. --seeds 0,1.")
    return [(trainer(lesson.config(REFERENCE, s), runs), trainer(lesson.config(lesson.method, s), runs)) for s in seeds]
