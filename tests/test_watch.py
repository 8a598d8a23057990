"""Watching a run through AppTest: the one epoch player (never skips an epoch, its slider shows the
epoch drawn), the pace box (slows a live run, replays a finished one), and a view page that
follows a live run as its epochs land. (AppTest does not fire `run_every` timers: each `run()`
is one tick.)"""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.figures.theme import DARK_BACKGROUND, FONT, PROJECTOR
from lab.config import RunConfig
from lab.train import train
from conftest import plots, press_again

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", train_size=100, probe_size=100, epochs=4, model_params={"widths": (16, 16)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    train(RunConfig(name="four", **TINY), runs=folder)
    return folder


@pytest.fixture
def app(runs, monkeypatch):
    def make(run: str | None = None) -> AppTest:
        monkeypatch.setenv("REGLAB_RUNS", str(runs))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if run:
            at.query_params["run"] = run
        return at.run()

    return make


def _drawn(at: AppTest) -> int:
    """The epoch in the title of the page's first figure (the player's view)."""
    title = json.loads(plots(at)[0].proto.spec)["layout"]["title"]["text"]
    return int(title.split("epoch ")[1].split(":")[0].split(",")[0])


def _slider(at: AppTest, key: str) -> int:
    return int(at.select_slider(key=f"{key}.slider").value)


@pytest.mark.parametrize("view, key", [("similarity", "similarity"), ("hypersphere", "sphere"),
                                       ("embeddings", "embed")])
def test_the_player_plays_every_epoch_in_order_and_its_slider_shows_the_epoch_drawn(app, view, key):
    at = app("four").switch_page(ui.nav.path(view)).run()
    assert (_drawn(at), _slider(at, key)) == (4, 4)  # opens on the last epoch
    at.button(key=f"{key}.play").click().run()  # from the last epoch, Play starts over
    seen = []
    for _ in range(8):
        assert not at.exception
        seen.append((_drawn(at), _slider(at, key)))
        if not at.session_state[f"{key}.playing"]:
            break
        assert at.select_slider(key=f"{key}.slider").disabled  # held while playing (see ui.player)
        time.sleep(ui.player.TICK)
        at.run()  # one timer tick
    drawn = [d for d, _ in seen]
    assert all(d == s for d, s in seen), seen
    assert sorted(set(drawn)) == [0, 1, 2, 3, 4] and drawn == sorted(drawn) and drawn[-1] == 4, drawn
    assert at.button(key=f"{key}.play").label == "Play"


def test_a_click_delivered_twice_plays_and_pauses_once(app):
    """Streamlit can deliver one click twice (a fragment timer's message sent at the same moment
    carries it too). A first Play so delivered paused at once on its first epoch, 1 in ~40 here."""
    at = app("four").switch_page(ui.nav.path("similarity")).run()
    for label, playing in (("play", True), ("pause", False)):
        button = at.button(key=f"similarity.{label}").click()
        press_again(at.run(), button)
        assert at.session_state["similarity.playing"] is playing and not at.exception, label


def test_ticks_queued_faster_than_the_pace_redraw_the_epoch_on_screen_without_advancing(app):
    at = app("four").switch_page(ui.nav.path("similarity"))
    at.session_state[ui.player.PACE] = pace = 3.0  # seconds per epoch: longer than these runs take here
    at.run().button(key="similarity.play").click().run()
    assert _drawn(at) == 0
    for _ in range(3):  # back-to-back runs, as when slow frames make the browser's timer ticks queue up
        at.run()
        assert (_drawn(at), _slider(at, "similarity")) == (0, 0)
    time.sleep(pace)
    assert (_drawn(at.run()), _slider(at, "similarity")) == (1, 1)


def test_the_hypersphere_page_draws_the_flat_map_of_the_sphere_and_the_3d_sphere_on_request(app):
    at = app("four").switch_page(ui.nav.path("hypersphere")).run()

    def kinds() -> set[str]:
        return {t["type"] for t in json.loads(plots(at)[1].proto.spec)["data"]}

    assert kinds() == {"scatter"} and not at.exception  # the map: plain 2-D, quick to draw
    at.radio(key="sphere.shape").set_value("3-D").run()
    assert kinds() == {"surface", "scatter3d"} and not at.exception


def test_moving_the_slider_draws_that_epoch(app):
    at = app("four").switch_page(ui.nav.path("similarity")).run()
    at.select_slider(key="similarity.slider").set_value(2).run()
    assert (_drawn(at), _slider(at, "similarity")) == (2, 2) and not at.exception


def test_a_view_page_follows_a_live_run_and_its_player_moves_to_each_new_epoch(app, runs):
    live = ui.runs._manager(str(runs.resolve()))
    rid = live.start(RunConfig(**{**TINY, "epochs": 1000}), "someone", pace=0.3)
    try:
        end = time.monotonic() + 30
        while not (runs / rid / "snapshots" / "epoch_001.npz").exists():
            assert time.monotonic() < end
            time.sleep(0.05)
        at = app(rid).switch_page(ui.nav.path("similarity")).run()
        first = _drawn(at)
        assert "this page follows the run" in " ".join(c.value for c in at.caption) and first >= 1
        while _drawn(at.run()) == first:
            assert time.monotonic() < end and not at.exception
            time.sleep(0.1)
        assert _drawn(at) > first and _slider(at, "similarity") == _drawn(at)
    finally:
        live.stop(rid, "someone")


def test_the_pace_box_slows_a_live_run_and_replays_a_finished_one(app, runs):
    at = app().switch_page(ui.nav.path("train")).run()
    at.number_input(key="pace").set_value(30.0)
    at.number_input(key="train.train_size").set_value(100)
    at.button(key="train").click().run()
    live = ui.runs._manager(str(runs.resolve())).get(at.query_params["run"])
    assert live.pace == 30.0 and not at.exception
    at.number_input(key="pace").set_value(0.5).run()  # changed while it trains: applies to the live run
    assert ui.runs._manager(str(runs.resolve())).get(live.id).pace == 0.5
    at.button(key="stop").click().run()
    replay = app("four").switch_page(ui.nav.path("train")).run()
    replay.number_input(key="pace").set_value(20.0).run()
    replay.button(key="replay").click().run()
    assert "replay: epoch 1 of 4" in " ".join(p.text for p in replay.get("progress"))
    time.sleep(0.2)
    replay.number_input(key="pace").set_value(0.05).run()  # faster: every epoch is due, the replay ends
    assert "done: 4 of 4 epochs" in " ".join(p.text for p in replay.run().get("progress"))
    assert not replay.exception


@pytest.mark.parametrize("key, warmed", [("train", 1), ("lessons", 1), ("similarity", 0)])
def test_a_page_that_trains_starts_the_training_warm_up_when_it_opens(app, monkeypatch, key, warmed):
    calls = []
    monkeypatch.setattr(ui.warm, "training_warmed", lambda *a: calls.append(a))
    app("four").switch_page(ui.nav.path(key)).run()
    assert len(calls) == warmed


def test_the_live_curves_of_a_training_run_take_the_dark_theme_and_projector_fonts(app, runs):
    live = ui.runs._manager(str(runs.resolve()))
    rid = live.start(RunConfig(**{**TINY, "epochs": 1000}), "someone", pace=0.3)
    try:
        at = app(rid)
        for toggle in (ui.widgets.DARK_KEY, ui.widgets.PROJECTOR_KEY):
            at.toggle(key=f"{toggle}.toggle").set_value(True).run()
        at.switch_page(ui.nav.path("train")).run()
        charts = {c.key: json.loads(c.proto.spec)["layout"] for c in plots(at.main)}
        assert {"loss-live", "accuracy-live"} <= set(charts) and not at.exception
        for layout in (charts["loss-live"], charts["accuracy-live"]):
            assert layout["template"]["layout"]["paper_bgcolor"] == DARK_BACKGROUND
            assert layout["font"]["size"] == round(FONT * PROJECTOR)
    finally:
        live.stop(rid, "someone")


def test_a_process_ending_while_the_player_builds_frames_ahead_ends_cleanly():
    """A frame builder killed inside torch at the interpreter's end aborted the process (rc 134,
    "terminate called without an active exception"); it now finishes the frame in hand and stops."""
    code = """
import time
import torch
import ui.player
def build(epoch):
    x = torch.randn(400, 400)
    for _ in range(30):
        x = torch.tanh(x @ x.T / 400)
ui.player._prefetch(build, list(range(500)))
time.sleep(0.3)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
