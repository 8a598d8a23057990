"""Lessons: each seed paper's claim shown by CE and the method trained side by side (same data,
model, optimizer steps and seeds), with the numbers of the text measured on the runs themselves.

A lesson is data (assets/lessons.toml, one table per method): the settings, the views, the
quantity that shows the effect with its margin, and text. Its settings were chosen by the sweep
in scripts/lesson_sweep.py (docs/lessons/): on every seed the quantity moves from CE's by the
margin in the paper's direction, test accuracy stays within `ACC_SLACK` of CE's, one run takes
at most 15 s on 2 CPU cores.
"""
from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from lab.config import RunConfig, settings_key, validate
from lab.errors import ConfigError
from lab.params import check_name
from lab.paths import ASSETS
from lab.declare import REFERENCE, Quantity
from lab.store import RunRecord

SOURCE = ASSETS / "lessons.toml"
ACC_SLACK = 0.03  # the most test accuracy a lesson's method may lose against CE


@dataclass(frozen=True)
class Criterion:
    """A quantity and the margin by which a method's value must differ from CE's in the quantity's
    working direction: `unit` "relative" (0.3 = 30 %), "degrees" or "absolute" (in the quantity's units)."""

    quantity: Quantity
    margin: float
    unit: str = "relative"
    about: str = ""  # why this quantity stands for the claim, and how the margin was set

    def moved(self, ce: float, method: float) -> bool:
        """Whether `method`'s value differs from CE's by the margin in the working direction."""
        if not (math.isfinite(ce) and math.isfinite(method)):
            return False
        sign = 1 if self.quantity.working == "higher" else -1
        if self.unit == "relative":
            return ce != 0 and sign * (method - ce) / abs(ce) >= self.margin
        return sign * (method - ce) >= self.margin

    def change(self, ce: float, method: float) -> str:
        """The change from CE's value to the method's: "+11.8°", "-93%" or "+0.012"."""
        if not (math.isfinite(ce) and math.isfinite(method)):
            return "n/a"
        if self.unit == "degrees":
            return f"{method - ce:+.1f}°"
        if self.unit == "absolute":
            return f"{method - ce:+.3f}"
        return f"{(method - ce) / abs(ce):+.0%}" if ce else "n/a"

    @property
    def margin_text(self) -> str:
        return {"degrees": f"{self.margin:g} degrees", "absolute": f"{self.margin:g} absolute"}.get(
            self.unit, f"{self.margin:.0%} relative")

    def fmt(self, value: float) -> str:
        """A value as the text writes it (degrees with a degree sign)."""
        if not math.isfinite(value):
            return "n/a"
        return f"{value:.1f}°" if self.unit == "degrees" else f"{value:.3g}"


@dataclass(frozen=True)
class Lesson:
    """One paper's claim: `settings` are RunConfig fields (method and lambda included), the
    quantity (`measured`, or the method's own declared quantity when None) with its `margin`
    (relative change, or degrees when `unit` is "degrees"), the `views` that show it, and the
    text: `claim` (the paper's), `look` (what to look at). `grid`: the sweep's candidates, lists
    of `lam`, `widths` and `training` (RunConfig overrides), each defaulting to the settings'.
    `witness`: a second quantity the paper's claim predicts that is not the penalty itself,
    judged on the same runs by its own criterion (None where the lesson has none)."""

    name: str
    title: str
    claim: str
    look: str
    settings: Mapping[str, Any]
    measured: Quantity | None
    margin: float
    unit: str = "relative"
    seeds: tuple[int, ...] = (0, 1)
    held_out: tuple[int, ...] = ()  # seeds the lesson was checked on after its settings were chosen
    views: tuple[str, ...] = ()
    sweep: str = ""
    grid: Mapping[str, list] = field(default_factory=dict)
    witness: Criterion | None = None

    @property
    def method(self) -> str:
        return self.settings["method"]

    @property
    def quantity(self) -> Quantity:
        """What the lesson measures: its own `measured`, else the method's declared quantity."""
        if self.measured is not None:
            return self.measured
        from lab.regularizers import get  # torch: loaded when a lesson's quantity is read, not with the list

        if (q := get(self.method).quantity) is None:
            raise ConfigError(f"Lesson {self.name!r}: {self.method} declares no quantity; give the lesson a "
                              "[quantity] measurement.")
        return q

    def candidates(self) -> list[tuple[float | None, list[int], dict]]:
        """The sweep's candidate settings: (lambda, widths, training overrides) for every
        combination of the `grid`'s lists."""
        lam = self.grid.get("lam", [self.settings.get("lam")])
        widths = self.grid.get("widths", [self.settings.get("model_params", {}).get("widths")])
        return list(itertools.product(lam, widths, self.grid.get("training", [{}])))

    @property
    def criterion(self) -> Criterion:
        """The lesson's quantity with its margin."""
        return Criterion(self.quantity, self.margin, self.unit)

    @property
    def margin_text(self) -> str:
        return self.criterion.margin_text

    def config(self, method: str, seed: int, name: str | None = None) -> RunConfig:
        """The lesson's run of `method` ("ce" or the lesson's own) with `seed`: CE keeps every
        setting but the method, its lambda and options."""
        cfg = RunConfig(**{**self.settings, "seed": seed, "name": name})
        if method != self.method:
            cfg = replace(cfg, method=method, lam=None, method_params={})
        return validate(cfg)

    def moved(self, ce: float, method: float) -> bool:
        """Whether `method`'s value differs from CE's by the margin in the paper's direction."""
        return self.criterion.moved(ce, method)

    def change(self, ce: float, method: float) -> str:
        return self.criterion.change(ce, method)


def _lesson(name: str, table: dict) -> Lesson:
    """One `[name]` table of the lessons file; an unknown key is refused (a typo must not vanish)."""
    known = {f.name for f in fields(Lesson)} - {"name", "margin", "unit", "measured"} | {"quantity"}
    if unknown := sorted(set(table) - known):
        raise ConfigError(f"Lesson {name!r} has an unknown key {unknown[0]!r}; keys are: {', '.join(sorted(known))}.")
    q = table.pop("quantity")
    measured = (Quantity(q["measurement"], q["key"], q["label"], q.get("working", "lower"))
                if "measurement" in q else None)
    if w := table.pop("witness", None):
        table["witness"] = Criterion(Quantity(w["measurement"], w["key"], w["label"], w.get("working", "lower")),
                                     float(w["margin"]), w.get("unit", "relative"), w.get("about", ""))
    return Lesson(**{**table, "name": name, "measured": measured, "margin": float(q["margin"]),
                     "unit": q.get("unit", "relative"), "seeds": tuple(table.get("seeds", (0, 1))),
                     "held_out": tuple(table.get("held_out", ())),
                     "views": tuple(table.get("views", ()))})


def load(path: Path = SOURCE) -> dict[str, Lesson]:
    """Every lesson in `path`, in file order."""
    with open(path, "rb") as f:
        return {name: _lesson(name, dict(table)) for name, table in tomllib.load(f).items()}


LESSONS: dict[str, Lesson] = load()


def lesson(name: str) -> Lesson:
    """The lesson called `name`; an unknown name gets the one-line list of lessons."""
    return LESSONS[check_name("lesson", name, LESSONS)]


# The settings of a lesson made for any method (`python -m lab lesson --method SPEC`): the lessons'
# usual digits MLP, at the method's default lambda, judged against the lessons' usual margin.
ANY_METHOD = {"data": "digits", "model": "mlp", "model_params": {"widths": [256, 256]}, "epochs": 30,
              "train_size": 300, "probe_size": 500}
ANY_MARGIN = 0.3


def with_method(method: str, base: Lesson | None = None) -> Lesson:
    """A lesson for `method` (a registered name, e.g. a loaded plug-in's), not tuned for it: `base`'s
    settings with the method swapped in at its default lambda and options, measuring `base`'s
    quantity, or without `base` the `ANY_METHOD` settings and the method's own declared quantity
    with an `ANY_MARGIN` relative margin."""
    from lab.regularizers import get

    reg = get(method)
    if base is None and reg.quantity is None:
        raise ConfigError(f"{method} declares no quantity of its own; name a lesson whose quantity to measure, "
                          f"e.g. `python -m lab lesson mhe --method {method}`.")
    settings = {**(base.settings if base else ANY_METHOD), "method": method, "lam": None, "method_params": {}}
    keep = {"measured": base.quantity, "margin": base.margin, "unit": base.unit, "seeds": base.seeds} if base else \
        {"measured": None, "margin": ANY_MARGIN}
    views = tuple(v if isinstance(v, str) else v.key for v in reg.views)
    return Lesson(name=method, title=f"{method} against CE", claim=reg.summary, settings=settings,
                  look=f"Not a tuned lesson: {method} at its default settings, beside CE on the same data, model, "
                       "seeds and optimizer steps.", views=views, **keep)


def with_data(lesson: Lesson, value: str) -> Lesson:
    """`lesson` on other data (a data set's name, or your file's path), untuned: its whole training
    split, every other setting, the quantity and the margin as they are; the text says so."""
    from lab.data import resolve

    name, params = resolve(value)
    label = Path(params["path"]).name if params else name
    settings = {**lesson.settings, "data": name, "data_params": params, "train_size": 0}
    return replace(lesson, title=f"{lesson.title} (on {label})", settings=settings,
                   look=f"{lesson.look} Not a tuned lesson on {label}: its whole training split, and the other "
                        f"settings chosen on {lesson.settings['data']}.")


def defaults_of(lesson: Lesson) -> Lesson:
    """The lesson untuned: its method at its own default lambda and options in the lessons' usual
    settings (`ANY_METHOD`), measured with the lesson's quantity and margin."""
    return replace(lesson, settings={**ANY_METHOD, "method": lesson.method, "lam": None, "method_params": {}},
                   measured=lesson.quantity)



def role(lesson: Lesson, cfg: RunConfig) -> str | None:
    """"ce" or the lesson's method when `cfg` is that run of the lesson (its settings exactly, any
    of its seeds), else None."""
    return next((m for m in (REFERENCE, lesson.method)
                 if cfg.method == m and settings_key(cfg) == settings_key(lesson.config(m, cfg.seed))), None)


def saved_pair(lesson: Lesson, seed: int, runs: Sequence[RunRecord]) -> tuple[RunRecord, RunRecord] | None:
    """The newest finished CE and method runs among `runs` (newest first) trained with exactly
    the lesson's settings and `seed`, or None when either is missing."""
    pair = []
    for method in (REFERENCE, lesson.method):
        want = settings_key(lesson.config(method, seed))
        pair.append(next((r for r in runs if r.state == "done" and settings_key(r.config) == want), None))
    return None if None in pair else (pair[0], pair[1])


def train_lesson(lesson: Lesson, seeds: tuple[int, ...], runs: Path,
                 trainer: Callable[[RunConfig, Path], RunRecord]) -> list[tuple[RunRecord, RunRecord]]:
    """CE and the method for each seed via `trainer(config, runs)`; the pairs of finished runs."""
    if not seeds:
        raise ConfigError("A lesson needs at least one seed, e.g. --seeds 0,1.")
    return [(trainer(lesson.config(REFERENCE, s), runs), trainer(lesson.config(lesson.method, s), runs)) for s in seeds]
