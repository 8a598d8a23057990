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
import json
import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from lab.config import RunConfig, validate
from lab.errors import ConfigError
from lab import paths
from lab.params import check_name
from lab.paths import ASSETS
from lab.declare import REFERENCE, Quantity
from lab.store import RunRecord

SOURCE = ASSETS / "lessons.toml"
ACC_SLACK = 0.03  # the most test accuracy a lesson's method may lose against CE


@dataclass(frozen=True)
class Lesson:
    """One paper's claim: `settings` are RunConfig fields (method and lambda included), the
    quantity (`measured`, or the method's own declared quantity when None) with its `margin`
    (relative change, or degrees when `unit` is "degrees"), the `views` that show it, and the
    text: `claim` (the paper's), `look` (what to look at). `grid`: the sweep's candidates, lists
    of `lam`, `widths` and `training` (RunConfig overrides), each defaulting to the settings'."""

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
    known = {f.name for f in fields(Lesson)} - {"name", "margin", "unit", "measured"} | {"quantity"}
    if unknown := sorted(set(table) - known):
        raise ConfigError(f"Lesson {name!r} has an unknown key {unknown[0]!r}; keys are: {', '.join(sorted(known))}.")
    q = table.pop("quantity")
    measured = (Quantity(q["measurement"], q["key"], q["label"], q.get("working", "lower"))
                if "measurement" in q else None)
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


def _shown(key: str, value: Any) -> str:
    """A setting's value as the text writes it: "10", "64-64", "300 training samples", "20 epochs"."""
    if key == "lam":
        return f"{value:g}"
    if key == "widths":
        return "-".join(map(str, value))
    if key == "train_size":
        return f"{value} training samples" if value else "the full training split"
    return f"{value} {key.replace('_', ' ')}"


_DEFAULTS = {"lam": "λ", "widths": "widths"}  # the method's (and the model's) own defaults; the rest: the lessons' usual


def settings_text(lesson: Lesson) -> str:
    """How the lesson's settings differ from its method's defaults (λ; widths: the MLP's) and from the
    lessons' usual settings (`ANY_METHOD`): "λ 10 (default 1), widths 64-64 (default 256-256)"."""
    mine, usual = lesson.config(lesson.method, 0), defaults_of(lesson).config(lesson.method, 0)
    pairs = [(k, getattr(mine, k), getattr(usual, k)) for k in ("lam", "epochs", "train_size")]
    pairs.insert(1, ("widths", tuple(mine.model_params.get("widths", ())), tuple(usual.model_params.get("widths", ()))))
    changed = [f"{_DEFAULTS[k]} {_shown(k, a)} (default {_shown(k, b)})" if k in _DEFAULTS else
               f"{_shown(k, a)} (usual: {_shown(k, b)})" for k, a, b in pairs if a != b and a is not None]
    return ", ".join(changed) if changed else "the method's defaults in the lessons' usual settings"


def provenance(lesson: Lesson) -> list[str]:
    """What a user reads about how the lesson was chosen, every number from the sweep's record
    (`scripts/lesson_sweep.py --check` writes it beside the sweep's table): the settings against the
    defaults, the seeds they were chosen on, the held-out seeds' results and the effect at the defaults."""
    lines = [f"Settings: {settings_text(lesson)}. Chosen by `scripts/lesson_sweep.py` on seeds "
             f"{', '.join(map(str, lesson.seeds))} among the candidates in `{lesson.sweep}`."]
    path = paths.ROOT / lesson.sweep.replace(".md", ".json")
    if not path.is_file():
        return lines
    record = json.loads(path.read_text())

    def changes(part: str) -> str:
        return ", ".join(f"{v['change']} (seed {s})" for s, v in record[part].items())

    if record["held_out"]:
        held = record["held_out"].values()
        kept = "it held" if all(v["moved"] for v in held) else "it did not hold on every seed"
        lines.append(f"Checked on held-out seeds {', '.join(record['held_out'])}, never used to choose: "
                     f"{changes('held_out')}; {kept}.")
    lines.append(f"At the method's defaults ({_defaults_line(lesson)}) "
                 f"the {lesson.quantity.title} moved {changes('defaults')} against CE.")
    return lines


def _defaults_line(lesson: Lesson) -> str:
    cfg = defaults_of(lesson).config(lesson.method, 0)
    return (f"λ {cfg.lam:g}, {cfg.data} MLP {'-'.join(map(str, cfg.model_params['widths']))}, "
            f"{cfg.train_size or 'all'} training samples, {cfg.epochs} epochs")


def final_value(lesson: Lesson, run: RunRecord) -> float:
    """The lesson's quantity on `run`'s last snapshot (nan when the run has none)."""
    from lab.readout.quantities import final_quantity  # torch: loaded when a run is measured, not with the lessons

    return final_quantity(run, lesson.quantity)


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
