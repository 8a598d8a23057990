"""Second witnesses of the lessons (issue 24): quantities a paper's claim predicts that are not
the penalty, their formulas against hand-computed values, and the verdict each gets on its own."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from lab.declare import Quantity
from lab.lessons import LESSONS, Criterion, Outcome, describe, outcome, witness_text
from lab.measure.embed import knn_accuracy
from lab.measure.quantities import MEASUREMENTS, layer_balance, top_unit_purity
from lab.readout.quantities import final_quantity
from lab.store import load_run, load_snapshot
from lab.train import train


def test_top_unit_purity_by_hand():
    """Three units over four samples of classes 0, 0, 1, 1; the most active tenth of 3 live units is 1 unit."""
    a = torch.tensor([[5.0, 1.0, 0.0], [5.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1])
    assert top_unit_purity(a, y, 2) == pytest.approx(1.0)  # unit 0 (mean 2.5) fires for class 0 only
    assert top_unit_purity(a, y, 2, share=1.0) == pytest.approx((1.0 + 3 / 4) / 2)  # unit 2 is dead: left out
    assert top_unit_purity(a[:, [1]], y, 2) == pytest.approx(3 / 4)  # masses 1 and 3: max p(c|j) = 3/4


def test_layer_balance_is_the_smallest_over_the_largest():
    assert layer_balance([8.0, 6.0, 4.0]) == 0.5 and layer_balance([3.0, 3.0]) == 1.0
    assert math.isnan(layer_balance([0.0, 0.0]))


def test_a_criterion_in_absolute_units():
    c = Criterion(Quantity("knn", "knn", "k-NN accuracy", "higher"), 0.01, "absolute")
    assert c.moved(0.90, 0.911) and not c.moved(0.90, 0.905) and not c.moved(0.9, math.nan)
    assert c.change(0.90, 0.911) == "+0.011" and c.margin_text == "0.01 absolute"


def test_racecar_phantom_and_gini_lessons_name_a_witness_that_is_measured():
    witnessed = {n for n, l in LESSONS.items() if l.witness is not None}
    assert {"racecar", "phantom", "gini"} <= witnessed
    for n in witnessed:
        w = LESSONS[n].witness
        assert w.quantity.measurement in MEASUREMENTS and w.quantity.measurement != LESSONS[n].quantity.measurement
        assert w.about and w.quantity.label in witness_text(LESSONS[n])


@pytest.fixture(scope="module")
def phantom_pair(tmp_path_factory) -> tuple:
    """The phantom lesson's two runs with seed 0, shortened to 4 epochs on 200 samples."""
    folder, l = tmp_path_factory.mktemp("witness"), LESSONS["phantom"]
    short = replace(l, settings={**l.settings, "epochs": 4, "train_size": 200})
    return short, tuple(load_run(train(short.config(m, 0), runs=folder).path) for m in ("ce", "phantom"))


def test_the_witness_is_measured_on_the_same_runs_with_its_own_verdict(phantom_pair):
    lesson, (ce, method) = phantom_pair
    o = outcome(lesson, 0, ce, method)
    snaps = [load_snapshot(r, r.snapshot_epochs[-1]) for r in (ce, method)]
    knn = [knn_accuracy(s["hidden_1"].reshape(len(s["probe_y"]), -1), s["probe_y"]) for s in snaps]
    assert (o.witness_ce, o.witness_method) == pytest.approx(knn)
    assert o.witness_ce == final_quantity(ce, lesson.witness.quantity)
    text = describe(o)
    assert o.witness_verdict in text and lesson.witness.change(*knn) in o.witness_verdict


def test_a_witness_that_does_not_move_says_so_plainly():
    l = LESSONS["phantom"]
    base = dict(lesson=l, seed=0, ce=0.5, method=0.2, ce_acc=0.9, method_acc=0.9)
    still = Outcome(**base, witness_ce=0.90, witness_method=0.902)
    assert "did not move" in still.witness_verdict and "+0.002" in still.witness_verdict
    assert "less than the 0.01 absolute higher" in still.witness_verdict
    against = Outcome(**base, witness_ce=0.90, witness_method=0.85)
    assert "-0.050" in against.witness_verdict and "the other way from the paper's prediction" in against.witness_verdict
    moved = Outcome(**base, witness_ce=0.90, witness_method=0.95)
    assert "as the paper predicts" in moved.witness_verdict and "+0.050" in moved.witness_verdict
    assert still.verdict == moved.verdict  # the witness has its own verdict, the quantity's is unchanged
    assert Outcome(**{**base, "lesson": LESSONS["mhe"]}).witness_verdict is None


@pytest.mark.parametrize("measurement", ["purity", "balance", "knn"])
def test_every_witness_measurement_reads_a_run_in_its_range(phantom_pair, measurement):
    _, (ce, _) = phantom_pair
    value = final_quantity(ce, Quantity(measurement, measurement, measurement, "higher"))
    assert 0 < value <= 1
