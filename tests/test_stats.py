"""The paired judgement of Compare and `python -m lab compare` (lab/stats.py): differences per
seed, the t-test and Holm's correction against hand-computed values, and verdicts that never
call two seeds a result."""
import math

import numpy as np
import pytest
from scipy import stats as sp

from lab.stats import holm, judge, paired, verdict


def rows(values: dict[int, float]) -> list[dict]:
    return [{"seed": s, "final_test_acc": v} for s, v in values.items()]


def test_paired_differences_are_per_seed_and_unpaired_seeds_are_left_out():
    p = paired(rows({0: 0.90, 1: 0.92, 2: 0.95, 7: 0.5}), rows({0: 0.88, 1: 0.91, 2: 0.90}))
    assert p["per_seed"] == pytest.approx({0: 0.02, 1: 0.01, 2: 0.05}) and p["n"] == 3
    assert p["mean"] == pytest.approx(0.08 / 3) and (p["wins"], p["ties"], p["losses"]) == (3, 0, 0)
    assert p["t_p"] == pytest.approx(sp.ttest_1samp([0.02, 0.01, 0.05], 0).pvalue)
    assert p["sign_p"] == pytest.approx(0.25)  # 3 wins of 3, two-sided: 2 x 0.5^3


def test_holm_multiplies_the_sorted_p_values_and_keeps_them_monotone():
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": float("nan")}) == pytest.approx(
        {"a": 0.03, "b": 0.06, "c": 0.06, "d": float("nan")}, nan_ok=True)


def test_judge_corrects_over_the_methods_shown_and_two_seeds_are_too_few():
    ce = rows({0: 0.80, 1: 0.81, 2: 0.79})
    better = rows({0: 0.85, 1: 0.87, 2: 0.84})
    same = rows({0: 0.80, 1: 0.82, 2: 0.78})
    j = judge({"better": better, "same": same}, ce)
    raw = sp.ttest_1samp([0.05, 0.06, 0.05], 0).pvalue
    assert j["better"]["holm_p"] == pytest.approx(min(1, 2 * raw)) and j["better"]["verdict"] == "a significant gain"
    assert j["same"]["verdict"] == "no significant difference" and j["same"]["mean"] == pytest.approx(0)
    two = judge({"better": better[:2]}, ce[:2])["better"]
    assert two["n"] == 2 and two["verdict"].startswith("too few seeds to tell") and two["mean"] > 0


def test_verdict_words_and_undefined_tests():
    assert verdict(-0.1, 0.001, 5, ("moves as intended", "moves the other way")) == "moves the other way"
    assert verdict(0.1, math.nan, 5) == "no significant difference"
    assert verdict(np.float64(0.2), 0.049, 3) == "a significant gain"


def test_a_win_is_a_seed_that_moved_the_way_the_measure_should():
    """For a quantity meant to fall, a seed below CE's is a win (Compare showed 0/0/3 beside 'moves as intended')."""
    ce = [{"seed": s, "v": 1.0} for s in range(3)]
    fell = [{"seed": 0, "v": 0.5}, {"seed": 1, "v": 0.6}, {"seed": 2, "v": 1.0}]
    assert [paired(fell, ce, "v")[k] for k in ("wins", "ties", "losses")] == [0, 1, 2]
    assert [paired(fell, ce, "v", "lower")[k] for k in ("wins", "ties", "losses")] == [2, 1, 0]
    assert judge({"m": fell}, ce, "v", working="lower")["m"]["wins"] == 2
