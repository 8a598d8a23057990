"""Runs judged against CE's on the same seeds, for Compare and `python -m lab compare`: the final
test accuracy of every group of runs (a method with its settings), Holm-corrected over the groups
shown, and each method's own quantity against CE's runs measured the same way (`lab.stats.judge`)."""
from __future__ import annotations

from lab.readout.quantities import final_quantity
from lab.regularizers import REGISTRY
from lab.stats import judge
from lab.store import RunRecord

ACCURACY = ("better than CE", "worse than CE")


def _rows(runs: list[RunRecord], value) -> list[dict]:
    """One row per seed (the first run of each seed), its value."""
    seen: dict[int, dict] = {}
    for r in runs:
        seen.setdefault(r.config.seed, {"seed": r.config.seed, "value": value(r)})
    return list(seen.values())


def judge_runs(groups: dict[str, list[RunRecord]], reference: list[RunRecord]) -> list[dict]:
    """For each group ({label: its runs}) against the `reference` runs (CE's): one row for test
    accuracy and one for its method's own quantity (when it declares one), each with `measure`,
    `group`, `working` and `lab.stats.judge`'s numbers and verdict."""
    accuracy = judge({g: _rows(rs, lambda r: r.final("test_acc")) for g, rs in groups.items()},
                     _rows(reference, lambda r: r.final("test_acc")), "value", ACCURACY)
    out = [{"measure": "test accuracy", "group": g, "working": "higher", **j} for g, j in accuracy.items()]
    for g, rs in groups.items():
        reg = REGISTRY.get(rs[0].config.method)
        q = reg.quantity if reg is not None else None
        if q is None:
            continue
        words = ("moves as intended", "moves the other way")
        j = judge({g: _rows(rs, lambda r: final_quantity(r, q))}, _rows(reference, lambda r: final_quantity(r, q)),
                  "value", words if q.working == "higher" else words[::-1], q.working)[g]
        out.append({"measure": q.title, "group": g, "working": q.working, **j})
    return out
