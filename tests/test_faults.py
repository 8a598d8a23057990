"""Faults lose nothing: SIGKILL at random moments, divergence, and exceptions.

Training processes come from a forkserver that imported `lab` once, so each kill cycle costs
a fork, not a Python start-up; each child runs the real CLI (`lab.cli.main`).
"""
import multiprocessing as mp
import os
import random
import signal
import time

import numpy as np
import pytest

from lab.store import list_runs, load_run, load_snapshot, snapshot_epochs

KILL_CYCLES = 24


@pytest.fixture(scope="module")
def ctx():
    c = mp.get_context("forkserver")
    c.set_forkserver_preload(["lab.cli", "lab.train", "sklearn.datasets", "torch._dynamo"])
    return c


def test_sigkill_at_random_moments_keeps_every_completed_epoch(tmp_path, ctx):
    from lab.cli import main

    rng = random.Random(0)
    deadline = time.monotonic() + 400
    survived = 0
    for cycle in range(KILL_CYCLES):
        name = f"kill{cycle:02d}"
        argv = ["train", "--epochs", "400", "--train-size", "400", "--widths", "64", "--batch-size", "32",
                "--runs", str(tmp_path), "--name", name]
        p = ctx.Process(target=main, args=(argv,))
        p.start()
        path = tmp_path / name
        while not (path / "status.json").exists() and p.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # the run exists; now kill it at a random moment of its training
        time.sleep(rng.uniform(0.0, 2.5))
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        assert p.exitcode == -signal.SIGKILL, "the run ended before it was killed; raise --epochs"
        run = load_run(path)
        assert run.state == "interrupted"
        epochs = snapshot_epochs(path)
        assert [m["epoch"] for m in run.metrics] == list(range(1, len(run.metrics) + 1))
        assert set(m["epoch"] for m in run.metrics) <= set(epochs)  # snapshot is written before metrics
        for e in epochs:
            snap = load_snapshot(run, e)
            assert np.isfinite(snap["hidden_0"]).all()
        survived += 1
        assert time.monotonic() < deadline, "kill cycles took too long"
    runs = list_runs(tmp_path)
    assert survived == KILL_CYCLES and len(runs) == KILL_CYCLES
    assert {r.state for r in runs} == {"interrupted"}
    assert sum(len(r.metrics) > 0 for r in runs) >= KILL_CYCLES // 4  # kills hit training, not just set-up
