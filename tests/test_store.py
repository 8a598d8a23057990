"""Run store: names that cannot escape, no overwrite, atomic writes under a simulated crash,
tolerant reading (truncated metrics, corrupt or foreign folders), snapshots, rename/delete."""
from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab import store
from lab.config import RunConfig
from lab.errors import StoreError
from lab.store import (RunWriter, atomic_write, check_run_name, delete_run, disk_bytes, list_runs, load_model_state, load_run,
                       load_snapshot, rename_run, runs_root, snapshot_epochs)


def make_run(root: Path, name: str, epochs: int = 0) -> RunWriter:
    """A run folder written by RunWriter, with `epochs` metric rows (no training)."""
    w = RunWriter(root, RunConfig(name=name))
    for e in range(1, epochs + 1):
        w.epoch({"epoch": e, "train_loss": 1.0 / e, "test_acc": 0.5 + e / 100})
    return w


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/b", ".hidden", "", "..", "-flag", "a\\b", "x" * 101,
                                 "a..b", "tab\tname", None])
def test_bad_run_names_are_refused(bad, runs):
    with pytest.raises(StoreError, match="Invalid run name"):
        check_run_name(bad)
    if isinstance(bad, str) and bad:
        with pytest.raises(StoreError):
            RunWriter(runs, RunConfig(name=bad))
        with pytest.raises(StoreError):
            load_run(bad, runs)
    assert not (runs.parent / "x").exists()


@pytest.mark.parametrize("good", ["run1", "digits-mlp-ce-s0-251125-101010-ab12", "A.b_c-1", "x" * 100])
def test_good_run_names_are_accepted(good, runs):
    assert check_run_name(good) == good
    assert make_run(runs, good).path == runs / good


def test_a_run_is_never_overwritten(runs):
    first = make_run(runs, "r", epochs=2)
    with pytest.raises(StoreError, match="A run named 'r' already exists"):
        RunWriter(runs, RunConfig(name="r", seed=9))
    rec = load_run("r", runs)
    assert rec.config.seed == 0 and len(rec.metrics) == 2 and first.path == rec.path


def test_generated_ids_are_valid_and_distinct(runs):
    a, b = RunWriter(runs, RunConfig()), RunWriter(runs, RunConfig())
    assert a.id != b.id and check_run_name(a.id) == a.id and a.id.startswith("digits-mlp-ce-s0-")


@pytest.mark.parametrize("crash_in", ["fsync", "replace"])
def test_a_crash_mid_write_keeps_the_old_file(runs, monkeypatch, crash_in):
    w = make_run(runs, "crash", epochs=2)
    before = (w.path / "metrics.jsonl").read_bytes()

    def boom(*a, **k):
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, crash_in, boom)
    with pytest.raises(OSError, match="power cut"):
        w.epoch({"epoch": 3, "train_loss": 0.1, "test_acc": 0.9})
    with pytest.raises(OSError):
        w.snapshot(3, {"probe_y": np.arange(3)})
    monkeypatch.undo()
    assert (w.path / "metrics.jsonl").read_bytes() == before
    leftovers = sorted(p.name for p in w.path.rglob("*.tmp"))
    assert len(leftovers) == 2 and all(n.startswith(".") for n in leftovers)
    rec = load_run("crash", runs)
    assert [m["epoch"] for m in rec.metrics] == [1, 2] and rec.snapshot_epochs == []
    assert [r.id for r in list_runs(runs)] == ["crash"]


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "f.json"
    atomic_write(target, b"old")
    atomic_write(target, b"new contents")
    assert target.read_bytes() == b"new contents" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_truncated_last_metrics_line_is_dropped(runs):
    w = make_run(runs, "trunc", epochs=3)
    text = (w.path / "metrics.jsonl").read_text()
    (w.path / "metrics.jsonl").write_text(text[:-15])
    assert [m["epoch"] for m in load_run("trunc", runs).metrics] == [1, 2]


def test_non_finite_metrics_are_stored_as_null(runs):
    w = make_run(runs, "nan")
    w.epoch({"epoch": 1, "train_loss": float("nan"), "task_loss": float("inf"), "test_acc": 0.1})
    line = (w.path / "metrics.jsonl").read_text().strip()
    assert json.loads(line) == {"epoch": 1, "train_loss": None, "task_loss": None, "test_acc": 0.1}


def test_listing_skips_corrupt_and_foreign_folders(runs):
    make_run(runs, "good", epochs=1)
    (runs / "bad-json").mkdir()
    (runs / "bad-json" / "config.json").write_text('{"data": "digits", ')
    (runs / "no-config").mkdir()
    (runs / "no-config" / "notes.txt").write_text("hello")
    (runs / "foreign").mkdir()
    (runs / "foreign" / "config.json").write_text(json.dumps({"learning_rate": 3}))
    (runs / "list-config").mkdir()
    (runs / "list-config" / "config.json").write_text("[1, 2]")
    (runs / "stray.txt").write_text("not a run")
    (runs / ".hidden").mkdir()
    with pytest.warns(UserWarning) as caught:
        listed = list_runs(runs)
    assert [r.id for r in listed] == ["good"] and listed[0].final() == 0.51
    skipped = sorted(str(w.message).split(":")[0] for w in caught)
    assert skipped == ["Skipped bad-json", "Skipped foreign", "Skipped list-config", "Skipped no-config"]
    assert list_runs(runs / "absent") == []


def test_missing_or_garbage_status_reads_as_interrupted(runs):
    w = make_run(runs, "s")
    (w.path / "status.json").write_text("{oops")
    assert load_run("s", runs).state == "interrupted"
    (w.path / "status.json").write_text(json.dumps({"status": "partying"}))
    assert load_run("s", runs).state == "interrupted"
    (w.path / "status.json").unlink()
    assert load_run("s", runs).state == "interrupted"


def test_running_with_a_dead_pid_is_interrupted(runs):
    w = make_run(runs, "dead")
    assert load_run("dead", runs).state == "running"  # this process is alive
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    doc = json.loads((w.path / "status.json").read_text())
    (w.path / "status.json").write_text(json.dumps({**doc, "pid": proc.pid}))
    assert load_run("dead", runs).state == "interrupted"
    (w.path / "status.json").write_text(json.dumps({**doc, "pid": proc.pid, "host": socket.gethostname() + "-x"}))
    assert load_run("dead", runs).state == "running"  # another machine's run is trusted


@pytest.mark.parametrize("pid", [None, 0, -1])
def test_running_without_a_valid_pid_is_interrupted(runs, pid):
    w = make_run(runs, "nopid")
    doc = {"status": "running", "host": socket.gethostname(), **({} if pid is None else {"pid": pid})}
    (w.path / "status.json").write_text(json.dumps(doc))
    assert load_run("nopid", runs).state == "interrupted"


def test_snapshot_round_trip_as_float32(runs):
    w = make_run(runs, "snap")
    h = np.array([[0.5, -1.25], [3.0, 1e-3]], np.float16)
    w.snapshot(0, {"probe_y": np.array([1, 0]), "hidden_0": h})
    w.snapshot(12, {"probe_y": np.array([1, 0]), "hidden_0": h * 2})
    assert snapshot_epochs(w.path) == [0, 12] == load_run("snap", runs).snapshot_epochs
    snap = load_snapshot(load_run("snap", runs), 12)
    assert snap["hidden_0"].dtype == np.float32 and snap["probe_y"].dtype == np.int64
    np.testing.assert_array_equal(snap["hidden_0"], (h * 2).astype(np.float32))
    np.testing.assert_array_equal(load_snapshot(w.path, 0)["probe_y"], [1, 0])


def test_missing_non_npz_or_pickled_snapshots_raise_store_error(runs):
    w = make_run(runs, "bad-snap")
    with pytest.raises(StoreError, match="no snapshot for epoch 4"):
        load_snapshot(w.path, 4)
    (w.path / "snapshots" / "epoch_001.npz").write_bytes(b"not an npz at all")
    with pytest.raises(StoreError, match="snapshot for epoch 1 of run bad-snap is corrupt"):
        load_snapshot(w.path, 1)
    np.savez(w.path / "snapshots" / "epoch_002.npz", evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(StoreError, match="is corrupt"):
        load_snapshot(w.path, 2)


@pytest.mark.parametrize("damage", [lambda b: b[:300], lambda b: b[:200] + bytes(100) + b[300:]],
                         ids=["truncated", "overwritten"])
def test_damaged_npz_raises_store_error(runs, damage):
    w = make_run(runs, "bad-zip")
    w.snapshot(3, {"probe_y": np.arange(1000)})
    path = w.path / "snapshots" / "epoch_003.npz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(StoreError, match="snapshot for epoch 3 of run bad-zip is corrupt"):
        load_snapshot(w.path, 3)


class _Exploit:
    def __reduce__(self):
        return os.system, ("exit 0",)


def test_model_state_loads_weights_only(runs):
    import torch

    w = make_run(runs, "model")
    w.model_state({"w": torch.arange(6.0).view(2, 3)})
    assert torch.equal(load_model_state(load_run("model", runs))["w"], torch.arange(6.0).view(2, 3))
    (w.path / "model.pt").write_bytes(pickle.dumps({"w": _Exploit()}, protocol=2))
    with pytest.raises(StoreError, match="model file of run model is unreadable"):
        load_model_state(load_run("model", runs))


def test_rename_and_delete(runs):
    make_run(runs, "old", epochs=1).status("done")
    make_run(runs, "taken")
    assert rename_run(runs, "old", "new") == runs / "new"
    rec = load_run("new", runs)
    assert rec.config.name == "new" and len(rec.metrics) == 1 and not (runs / "old").exists()
    with pytest.raises(StoreError, match="already exists"):
        rename_run(runs, "new", "taken")
    with pytest.raises(StoreError, match="Invalid run name"):
        rename_run(runs, "new", "../outside")
    delete_run(runs, "new")
    assert not (runs / "new").exists() and (runs / "taken").exists()
    (runs / "not-a-run").mkdir()
    with pytest.raises(StoreError):
        delete_run(runs, "not-a-run")
    assert (runs / "not-a-run").exists()
    with pytest.raises(StoreError, match="Invalid run name"):
        delete_run(runs, "..")


def test_runs_root_respects_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("REGLAB_RUNS", raising=False)
    assert runs_root() == Path("runs")
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path / "env"))
    assert runs_root() == tmp_path / "env"
    assert runs_root(tmp_path / "arg") == tmp_path / "arg"


def test_a_trained_run_reads_back_complete(tiny_run):
    assert tiny_run.state == "done" and tiny_run.status["epochs_done"] == 2
    assert [m["epoch"] for m in tiny_run.metrics] == [1, 2] and tiny_run.snapshot_epochs == [0, 1, 2]
    assert tiny_run.config.model_params["widths"] == [16, 8]  # JSON has lists
    assert sorted(p.name for p in tiny_run.path.iterdir()) == [
        ".lock", "config.json", "metrics.jsonl", "model.pt", "probe.npz", "snapshots", "status.json"]
    assert store.load_run(tiny_run.id, tiny_run.path.parent).final() == tiny_run.metrics[-1]["test_acc"]


def test_probe_set_is_saved_once_with_inputs(tiny_run):
    probe = store.load_probe(tiny_run)
    assert probe["x"].shape == (len(probe["y"]), 1, 8, 8)
    np.testing.assert_array_equal(probe["y"], store.load_snapshot(tiny_run, 1)["probe_y"])


@pytest.mark.parametrize("name", ["abc\n", "abc\r", "a b", "\nabc", "../abc", ".abc", "-abc", "a" * 101])
def test_a_run_name_must_be_the_whole_string(name):
    with pytest.raises(StoreError, match="Invalid run name"):
        check_run_name(name)


def test_a_run_whose_writer_is_training_is_neither_renamed_nor_deleted(runs):
    w = make_run(runs, "held", epochs=1)  # status running, this process alive, the writer's lock held
    for act in (lambda: rename_run(runs, "held", "moved"), lambda: delete_run(runs, "held")):
        with pytest.raises(StoreError, match=r"^Run held is in use \(training, or being renamed or deleted\); stop"):
            act()
    assert load_run("held", runs).metrics and not (runs / "moved").exists()
    atomic_write(w.path / "status.json", json.dumps({"status": "running", "pid": os.getpid(),
                                                     "host": socket.gethostname()}).encode())
    w._lock, fd = None, w._lock
    os.close(fd)  # no lock (an older writer), but the status names a live process: still refused
    with pytest.raises(StoreError, match=rf"^Run held is being trained by process {os.getpid()} on "):
        delete_run(runs, "held")
    w.status("stopped")
    assert rename_run(runs, "held", "moved") == runs / "moved" and load_run("moved", runs).state == "stopped"
    training = make_run(runs, "study-point")
    with pytest.raises(StoreError, match="^Run study-point is in use"):
        store.set_aside(runs, "study-point")  # a study never moves a run another process trains
    training.status("done")
    assert store.set_aside(runs, "study-point").parent == runs / ".replaced"


def test_a_run_another_process_trains_is_refused_until_it_ends(runs):
    import signal
    import time

    p = subprocess.Popen([sys.executable, "-m", "lab", "train", "--epochs", "1000", "--train-size", "100",
                          "--widths", "8", "--probe-size", "20", "--runs", str(runs), "--name", "busy"],
                         cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 60
        while not (runs / "busy" / "metrics.jsonl").exists():
            assert p.poll() is None and time.monotonic() < end, p.stderr.read()
            time.sleep(0.05)
        with pytest.raises(StoreError, match="^Run busy is in use"):
            rename_run(runs, "busy", "mine")
        with pytest.raises(StoreError, match="^Run busy is in use"):
            delete_run(runs, "busy")
        assert load_run("busy", runs).state == "running" and not (runs / "mine").exists()
    finally:
        p.send_signal(signal.SIGINT)  # the CLI stops the run cleanly
        p.wait(timeout=60)
    assert load_run("busy", runs).state == "stopped"
    delete_run(runs, "busy")
    assert not (runs / "busy").exists()


def test_atomic_write_flushes_the_file_then_the_folder_after_the_rename(tmp_path, monkeypatch):
    import stat

    from lab.store import fsio

    synced, real = [], os.fsync

    def fsync(fd):
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), (tmp_path / "f.json").exists()))
        real(fd)

    monkeypatch.setattr(fsio.os, "fsync", fsync)
    atomic_write(tmp_path / "f.json", b"{}")
    assert synced == [(False, False), (True, True)]  # the data before the rename, the folder after it


def test_snapshots_are_thinned_to_the_runs_disk_budget_keeping_the_first_and_the_latest(runs):
    w = RunWriter(runs, RunConfig(name="long"), snapshot_budget=10_000)
    one = {"x": np.zeros(400, np.float32)}  # about 1.8 kB per file
    for epoch in range(41):
        w.snapshot(epoch, one)
        kept = snapshot_epochs(w.path)
        assert kept[0] == 0 and kept[-1] == epoch
        assert sum((w.path / "snapshots" / f"epoch_{e:03d}.npz").stat().st_size for e in kept) <= 10_000
    assert kept == [0, 16, 32, 40] and w.stride == 16  # 5 files of about 1.9 kB would not fit
    files = [*(w.path / "snapshots").iterdir(), w.path / "config.json", w.path / "status.json"]
    assert disk_bytes(w.path) == sum(f.stat().st_size for f in files)
    w.status("done")


def test_a_new_run_folder_appears_complete_and_a_taken_name_leaves_nothing_behind(tmp_path, monkeypatch):
    """The folder is built under a hidden name and renamed into place, so a run list polled while
    a run starts never meets a folder without its config and status."""
    import warnings

    cfg, seen = RunConfig(name="starting"), []
    write = store.atomic_write

    def listing_first(path, data):  # a run list polled at each file the new run writes
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen.append(([r.id for r in store.list_runs(tmp_path)], [str(w.message) for w in caught]))
        write(path, data)

    monkeypatch.setattr(store, "atomic_write", listing_first)
    writer = RunWriter(tmp_path, cfg)
    monkeypatch.undo()
    assert seen and all(ids == [] and not msgs for ids, msgs in seen), seen  # nothing half-written was listed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["starting"] and writer.path == tmp_path / "starting"
    assert {"config.json", "status.json", "snapshots"} <= {p.name for p in writer.path.iterdir()}
    assert load_run(writer.path).state == "running"
    with pytest.raises(StoreError, match="A run named 'starting' already exists"):
        RunWriter(tmp_path, cfg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["starting"]  # no hidden half-built folder left


def test_json_bytes_writes_numpy_scalars_as_numbers_and_refuses_arrays():
    from lab.store.fsio import json_bytes

    assert json.loads(json_bytes({"a": np.float32(1.5), "b": np.int64(3), "c": (1, 2)})) == {"a": 1.5, "b": 3, "c": [1, 2]}
    with pytest.raises(TypeError, match="ndarray"):
        json_bytes({"x": np.zeros(3)})
