"""A lesson's result on one seed: its quantity (and its second witness, where it has one) and
test accuracy on the CE and method runs' last epoch, and the verdict a user reads, every number
measured on those runs."""
from __future__ import annotations

import math
from dataclasses import dataclass

from lab.declare import Quantity
from lab.lessons.core import ACC_SLACK, Lesson
from lab.store import RunRecord


def final_value(lesson: Lesson, run: RunRecord, quantity: Quantity | None = None) -> float:
    """The lesson's quantity (or `quantity`, e.g. its witness's) on `run`'s last snapshot (nan
    when the run has none)."""
    from lab.readout.quantities import final_quantity  # torch: loaded when a run is measured, not with the lessons

    return final_quantity(run, quantity or lesson.quantity)


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
    witness_ce: float = math.nan  # the lesson's witness on both runs (nan without one)
    witness_method: float = math.nan

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


    @property
    def witness_verdict(self) -> str | None:
        """One sentence on the lesson's second witness, from these numbers only (None without one)."""
        w = self.lesson.witness
        if w is None:
            return None
        q, change = w.quantity.title, w.change(self.witness_ce, self.witness_method)
        values = f"{w.fmt(self.witness_ce)} with CE, {w.fmt(self.witness_method)} with {self.lesson.method}"
        if w.moved(self.witness_ce, self.witness_method):
            return f"second witness, not the penalty: the {q} changed by {change} ({values}), as the paper predicts."
        way = "higher" if w.quantity.working == "higher" else "lower"
        against = (self.witness_method - self.witness_ce) * (1 if way == "higher" else -1) < 0
        how = "the other way from the paper's prediction" if against else f"less than the {w.margin_text} {way} " \
                                                                            "the lesson looks for"
        return (f"second witness, not the penalty: the {q} changed by {change} ({values}), {how}: on this seed it "
                f"did not move as predicted. That is a result, not a failure of the run.")


def outcome(lesson: Lesson, seed: int, ce: RunRecord, method: RunRecord) -> Outcome:
    """The `Outcome` of the lesson's CE and method runs with `seed`, measured on their last epoch."""
    witness = (final_value(lesson, ce, lesson.witness.quantity), final_value(lesson, method, lesson.witness.quantity)
               ) if lesson.witness else (math.nan, math.nan)
    return Outcome(lesson, seed, final_value(lesson, ce), final_value(lesson, method), ce.final("test_acc"),
                   method.final("test_acc"), ce.state, method.state, *witness)


def fmt(lesson: Lesson, value: float) -> str:
    """A value of the lesson's quantity as the text writes it (degrees with a degree sign)."""
    return lesson.criterion.fmt(value)


def describe(o: Outcome) -> str:
    """What this run measured, in one paragraph whose every number is the runs' own."""
    return (f"In this run (seed {o.seed}) the {o.lesson.quantity.title} was {fmt(o.lesson, o.ce)} with CE and "
            f"{fmt(o.lesson, o.method)} with {o.lesson.method} at the last epoch; test accuracy {o.ce_acc:.3f} (CE) vs "
            f"{o.method_acc:.3f}. Verdict: {o.verdict}" + (f" The {o.witness_verdict}" if o.witness_verdict else ""))
