"""LiveRuns on a Ray cluster (lab.live_ray): a head started here with `ray start --head`, reached
through $REGLAB_RAY_ADDRESS; runs stream, pace, stop and end with the folder a local run writes."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from lab.config import RunConfig
from lab.live import LiveRuns
from lab.live_ray import RayBackend, connect
from lab.store import load_run

CFG = RunConfig(data="digits", train_size=200, model_params={"widths": (16,)}, batch_size=32, probe_size=50,
                epochs=3, seed=3)
LONG = RunConfig(**{**CFG.to_dict(), "epochs": 1000})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(cond, timeout=120.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_an_unreachable_cluster_gives_one_line_on_what_to_do_and_no_backend():
    port = _free_port()  # nothing listens there
    backend, note = connect(f"127.0.0.1:{port}")
    assert backend is None and "\n" not in note
    assert f"REGLAB_RAY_ADDRESS='127.0.0.1:{port}'" in note and "ray start" in note and "in this process" in note
    assert connect("") == (None, None)


@pytest.fixture(scope="module")
def backend():
    """A 2-CPU head of its own (own temp folder, token authentication off), connected to through
    $REGLAB_RAY_ADDRESS; the head and all it started end with its `ray start --block` process."""
    import ray

    port, temp = _free_port(), tempfile.mkdtemp(prefix="rl", dir="/tmp")  # short: Ray's socket paths
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(["ray", "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("REGLAB_RAY_ADDRESS", f"127.0.0.1:{port}")
        try:
            _until(lambda: head.poll() is not None or _open(port), timeout=60)
            assert head.poll() is None, "ray start --head ended"
            found, note = connect()
            assert note is None and isinstance(found, RayBackend)
            yield found
        finally:
            ray.shutdown()
            head.send_signal(signal.SIGTERM)
            head.wait(timeout=60)
            shutil.rmtree(temp, ignore_errors=True)


def _open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_ray_run_streams_its_curves_and_ends_with_the_folder_and_metrics_of_a_local_run(backend, tmp_path):
    local = LiveRuns(tmp_path / "local")
    here = local.start(CFG, "me")
    live = LiveRuns(tmp_path / "ray", backend=backend)
    rid = live.start(CFG, "me", pace=1.0)  # a second per epoch: slow enough to watch it grow
    seen, t0 = [], None
    while (view := live.get(rid)) is not None:
        if view.status == "running" and view.step:
            t0 = t0 or time.monotonic()
            seen.append((len(view.history), len(view.points), view.epoch, view.step))
        time.sleep(0.02)
    elapsed = time.monotonic() - t0
    live.wait(timeout=120)
    local.wait(timeout=120)
    assert {h for h, *_ in seen} - {3} == {0, 1, 2}  # epochs arrived one by one while it ran (the 3rd may
    # arrive before the run's end does)
    assert seen[0][1] >= 1 and seen[-1][1] > seen[0][1]  # so did the curve points
    assert {e for *_, e, _ in seen} == {1, 2, 3} and max(s for *_, s in seen) == 6  # 200 // 32 steps an epoch
    assert elapsed > 2.0  # paced: 3 epochs at 1 s each, less the first steps' share
    ray_run, local_run = load_run(rid, tmp_path / "ray"), load_run(here, tmp_path / "local")
    assert (ray_run.state, local_run.state) == ("done", "done")
    assert _files(tmp_path / "ray" / rid) == _files(tmp_path / "local" / here) != []
    assert [m["test_acc"] for m in ray_run.metrics] == [m["test_acc"] for m in local_run.metrics]
    assert [m["train_loss"] for m in ray_run.metrics] == pytest.approx([m["train_loss"] for m in local_run.metrics])
    assert all(m["seconds"] < 1.0 for m in ray_run.metrics)  # the paced waits are not training time


def test_a_ray_run_slows_to_a_new_pace_and_stops_between_two_steps(backend, tmp_path):
    live = LiveRuns(tmp_path, backend=backend)
    rid = live.start(LONG, "me")
    _until(lambda: len(live.get(rid).history) >= 2)
    assert live.set_pace(rid, "me", 6.0)  # 1 s a step from the next step on
    time.sleep(1.0)  # the worker hears of it within a relay round
    before = len(live.get(rid).history)
    time.sleep(2.0)
    assert len(live.get(rid).history) - before <= 1
    assert live.get(rid).pace == 6.0 and live.get(rid).status == "running"
    asked = time.monotonic()
    assert not live.stop(rid, "someone else") and live.stop(rid, "me")
    live.wait(timeout=60)
    assert time.monotonic() - asked < 5.0  # within a step's paced wait, not the epoch's 6 s
    rec = load_run(rid, tmp_path)
    assert rec.state == "stopped" and 2 <= len(rec.metrics) < LONG.epochs
    assert live.get(rid) is None  # its folder holds everything, as for a local run
