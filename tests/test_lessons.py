"""Lessons (lab/lessons.py, assets/lessons.toml, `python -m lab lesson`, the Lessons page): the
lessons are well-formed, the verdict follows the margins, the text's numbers are the runs' own
(recomputed here independently), and the CLI and the page train CE and the method side by side."""
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.cli import main
from lab.config import RunConfig
from lab.lessons import ANY_MARGIN, LESSONS, Outcome, describe, lesson, outcome, role, saved_pair, with_method
from lab.measure.quantities import MEASUREMENTS
from lab.regularizers import REGISTRY
from lab.store import list_runs, load_run, load_snapshot
from lab.train import train
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]


def test_there_is_one_lesson_per_seed_method_and_each_is_well_formed():
    from lab.views import method_views

    seed_papers = {"phantom", "racecar", "mhe", "comhe", "itra", "gini"}  # the five papers the lab exists to show
    assert seed_papers <= set(LESSONS) <= set(REGISTRY)  # a lesson per seed method; more for any registered one
    for name, l in LESSONS.items():
        own = REGISTRY[name].quantity
        assert l.method == name and l.quantity.working in ("lower", "higher")
        assert l.quantity.measurement in MEASUREMENTS if l.measured else l.quantity is own, name
        assert l.views and set(l.views) <= {v.key for v in method_views(name)}, name
        assert l.claim and l.look and (ROOT / l.sweep).is_file(), name
        assert l.candidates() and all(w and isinstance(t, dict) for _, w, t in l.candidates()), name
        ce, method = l.config("ce", 0), l.config(name, 1)
        assert (ce.method, ce.lam, ce.method_params) == ("ce", 0.0, {}) and method.method == name
        assert replace(ce, method=name, lam=method.lam, method_params=method.method_params, seed=1) == method
        assert role(l, ce) == "ce" and role(l, method) == name and role(l, replace(method, epochs=1)) is None


def test_a_typo_in_the_lessons_file_is_refused_in_one_line(tmp_path):
    from lab.errors import ConfigError
    from lab.lessons import SOURCE, load

    bad = tmp_path / "lessons.toml"
    bad.write_text(SOURCE.read_text().replace('title = "Gini', 'titel = "Gini'))
    with pytest.raises(ConfigError, match="Lesson 'gini' has an unknown key 'titel'"):
        load(bad)


def test_an_unknown_lesson_is_refused_with_the_list():
    with pytest.raises(Exception, match="racecar"):
        lesson("nope")


def _outcome(name: str, ce: float, method: float, ce_acc: float = 0.9, method_acc: float = 0.9) -> Outcome:
    return Outcome(LESSONS[name], 0, ce, method, ce_acc, method_acc)


@pytest.mark.parametrize("name, ce, method, moved, change", [
    ("mhe", 63.5, 74.4, True, "+10.9°"), ("mhe", 63.5, 68.4, False, "+4.9°"), ("mhe", 63.5, 50.0, False, "-13.5°"),
    ("phantom", 0.70, 0.49, True, "-30%"), ("phantom", 0.70, 0.50, False, "-29%"), ("phantom", 0.70, 0.95, False, "+36%"),
    ("racecar", 9000.0, float("nan"), False, "n/a")])
def test_the_verdict_needs_the_margin_in_the_papers_direction(name, ce, method, moved, change):
    o = _outcome(name, ce, method)
    assert o.moved is moved and LESSONS[name].change(ce, method) == change
    assert o.verdict.startswith("clear effect" if moved else "no clear effect") and change in o.verdict


def test_the_verdict_says_when_the_method_cost_accuracy_or_a_run_did_not_finish():
    assert "held (0.880 vs CE's 0.900)" in _outcome("mhe", 60, 70, 0.9, 0.88).verdict  # 0.02: within the slack
    lost = _outcome("mhe", 60, 70, 0.9, 0.85)
    assert not lost.kept_accuracy and "but it cost 0.050 of test accuracy (0.850 vs CE's 0.900)" in lost.verdict
    broken = replace(lost, method_status="diverged")
    assert broken.verdict == "not comparable: CE ended done, mhe ended diverged."


def _nn_angle_degrees(snapshot: dict) -> float:
    """Mean over hidden layers of the mean half-space nearest-neighbour angle, written anew here."""
    hidden = sorted(k for k in snapshot if k.startswith("weight_"))[:-1]
    means = []
    for k in hidden:
        w = snapshot[k].astype(np.float64)
        u = w / np.linalg.norm(w, axis=1, keepdims=True)
        cos = np.abs(u @ u.T)
        np.fill_diagonal(cos, 0)
        means.append(np.degrees(np.arccos(np.clip(cos.max(1), -1, 1))).mean())
    return float(np.mean(means))


@pytest.fixture(scope="module")
def mhe_runs(tmp_path_factory) -> tuple:
    """The mhe lesson's two runs with seed 0, its own settings (about a second each)."""
    folder = tmp_path_factory.mktemp("lesson")
    l = LESSONS["mhe"]
    return tuple(load_run(train(l.config(m, 0), runs=folder).path) for m in ("ce", "mhe"))


def test_the_lessons_text_quotes_the_runs_own_numbers(mhe_runs):
    ce, method = mhe_runs
    o = outcome(LESSONS["mhe"], 0, ce, method)
    angles = [_nn_angle_degrees(load_snapshot(r, r.snapshot_epochs[-1])) for r in (ce, method)]
    accs = []
    for r in (ce, method):
        rows = [json.loads(line) for line in (r.path / "metrics.jsonl").read_text().splitlines()]
        accs.append(rows[-1]["test_acc"])
    assert (o.ce, o.method) == pytest.approx(angles, abs=1e-6) and (o.ce_acc, o.method_acc) == tuple(accs)
    text = describe(o)
    for number in (f"{angles[0]:.1f}°", f"{angles[1]:.1f}°", f"{accs[0]:.3f}", f"{accs[1]:.3f}",
                   f"{angles[1] - angles[0]:+.1f}°"):
        assert number in text, (number, text)
    assert o.moved and o.kept_accuracy and "clear effect" in text  # the lesson's settings meet its margin


def test_saved_runs_of_a_lesson_are_found_by_their_settings(mhe_runs, tmp_path):
    ce, method = mhe_runs
    runs = list_runs(ce.path.parent)
    assert saved_pair(LESSONS["mhe"], 0, runs) == (ce, method)
    assert saved_pair(LESSONS["mhe"], 1, runs) is None and saved_pair(LESSONS["gini"], 0, runs) is None


def test_the_cli_lists_the_lessons_and_refuses_an_unknown_one(capsys):
    assert main(["lesson"]) == 0
    listed = capsys.readouterr().out
    assert [line.split(maxsplit=1) for line in listed.splitlines()[:len(LESSONS)]] == \
        [[name, l.title] for name, l in LESSONS.items()]
    assert main(["lesson", "nope"]) == 2
    assert "Unknown lesson 'nope'" in capsys.readouterr().err


def test_the_cli_trains_a_lesson_and_prints_both_values_accuracies_and_the_verdict(tmp_path, capsys):
    assert main(["lesson", "mhe", "--seeds", "0", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    runs = {r.config.method: r for r in list_runs(tmp_path)}
    assert set(runs) == {"ce", "mhe"} and all(r.state == "done" for r in runs.values())
    o = outcome(LESSONS["mhe"], 0, runs["ce"], runs["mhe"])
    assert f"{o.ce:.1f}°" in out and f"{o.method:.1f}°" in out and f"{o.method_acc:.3f}" in out
    assert f"seed 0: {o.verdict}" in out


def test_any_method_gets_an_untuned_lesson_from_the_cli_measuring_its_own_quantity(tmp_path, capsys):
    """`lesson --method FILE.py:CLASS`: the example plug-in against CE, its own quantity measured."""
    from lab.regularizers.plugins import load

    spec = f"{ROOT / 'examples' / 'plugins' / 'activity_l1.py'}:ActivityL1"
    assert main(["lesson", "--method", spec, "--seeds", "0", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    runs = {r.config.method: r for r in list_runs(tmp_path)}
    assert set(runs) == {"ce", "activity_l1"} and runs["activity_l1"].config.plugin["class"] == "ActivityL1"
    l = with_method("activity_l1")
    assert l.quantity is load(spec).quantity and l.margin == ANY_MARGIN and "Not a tuned lesson" in out
    o = outcome(l, 0, runs["ce"], runs["activity_l1"])
    assert f"seed 0: {o.verdict}" in out and f"{o.ce:.3g}" in out and f"{o.method:.3g}" in out


def test_a_lesson_with_another_method_keeps_its_settings_and_quantity_and_swaps_the_method():
    mhe = LESSONS["mhe"]
    l = with_method("comhe", mhe)
    assert l.quantity is mhe.quantity and (l.margin, l.unit, l.seeds) == (mhe.margin, mhe.unit, mhe.seeds)
    cfg = l.config("comhe", 0)
    assert cfg.model_params == mhe.config("mhe", 0).model_params and cfg.lam == REGISTRY["comhe"].default_lam
    assert l.config("ce", 0) == mhe.config("ce", 0)
    with pytest.raises(Exception, match="declares no quantity of its own"):
        with_method("dropout")


def test_the_lessons_page_trains_ce_and_the_method_and_draws_both_runs_views(tmp_path, monkeypatch):
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lesson"] = "mhe"
    at.run().switch_page(ui.nav.path("lessons")).run()
    assert not at.exception and at.selectbox(key="lesson.pick").value == "mhe"
    at.button(key="lesson.train").click().run()
    end = time.monotonic() + 90
    while len(plots(at)) < 2 + 2 * len(LESSONS["mhe"].views):
        assert time.monotonic() < end and not at.exception, [p.text for p in at.get("progress")]
        time.sleep(0.3)
        at.run()
    runs = {r.config.method: r for r in list_runs(tmp_path)}
    o = outcome(LESSONS["mhe"], 0, runs["ce"], runs["mhe"])
    assert describe(o) in [s.value for s in at.success] + [w.value for w in at.warning]
    assert not at.exception


def test_a_diverged_run_gets_a_verdict_of_not_comparable_and_its_value_reads_n_a(mhe_runs, diverged_run):
    ce, _ = mhe_runs
    o = outcome(LESSONS["mhe"], 0, ce, diverged_run)
    assert o.verdict == "not comparable: CE ended done, mhe ended diverged." and not o.moved
    assert f"{o.ce:.1f}° with CE and n/a with mhe" in describe(o) and "Verdict: not comparable" in describe(o)


def test_each_lesson_says_how_it_was_chosen_with_the_numbers_of_its_committed_record():
    """Settings against the defaults, the held-out seeds' results and the effect at the defaults:
    every number read from the record `scripts/lesson_sweep.py --check` wrote, none typed."""
    from lab.lessons import provenance, settings_text

    assert settings_text(LESSONS["mhe"]) == "λ 10 (default 1), widths 64-64 (default 256-256)"
    assert settings_text(LESSONS["decov"]) == "the method's defaults in the lessons' usual settings"
    for name, l in LESSONS.items():
        assert len(l.held_out) >= 2 and not set(l.held_out) & set(l.seeds), name
        record = json.loads((ROOT / l.sweep.replace(".md", ".json")).read_text())
        assert record["held_out_seeds"] == list(l.held_out) and record["sweep_seeds"] == list(l.seeds)
        text = " ".join(provenance(l))
        assert settings_text(l) in text and l.sweep in text
        for part in ("held_out", "defaults"):
            assert all(f"{v['change']} (seed {s})" in text for s, v in record[part].items()), (name, part)
        assert ("it held" in text) == all(v["moved"] for v in record["held_out"].values()), name
