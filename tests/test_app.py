"""The Streamlit app through AppTest: every page renders with and without a run, Train trains
live and draws curves, Compare shows two runs, Runs renames and deletes, bad input is one line."""
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig
from lab.notes import note
from lab.store import RunWriter, load_run
from lab.train import train
from conftest import plots, press_again

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", train_size=100, probe_size=100, epochs=2, model_params={"widths": (16, 16)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A runs folder with two finished runs (ce and weight_decay) of the same tiny setting."""
    folder = tmp_path_factory.mktemp("runs")
    for method, name in (("ce", "tiny-ce"), ("weight_decay", "tiny-wd")):
        train(RunConfig(method=method, name=name, **TINY), runs=folder)
    return folder


@pytest.fixture
def app(runs, monkeypatch):
    def make(run: str | None = None, **query) -> AppTest:
        monkeypatch.setenv("REGLAB_RUNS", str(runs))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if run:
            at.query_params["run"] = run
        at.query_params.update(query)
        return at.run()

    return make


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "info", "caption", "error", "warning") for e in at.get(kind))


def test_a_train_press_delivered_twice_starts_one_run(app, runs):
    before = set(runs.iterdir())
    at = app().switch_page(ui.nav.path("train")).run()
    at.number_input(key="train.epochs").set_value(1)
    at.number_input(key="train.train_size").set_value(100)
    button = at.button(key="train").click()
    press_again(at.run(), button)
    ui.runs.manager().wait(60)
    assert not at.exception and len(set(runs.iterdir()) - before) == 1


@pytest.mark.parametrize("run", [None, "tiny-ce"])
def test_every_page_renders_with_and_without_a_run(app, run):
    at = app(run)
    for key in sorted(ui.nav.PAGES, key=lambda k: k == "runs"):  # Runs opens a run: last
        at.switch_page(ui.nav.path(key)).run()
        assert not at.exception, (key, at.exception)
        if run is None and key not in ("home", "lessons", "train", "runs"):  # a lesson trains its own runs
            assert re.search(r"No run selected|Pick at least two", _texts(at)), key
        # a lesson trains its own runs; ce has no method views; digits has no 2-D inputs for a boundary
        if run and key not in ("home", "lessons", "compare", "method", "boundary"):
            assert plots(at), key


@pytest.mark.parametrize("view", ui.nav.EVERY_RUN)
def test_a_view_page_says_what_to_expect_of_the_runs_method_from_the_notes(app, view):
    at = app("tiny-wd").switch_page(ui.nav.path(view)).run()
    assert not at.exception
    assert note("weight_decay", view) in " ".join(str(e.value) for e in at.markdown)


def _strings(fig) -> str:
    """Every text in a figure's JSON (titles, labels, hovers), not its base64-encoded arrays."""
    if isinstance(fig, dict):
        return " ".join(_strings(v) for k, v in fig.items() if k != "bdata")
    if isinstance(fig, list):
        return " ".join(map(_strings, fig))
    return fig if isinstance(fig, str) else ""


@pytest.fixture(scope="module")
def broken(runs, diverged_run) -> Path:
    """Two runs whose later snapshots hold non-finite values: "diverged" (trained to divergence:
    only epoch 0 is finite) and "late" (3 epochs, its last snapshot's weights set to inf)."""
    shutil.copytree(diverged_run.path, runs / "diverged")
    train(RunConfig(name="late", **{**TINY, "epochs": 3}), runs=runs)
    snap = runs / "late" / "snapshots" / "epoch_003.npz"
    arrays = dict(np.load(snap))
    np.savez(snap, **{**arrays, "weight_0": np.full_like(arrays["weight_0"], np.inf)})
    (runs / "late" / "status.json").write_text(json.dumps({"status": "diverged", "error": "loss became inf"}))
    return runs


@pytest.mark.parametrize("run, slider", [("diverged", None), ("late", ["0", "1", "2"])])
@pytest.mark.parametrize("view", [*ui.nav.EVERY_RUN, "compare"])
def test_every_view_of_a_diverged_run_draws_its_finite_epochs_and_says_why_later_ones_are_hidden(
        app, broken, view, run, slider):
    at = app(run, runs=f"tiny-ce,{run}").switch_page(ui.nav.path(view)).run()
    assert not at.exception, at.exception
    assert any("Showing epochs up to" in w.value for w in at.warning)
    charts = plots(at)
    assert charts and all(json.loads(c.proto.spec)["data"] for c in charts)  # every figure has traces
    assert not re.search(r"\bnan\b", " ".join(_strings(json.loads(c.proto.spec)) for c in charts), re.I)
    sliders = [s.options for s in at.select_slider if s.label == "epoch"]
    assert sliders == ([] if slider is None else [slider])


def test_train_page_trains_digits_live_and_draws_its_curves(app):
    at = app().switch_page(ui.nav.path("train")).run()
    at.number_input(key="train.epochs").set_value(2)
    at.number_input(key="train.train_size").set_value(100)
    at.text_input(key="model.mlp.widths").set_value("16")
    at.button(key="train").click().run()
    rid = at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"]
    assert rid.startswith("digits-mlp-ce-s0-")
    end = time.monotonic() + 60
    while "done" not in " ".join(p.text for p in at.get("progress")):
        assert time.monotonic() < end and not at.exception
        time.sleep(0.2)
        at.run()
    assert plots(at) and "epoch 2: test accuracy" in _texts(at)
    assert not at.exception


@pytest.mark.parametrize("kind, key, value, says", [
    ("text_input", "model.mlp.widths", "0,abc", "'widths' parameter of mlp must be 1 to 8 whole numbers from 1 to 4096"),
    ("number_input", "train.lr", 1e9, "'lr' parameter of training must be a number greater than 0 and at most 10"),
    ("number_input", "train.epochs", 0, "'epochs' parameter of training must be a whole number from 1 to 1000"),
    ("number_input", "train.seed", -1, "'seed' parameter of training must be a whole number from 0 to 2147483647")])
def test_a_bad_setting_is_refused_in_one_line_and_trains_nothing(app, runs, kind, key, value, says):
    before = sorted(runs.iterdir())
    at = app().switch_page(ui.nav.path("train")).run()
    getattr(at, kind)(key=key).set_value(value)
    at.button(key="train").click().run()
    assert not at.exception and len(at.error) == 1
    assert says in at.error[0].value.replace("\\", "") and "\n" not in at.error[0].value
    assert "run" not in at.query_params and sorted(runs.iterdir()) == before
    assert not ui.runs.manager().runs_of(at.session_state["_owner"])


def test_missing_data_files_are_refused_and_the_download_fails_in_one_line_without_network(
        app, runs, tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def offline(url, download_root, filename, md5):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", offline)
    before = sorted(runs.iterdir())
    at = app().switch_page(ui.nav.path("train")).run()
    at.selectbox(key="data").set_value("fashion_mnist").run()
    at.text_input(key="data.fashion_mnist.root").set_value(str(tmp_path)).run()
    missing = f"fashion_mnist: 4 of its 4 files are not in {tmp_path}/FashionMNIST/raw; download them"
    assert len(at.error) == 1 and missing in at.error[0].value.replace("\\", "")
    at.button(key="data.fetch").click().run()
    assert not at.exception
    assert "fashion_mnist: cannot download http" in at.error[-1].value.replace("\\", "")
    assert "Temporary failure in name resolution" in at.error[-1].value.replace("\\", "")
    at.button(key="train").click().run()
    assert missing in at.error[-1].value.replace("\\", "")
    assert "run" not in at.query_params and sorted(runs.iterdir()) == before


def test_the_download_button_fetches_the_files_and_the_refusal_goes(app, tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils
    from test_data import write_mnist

    fetched = []

    def fake(url, download_root, filename, md5):
        fetched.append(filename)
        write_mnist(tmp_path, "MNIST", np.random.default_rng(0))

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake)
    at = app().switch_page(ui.nav.path("train")).run()
    at.selectbox(key="data").set_value("mnist").run()
    at.text_input(key="data.mnist.root").set_value(str(tmp_path)).run()
    assert "mnist: 4 of its 4 files are not in" in at.error[0].value.replace("\\", "")
    at.button(key="data.fetch").click().run()
    assert not at.exception and not at.error and len(fetched) == 4
    assert not [b for b in at.button if b.key == "data.fetch"]


def test_the_grid_launcher_refuses_a_bad_value_and_queues_nothing(app):
    at = app().switch_page(ui.nav.path("compare")).run()
    at.number_input(key="grid.epochs").set_value(0)
    at.button(key="grid.go").click().run()
    assert not at.exception and "'epochs' parameter of training" in at.error[0].value.replace("\\", "")
    assert "runs" not in at.query_params
    assert not ui.runs.manager().runs_of(at.session_state["_owner"])


def test_someone_elses_live_run_can_be_watched_but_not_stopped(app, runs):
    rid = ui.runs._manager(str(runs.resolve())).start(RunConfig(**{**TINY, "epochs": 1000}), "another-session")
    try:
        at = app(rid).switch_page(ui.nav.path("train")).run()
        assert not at.exception and not [b for b in at.button if b.key == "stop"]
        assert "another session" in _texts(at)
    finally:
        ui.runs._manager(str(runs.resolve())).stop(rid, "another-session")


def test_compare_shows_two_runs_side_by_side(app):
    at = app(runs="tiny-ce,tiny-wd").switch_page(ui.nav.path("compare")).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 and not table["test accuracy"].str.contains("±").any()  # one seed each: no spread
    assert not at.warning  # same settings: a fair comparison, no warning
    # accuracy overlay, the paired differences against CE, the method's own quantity for both runs, the CKA
    # between the runs, small multiples
    assert [c.key for c in plots(at)] == ["compare.acc", "compare.judge", "compare.quantity.weight_decay",
                                                       "compare.cka", "compare.grid"]


def test_compare_warns_when_runs_differ_in_more_than_method_and_seed(app, runs):
    if not (runs / "tiny-ce-150").exists():
        train(RunConfig(name="tiny-ce-150", **{**TINY, "train_size": 150, "method": "mhe"}), runs=runs)
    at = app(runs="tiny-ce,tiny-ce-150,tiny-wd").switch_page(ui.nav.path("compare")).run()
    assert not at.exception
    assert len(at.warning) == 1 and "train_size" in at.warning[0].value and "Not a fair comparison" in at.warning[0].value
    table = at.dataframe[0].value
    assert sorted(table["train_size"]) == ["100", "100", "150"]
    keys = [c.key for c in plots(at)]  # an own-quantity chart for every method picked
    assert {"compare.quantity.mhe", "compare.quantity.weight_decay"} <= set(keys)


def _clock(run_id: str) -> str:
    """The hh:mm:ss a generated run id carries, as the picker's label shows it."""
    t = re.search(r"-\d{6}-(\d{6})-[0-9a-f]{4}$", run_id).group(1)
    return f"{t[:2]}:{t[2:4]}:{t[4:]}"


def test_four_sessions_train_at_once_and_each_sees_only_its_own_live_run(app, runs):
    sessions = []
    for i in range(4):
        at = app().switch_page(ui.nav.path("train")).run()
        at.number_input(key="train.epochs").set_value(3 + i)
        at.number_input(key="train.seed").set_value(i)
        at.number_input(key="train.train_size").set_value(100)
        at.text_input(key="model.mlp.widths").set_value("16")
        sessions.append(at.button(key="train").click().run())
    ids = [at.query_params["run"] for at in sessions]
    assert len(set(ids)) == 4
    for at, rid in zip(sessions, ids):
        labels = at.selectbox(key="_picker").options
        # Streamlit keys a choice by its label: a label that changed with the status (queued, running,
        # done) would hand the picker the label itself instead of the run id
        assert not any(w in label for label in labels for w in ("queued", "running", "done"))
        listed = {o for o in ids if any(label.startswith(f"ce s{ids.index(o)} · ") and _clock(o) in label
                                        for label in labels)}
        assert rid in listed
        assert all(load_run(o, runs).state == "done" for o in listed - {rid})  # others' runs: only finished ones
    end = time.monotonic() + 60
    while not all("done" in " ".join(p.text for p in at.run().get("progress")) for at in sessions):
        assert time.monotonic() < end and not any(at.exception for at in sessions)
        time.sleep(0.2)
    for i, rid in enumerate(ids):
        rec = load_run(rid, runs)
        assert rec.config.seed == i and len(rec.metrics) == 3 + i  # nothing mixed between sessions


def test_a_diverged_run_shows_why_and_keeps_its_curves(app, runs):
    writer = RunWriter(runs, RunConfig(name="blown", **TINY))
    writer.epoch({"epoch": 1, "task_loss": 2.3, "reg_loss": 0.0, "train_loss": 2.3, "train_acc": 0.1,
                  "test_loss": 2.3, "test_acc": 0.1, "seconds": 0.1})
    writer.status("diverged", "loss became nan at epoch 2, step 1; lower the learning rate", epochs_done=1)
    at = app("blown").switch_page(ui.nav.path("train")).run()
    assert not at.exception and plots(at)
    assert "diverged: loss became nan at epoch 2" in at.error[0].value.replace("\\", "")


def test_a_run_beyond_the_pool_shows_its_place_in_the_queue(app, runs):
    live = ui.runs._manager(str(runs.resolve()))
    busy = [live.start(RunConfig(**{**TINY, "epochs": 1000, "seed": s}), "someone-else") for s in (1, 2)]
    try:
        at = app().switch_page(ui.nav.path("train")).run()
        at.number_input(key="train.epochs").set_value(1)
        at.button(key="train").click().run()
        assert "queued: position 1" in " ".join(p.text for p in at.get("progress"))
    finally:
        for rid in busy:
            live.stop(rid, "someone-else")
    end = time.monotonic() + 30
    while "done" not in " ".join(p.text for p in at.run().get("progress")):
        assert time.monotonic() < end
        time.sleep(0.2)


def test_compare_launches_a_grid_of_methods_and_seeds_and_tabulates_mean_and_std(app):
    at = app().switch_page(ui.nav.path("compare")).run()
    at.multiselect(key="grid.methods").set_value(["ce", "weight_decay"])
    at.text_input(key="grid.seeds").set_value("0,1")
    at.number_input(key="grid.epochs").set_value(2)
    at.number_input(key="grid.train_size").set_value(100)
    at.button(key="grid.go").click().run()
    ids = at.query_params["runs"].split(",")
    assert len(ids) == 4 and not at.exception
    end = time.monotonic() + 60
    while not (table := at.run().dataframe[0].value)["status"].eq("done").all():
        assert time.monotonic() < end and not at.exception
        time.sleep(0.2)
    assert list(table["seeds"]) == ["0, 1", "0, 1"] and table["test accuracy"].str.match(r"0\.\d+ ± 0\.\d+").all()


def test_opening_a_run_on_the_train_page_shows_its_settings_in_the_form(app):
    at = app("tiny-wd").switch_page(ui.nav.path("train")).run()
    assert not at.exception
    assert (at.selectbox(key="method").value, at.text_input(key="model.mlp.widths").value,
            at.number_input(key="train.epochs").value, at.number_input(key="train.train_size").value) == \
           ("weight_decay", "16,16", 2, 100)


def test_the_hypersphere_page_says_what_the_run_did_beside_what_the_method_is_expected_to_do(app, runs):
    from lab.measure.angles import nearest_neighbour_angles
    from lab.store import load_snapshot

    train(RunConfig(**{**TINY, "epochs": 6, "lr": 1.0}, name="moved-ce"), runs=runs)  # weights that turn
    at = app("moved-ce").switch_page(ui.nav.path("hypersphere")).run()
    record = load_run(runs / "moved-ce")
    first, last = (load_snapshot(record, e)["weight_1"] for e in (record.snapshot_epochs[0], record.snapshot_epochs[-1]))
    a, b = (np.degrees(nearest_neighbour_angles(w).mean()) for w in (first, last))
    line = next(m.value for m in at.markdown if m.value.startswith("**In this run.**"))
    assert f"from {a:.1f}° (epoch 0) to {b:.1f}° (epoch 6)" in line and f"{a:.1f}" != f"{b:.1f}" and not at.exception
