"""Compare judges (AppTest): each method against CE on the same seeds, with the numbers of
`lab.stats` recomputed here from the runs; one or two seeds read "too few seeds to tell"."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig
from lab.stats import change, holm, paired, verdict
from lab.store import load_run
from lab.train import train
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", train_size=100, probe_size=100, epochs=2, model_params={"widths": (16, 16)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    for method in ("ce", "mhe", "weight_decay"):
        for seed in (0, 1, 2):
            train(RunConfig(method=method, seed=seed, name=f"{method}-{seed}", **TINY), runs=folder)
    return folder


def _compare(runs: Path, monkeypatch, picked: list[str]) -> AppTest:
    monkeypatch.setenv("REGLAB_RUNS", str(runs))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["runs"] = ",".join(picked)
    at.run().switch_page(ui.nav.path("compare")).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("seeds, methods", [((0, 1, 2), ("mhe",)), ((0, 1), ("mhe", "weight_decay"))])
def test_compare_judges_each_method_against_ce_on_the_same_seeds(runs, monkeypatch, seeds, methods):
    picked = [f"{m}-{s}" for m in ("ce", *methods) for s in seeds]  # at most 6 runs
    at = _compare(runs, monkeypatch, picked)
    judged = at.dataframe[1].value
    acc = {m: [{"seed": s, "final_test_acc": load_run(runs / f"{m}-{s}").final("test_acc")} for s in seeds]
           for m in ("ce", *methods)}
    tests = {m: paired(acc[m], acc["ce"]) for m in methods}
    adjusted = holm({m: t["t_p"] for m, t in tests.items()})
    rows = judged[judged["measure"] == "test accuracy"]
    assert [r.split(" ")[0] for r in rows["runs"]] == list(methods)
    for (_, row), (m, t) in zip(rows.iterrows(), tests.items()):
        assert row["difference"] == change(list(t["per_seed"].values()))
        assert row["verdict"] == verdict(t["mean"], adjusted[m], t["n"], ("better than CE", "worse than CE"))
    assert (set(judged["verdict"]) == {"too few seeds to tell (2 paired; 3 at least)"}) == (len(seeds) == 2)
    assert set(judged["measure"]) == {"test accuracy", "hyperspherical energy of the hidden layers"} | (
        {"0.5 x sum of squared weights"} if "weight_decay" in methods else set())
    assert "compare.judge" in [c.key for c in plots(at)]


def test_compare_says_how_to_judge_when_ce_is_not_picked(runs, monkeypatch):
    at = _compare(runs, monkeypatch, ["mhe-0", "weight_decay-0"])
    assert "compare.judge" not in [c.key for c in plots(at)]
    assert any("to judge each method against it" in c.value for c in at.caption)


def test_the_grid_takes_each_methods_lambda_and_the_lessons_settings_in_one_click(tmp_path, monkeypatch):
    import time

    from lab.lessons import LESSONS
    from lab.store import list_runs

    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run().switch_page(ui.nav.path("compare")).run()
    at.multiselect(key="grid.methods").set_value(["ce", "mhe"]).run()
    assert at.number_input(key="grid.lam.mhe").value == 1.0  # mhe's default until changed
    at.button(key="grid.lesson.mhe").click().run()
    lesson = LESSONS["mhe"].config("mhe", 0)
    assert at.number_input(key="grid.lam.mhe").value == lesson.lam == 10.0
    assert at.text_input(key="grid.model.mlp.widths").value == "64,64"
    assert (at.number_input(key="grid.epochs").value, at.number_input(key="grid.train_size").value) == (30, 300)
    at.number_input(key="grid.epochs").set_value(1)
    at.text_input(key="grid.seeds").set_value("0")
    at.button(key="grid.go").click().run()
    end = time.monotonic() + 60
    while len([r for r in list_runs(tmp_path) if r.state == "done"]) < 2:
        assert time.monotonic() < end and not at.exception
        time.sleep(0.2)
    runs = {r.config.method: r.config for r in list_runs(tmp_path)}
    assert runs["mhe"].lam == 10.0 and runs["ce"].lam == 0.0
    assert list(runs["mhe"].model_params["widths"]) == list(runs["ce"].model_params["widths"]) == [64, 64]


def test_compare_draws_the_cka_between_the_picked_runs_at_a_layer(runs, monkeypatch):
    import json

    import numpy as np

    from lab.measure.geometry import linear_cka
    from lab.store import load_snapshot

    at = _compare(runs, monkeypatch, ["ce-0", "mhe-0", "weight_decay-0"])
    assert at.selectbox(key="compare.cka.layer").value == "hidden_1"  # the features by default
    heat = json.loads(next(c for c in plots(at) if c.key == "compare.cka").proto.spec)["data"][0]
    if isinstance(heat["z"], dict):  # plotly's typed-array encoding of a numpy array
        import base64

        z = heat["z"]
        heat["z"] = np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape(
            [int(n) for n in str(z["shape"]).split(",")]).tolist()
    states = [load_snapshot(load_run(runs / r), 2)["hidden_1"].astype(np.float64) for r in ("ce-0", "mhe-0")]
    assert heat["z"][0][0] == pytest.approx(1.0) and heat["z"][0][1] == pytest.approx(linear_cka(*states))
    at.selectbox(key="compare.cka.layer").set_value("hidden_0").run()
    assert not at.exception
