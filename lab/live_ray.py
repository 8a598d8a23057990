"""Live runs on a Ray cluster: the `backend` of `lab.live.LiveRuns` chosen by $REGLAB_RAY_ADDRESS.

Each run is one Ray task (`num_cpus` CPUs) that calls `lab.train.train` on a worker, writing
into the same runs folder path (a filesystem shared with the workers, as on a local cluster), so
its folder is the one a local run writes. One relay actor per manager (`_Hub`, no CPU) carries
the run's events to the app and the owner's stop and pace to the run: on the worker a thread
sends the buffered events every `RELAY_S` and takes back (stop, pace); in the app the manager's
thread takes the events every `POLL_S`, records them with `_Run.record` (so `LiveView` reads the
same history, points, epoch and step as for a local run) and hands over stop and pace. Stop ends
the run between two steps (status "stopped"); pace slows the worker's steps as locally, the
pause ends within `RELAY_S` of a stop. Queue positions stay the manager's (`REGLAB_WORKERS` runs
are handed to the cluster at a time). `LiveRuns.warm` still trains its epoch in the app's process;
connecting also trains one on a worker (`_prime`), which the first run then reuses.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from lab.live import _Run
from lab.paths import ray_runtime_env

RELAY_S = 0.1  # seconds between two sends of a worker's buffered events
POLL_S = 0.1  # seconds between two looks of the app for a run's events
CONNECT_S = 3.0  # seconds to wait for the cluster's port to answer before giving up


class _Hub:
    """The relay actor: per run id, the events not yet taken, the stop flag and the pace."""

    def __init__(self):
        self.runs: dict[str, dict] = {}

    def open(self, run_id: str, pace: float) -> None:
        self.runs[run_id] = {"events": [], "stop": False, "pace": pace}

    def send(self, run_id: str, events: list[dict]) -> tuple[bool, float]:
        """From the worker: its new events; the stop flag and pace it should follow."""
        run = self.runs[run_id]
        run["events"].extend(events)
        return run["stop"], run["pace"]

    def take(self, run_id: str, stop: bool, pace: float) -> list[dict]:
        """From the app: the owner's stop and pace; the events sent since the last take."""
        run = self.runs[run_id]
        run["stop"], run["pace"] = run["stop"] or stop, pace
        events, run["events"] = run["events"], []
        return events

    def close(self, run_id: str) -> list[dict]:
        """The run's last events; forgets it."""
        return self.runs.pop(run_id, {"events": []})["events"]


class _Relay:
    """On the worker: the run's events, buffered and sent to the hub by a thread, which brings
    back the owner's stop and pace into a local `_Run` whose `progress` paces the steps."""

    def __init__(self, hub, run: _Run):
        self.hub, self.run = hub, run
        self.lock, self.events, self.done = threading.Lock(), [], threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="reglab-relay")
        self.thread.start()

    def progress(self, event: dict) -> float:
        """`on_progress` of `lab.train.train`: buffer the event (the model left out; a step without a
        point replaces the one before it), then wait as a local run would."""
        event = {k: v for k, v in event.items() if k != "model"}
        with self.lock:
            last = self.events[-1] if self.events else None
            if event["event"] == "step" and "point" not in event and last and last["event"] == "step" \
                    and "point" not in last:
                self.events[-1] = event
            else:
                self.events.append(event)
        return self.run.progress(event)

    def _send(self) -> None:
        import ray

        with self.lock:
            events, self.events = self.events, []
        stop, pace = ray.get(self.hub.send.remote(self.run.id, events))
        with self.run.lock:
            self.run.pace = pace
        if stop:
            self.run.stop.set()

    def _loop(self) -> None:
        while not self.done.wait(RELAY_S):
            self._send()

    def close(self) -> None:
        """Stop the thread and send what is left."""
        self.done.set()
        self.thread.join()
        self._send()


def _train_remote(cfg, runs: str, hub, run_id: str, threads: int) -> tuple[str, str | None]:
    """The Ray task: train `cfg` into `runs`, relaying its events through `hub`; (status, error)."""
    import ray
    import torch

    from lab.train import train

    torch.set_num_threads(threads)
    run = _Run(run_id, "", cfg, 0)
    stop, run.pace = ray.get(hub.send.remote(run_id, []))
    if stop:  # stopped while the cluster had no room for it
        return "stopped", "stopped before it started"
    relay = _Relay(hub, run)
    try:
        result = train(cfg, runs=Path(runs), on_progress=relay.progress, stop=run.stop)
        return result.status, result.error
    except Exception as e:  # train already wrote status.json (when the folder exists)
        return "failed", f"{type(e).__name__}: {e}"
    finally:
        relay.close()


def _prime() -> None:
    """A throw-away task that starts a worker and trains one unsaved epoch of the default run in it,
    as `LiveRuns.warm` does here (Ray keeps idle workers of the same environment for the next
    tasks): the first run skips the worker's start, torch's first use and the data set's loading
    (8 s to its first point on a busy 2-core machine without it, 0.2 s with it)."""
    from lab.config import RunConfig
    from lab.train import train

    train(RunConfig(epochs=1))


class RayBackend:
    """Trains `LiveRuns`' runs as Ray tasks on the cluster this process is connected to."""

    def __init__(self, address: str, num_cpus: int = 1):
        import ray

        env = ray_runtime_env()
        self.address, self.num_cpus = address, num_cpus
        self._task = ray.remote(num_cpus=num_cpus)(_train_remote).options(runtime_env=env)
        self._hub_class = ray.remote(num_cpus=0)(_Hub).options(runtime_env=env)
        self._hub = self._hub_class.remote()  # its worker starts now, not with the first run
        self.primed = ray.remote(num_cpus=num_cpus)(_prime).options(runtime_env=env).remote()

    def __call__(self, run: _Run, runs: Path) -> tuple[str, str | None]:
        """Train `run` on the cluster, recording its events as they come; (status, error)."""
        import ray

        hub = self._hub
        with run.lock:
            pace = run.pace
        ray.get(hub.open.remote(run.id, pace))
        try:
            ref = self._task.remote(run.config, str(Path(runs).resolve()), hub, run.id, self.num_cpus)
            while not ray.wait([ref], timeout=POLL_S)[0]:
                with run.lock:
                    pace = run.pace
                for event in ray.get(hub.take.remote(run.id, run.stop.is_set(), pace)):
                    run.record(event)
            status = ray.get(ref)
        finally:
            for event in ray.get(hub.close.remote(run.id)):
                run.record(event)
        return status


def _reachable(address: str) -> str | None:
    """Why "host:port" or "ray://host:port" does not answer within `CONNECT_S`; None if it does
    (or the address is "auto", which Ray resolves itself)."""
    if address == "auto":
        return None
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_S).close()
    except (OSError, ValueError) as e:
        return f"{address} does not answer ({type(e).__name__}: {e})"
    return None


def _why(e: BaseException, seconds: float) -> str:
    """Why `ray.init` failed, in a clause: a cluster with token authentication says which setting it needs."""
    chain = [e]
    while chain[-1].__cause__ is not None and len(chain) < 8:
        chain.append(chain[-1].__cause__)
    if any(type(c).__name__ == "AuthenticationError" for c in chain):
        return ("the cluster asks for a token: set RAY_AUTH_MODE=token here and give its token in "
                "~/.ray/auth_token or RAY_AUTH_TOKEN")
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} after {seconds:.0f} s"


def connect(address: str | None = None, num_cpus: int = 1) -> tuple[RayBackend | None, str | None]:
    """The backend for the Ray cluster at `address` (default: $REGLAB_RAY_ADDRESS), connecting this
    process to it unless it already is; (None, None) when no address is set; (None, a sentence on
    what to do) when Ray is missing or the cluster cannot be reached: the runs then train here."""
    address = address if address is not None else os.environ.get("REGLAB_RAY_ADDRESS", "").strip()
    if not address:
        return None, None
    advice = (f"Could not use the Ray cluster REGLAB_RAY_ADDRESS={address!r} ({{}}); start it (`ray start "
              f"--head`) or fix or unset REGLAB_RAY_ADDRESS, then restart the app. Runs train in this process meanwhile.")
    start = time.monotonic()
    try:
        import ray
    except ImportError:
        return None, advice.format("Ray is not installed: pip install 'ray[default]'")
    if not ray.is_initialized():
        if problem := _reachable(address):
            return None, advice.format(problem)
        try:
            ray.init(address=address, log_to_driver=False)
        except Exception as e:  # ConnectionError, RuntimeError, ...: every failure gets the same advice
            return None, advice.format(_why(e, time.monotonic() - start))
    return RayBackend(address, num_cpus), None
