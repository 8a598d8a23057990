"""LiveRuns: bounded pool with a visible queue, owner scoping, stop, failures, eviction."""
import sys
import threading
import time

import pytest

from lab.config import RunConfig
from lab.errors import ConfigError, DataError, LabError
from lab.live import LiveRuns
from lab.store import load_run

TINY = RunConfig(data="moons", data_params={"n_samples": 200}, model_params={"widths": (8,)},
                 batch_size=32, probe_size=20, epochs=2)
LONG = RunConfig(**{**TINY.to_dict(), "epochs": 1000})


def _until(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_runs_beyond_the_bound_queue_visibly_and_stop_is_for_the_owner(tmp_path):
    live = LiveRuns(tmp_path, max_workers=1)
    a = live.start(LONG, "alice")
    b = live.start(TINY, "bob")
    _until(lambda: live.get(a).status == "running" and live.get(a).history)
    vb = live.get(b)
    assert (vb.status, vb.position, vb.fraction) == ("queued", 1, 0.0)
    assert not live.stop(a, "bob") and live.get(a).status == "running"
    assert [v.id for v in live.runs_of("alice")] == [a] and [v.id for v in live.runs_of("bob")] == [b]
    assert live.stop(a, "alice")
    live.wait(timeout=30)
    assert load_run(a, tmp_path).state == "stopped" and load_run(b, tmp_path).state == "done"
    assert live.get(a) is None and live.get(b) is None  # saved, so evicted from memory
    assert len(load_run(b, tmp_path).metrics) == 2


def test_a_queued_run_stopped_before_it_starts_never_trains(tmp_path):
    live = LiveRuns(tmp_path, max_workers=1)
    a = live.start(LONG, "alice")
    b = live.start(TINY, "alice")
    assert live.stop(b, "alice")
    live.stop(a, "alice")
    live.wait(timeout=30)
    vb = live.get(b)
    assert (vb.status, vb.error, vb.history) == ("stopped", "stopped before it started", ())
    assert not (tmp_path / b).exists()


def test_four_owners_all_finish_with_their_own_data(tmp_path):
    live = LiveRuns(tmp_path, max_workers=2)
    ids = {f"user{i}": live.start(RunConfig(**{**TINY.to_dict(), "epochs": i + 1, "seed": i}), f"user{i}")
           for i in range(4)}
    assert sum(live.get(r) is not None and live.get(r).status == "queued" for r in ids.values()) >= 2
    live.wait(timeout=60)
    for i, (owner, rid) in enumerate(ids.items()):
        rec = load_run(rid, tmp_path)
        assert rec.state == "done" and rec.config.seed == i and len(rec.metrics) == i + 1
        assert live.runs_of(owner) == []


def test_run_id_is_the_folder_name_and_bad_configs_are_refused_at_start(tmp_path):
    live = LiveRuns(tmp_path)
    rid = live.start(TINY, "me")
    assert rid.startswith("moons-mlp-ce-s0-")
    live.wait(timeout=30)
    assert load_run(rid, tmp_path).config.name == rid
    with pytest.raises(ConfigError, match="'lr' parameter"):
        live.start(RunConfig(**{**TINY.to_dict(), "lr": -1.0}), "me")


def test_a_failure_before_the_folder_exists_is_kept_with_its_message(tmp_path):
    live = LiveRuns(tmp_path)
    rid = live.start(RunConfig(**{**TINY.to_dict(), "train_size": 10**6}), "me")  # too large: known on loading
    live.wait(timeout=30)
    v = live.get(rid)
    assert v.status == "failed" and v.error.startswith("ConfigError: train_size 1000000") and live.runs_of("me") == [v]


def test_an_exception_mid_run_marks_the_saved_run_failed(tmp_path, monkeypatch):
    train_module = sys.modules["lab.train"]  # `lab.train` the attribute is the function
    real = train_module.probe_snapshot
    calls = []

    def flaky(model, data, state=None):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("out of memory (simulated)")
        return real(model, data, state)

    monkeypatch.setattr(train_module, "probe_snapshot", flaky)
    live = LiveRuns(tmp_path)
    rid = live.start(TINY, "me")
    live.wait(timeout=30)
    rec = load_run(rid, tmp_path)
    assert rec.state == "failed" and "out of memory (simulated)" in rec.status["error"]
    assert live.get(rid) is None


def test_warm_up_trains_a_throwaway_epoch_and_saves_nothing(tmp_path):
    result = LiveRuns(tmp_path / "runs").warm(TINY).result(timeout=30)
    assert (result.status, len(result.history), result.path) == ("done", 1, None)
    assert result.history[0]["test_acc"] > 0.5  # it trained (moons: chance is 0.5)
    assert not (tmp_path / "runs").exists()


def test_warm_up_trains_only_once_its_wait_returns(tmp_path):
    gate = threading.Event()
    future = LiveRuns(tmp_path / "runs").warm(TINY, wait=gate.wait)
    time.sleep(0.5)
    assert not future.done()  # waiting, not training
    gate.set()
    assert future.result(timeout=30).status == "done"


def test_warm_up_reports_a_broken_training(tmp_path, monkeypatch):
    import importlib

    def broken(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(importlib.import_module("lab.train"), "train", broken)  # the module, not lab.train()
    with pytest.raises(RuntimeError, match="kaboom"):
        LiveRuns(tmp_path / "runs").warm(TINY).result(timeout=30)


def test_missing_data_files_are_refused_before_anything_is_queued(tmp_path):
    live = LiveRuns(tmp_path / "runs", max_workers=1)
    with pytest.raises(DataError, match=r"^cifar10: 7 of its 7 files are not in .*cifar-10-batches-py; download"):
        live.start(RunConfig(data="cifar10", model="cnn", data_params={"root": str(tmp_path / "empty")}), "alice")
    assert not live.runs_of("alice") and not (tmp_path / "runs").exists()


def test_queued_runs_are_capped_per_owner_and_in_all_and_a_grid_is_queued_whole_or_not_at_all(tmp_path):
    live = LiveRuns(tmp_path, max_workers=1, max_per_owner=2, max_active=3)
    try:
        live.start_all([LONG, LONG], "alice")
        with pytest.raises(LabError, match=r"^You may have 2 runs queued or training at a time \(you have 2, asked"):
            live.start(LONG, "alice")
        live.start(LONG, "bob")
        with pytest.raises(LabError, match=r"^The server holds at most 3 runs queued or training \(it has 3, asked"):
            live.start(LONG, "carol")
        assert len(live.runs_of("alice")) == 2 and not live.runs_of("carol")
        with pytest.raises(LabError, match="You may have 2 runs"):
            live.start_all([TINY, TINY], "bob")  # one would fit: none is queued
        assert len(live.runs_of("bob")) == 1
    finally:
        for owner in ("alice", "bob"):
            for v in live.runs_of(owner):
                live.stop(v.id, owner)
        live.wait(timeout=60)
    assert live.start(TINY, "carol")  # ended runs free their places
    live.wait(timeout=60)


def test_a_paced_run_takes_its_seconds_per_epoch_and_stop_ends_the_wait(tmp_path):
    live = LiveRuns(tmp_path, max_workers=1)
    t0 = time.monotonic()
    rid = live.start(TINY, "alice", pace=0.5)
    live.wait(timeout=30)
    assert time.monotonic() - t0 >= 0.4 * TINY.epochs  # without the pace: a few hundredths of a second
    assert all(r["seconds"] < 0.4 for r in load_run(rid, tmp_path).metrics)  # the waits are not training time
    slow = live.start(LONG, "alice", pace=60.0)
    _until(lambda: live.get(slow).step >= 1)
    assert live.get(slow).pace == 60.0 and not live.set_pace(slow, "bob", 0.0)
    assert live.stop(slow, "alice")
    live.wait(timeout=10)  # the minute-long wait of the step in progress ends with the stop
    assert load_run(slow, tmp_path).state == "stopped"


def test_live_points_arrive_within_the_first_epoch(tmp_path):
    live = LiveRuns(tmp_path, max_workers=1)
    rid = live.start(LONG, "alice", pace=100.0)
    _until(lambda: live.get(rid).points)
    view = live.get(rid)
    assert not view.history and view.points[0]["x"] < 1 and view.steps_per_epoch > 0
    live.stop(rid, "alice")
    live.wait(timeout=10)


def test_a_class_pressing_the_same_run_shares_it_and_the_queue_says_how_long_to_wait(tmp_path):
    """Identical settings (any owner) join the live run; a different seed queues, with an estimate
    once an epoch was timed: the epochs left ahead of it x the mean epoch seconds / the workers."""
    live = LiveRuns(tmp_path, max_workers=1)
    paced = RunConfig(**{**TINY.to_dict(), "epochs": 4})
    first = live.start_shared([paced], "alice")
    assert live.start_shared([paced], "bob") == first  # the same run: no second copy queued
    other = live.start_shared([RunConfig(**{**paced.to_dict(), "seed": 1})], "bob")[0]
    assert other != first[0] and live.get(other).status == "queued" and live.get(other).position == 1
    live.set_pace(first[0], "alice", 0.5)
    _until(lambda: len(live.get(first[0]).history) >= 1)
    view, ahead = live.get(other), live.get(first[0])
    left = paced.epochs - len(ahead.history) - (ahead.step / ahead.steps_per_epoch if ahead.steps_per_epoch else 0)
    epoch_s = max(ahead.history[0]["seconds"], 0.5)
    assert view.wait_s == pytest.approx(left * epoch_s, rel=0.35)
    assert not live.stop(first[0], "bob")  # joined, not owned
    live.wait(timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first[0], other])
