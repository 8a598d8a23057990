"""Live runs: training in a bounded pool of background threads, watched by the app.

One `LiveRuns` per runs folder and process. `start(cfg, owner)` validates the config,
fixes the run id at once (the run folder will carry that name, so a URL can point at it)
and queues the run; at most `max_workers` runs train at the same time (the default, 2,
matches a 2-core laptop) and the others wait with status "queued", a visible queue
position and an estimate of the wait (`LiveView.wait_s`). `start_shared` gives a config that a
live run already trains that run's id instead of a second, identical run (a class pressing the
same lesson). Each live run keeps its status, progress and per-epoch history under its own
lock, with the live curve points of the epoch in progress; readers get an immutable
`LiveView`. A run can be paced for a class to watch (`start(..., pace=)`, `set_pace`): each
step then waits for its share of the chosen seconds per epoch. Only the owner (an opaque token, one per app
session) may stop a run; anyone may watch it. A run whose folder is complete is evicted
once it ends (its folder is then the record); a run that ended without a folder (stopped
while queued, or failed before its first write) stays in memory with its reason.
This module never touches the UI: the worker threads only call `lab.train.train`, or hand the
run to a `backend` that trains it elsewhere and relays its events (`lab.live_ray`: a Ray cluster).
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from lab.config import RunConfig, settings_key, validate
from lab.errors import LabError, StoreError
from lab.store import check_run_name, new_run_id

LIVE = ("queued", "running")


@dataclass(frozen=True)
class LiveView:
    """A consistent copy of one live run's state, taken under its lock."""

    id: str
    owner: str
    config: RunConfig
    status: str  # queued, running, done, stopped, diverged or failed
    epoch: int  # epoch in progress (1-based; 0 before the first step)
    step: int  # step within that epoch
    steps_per_epoch: int  # known after the first step, else 0
    history: tuple[dict, ...]
    error: str | None
    position: int | None  # 1-based place in the queue while queued
    points: tuple[dict, ...] = ()  # live curve points within epochs (lab.train.point), oldest first
    pace: float = 0.0  # seconds per epoch it is slowed to (0: full speed)
    wait_s: float | None = None  # while queued: the estimated seconds until it starts (None: no epoch timed yet)

    @property
    def active(self) -> bool:
        """Queued or running: the run has not ended yet."""
        return self.status in LIVE

    @property
    def fraction(self) -> float:
        """Share of the run's steps done, in [0, 1]."""
        done = len(self.history)
        if self.steps_per_epoch and self.epoch > done:
            done += min(self.step / self.steps_per_epoch, 1.0)
        return min(done / self.config.epochs, 1.0)


@dataclass
class _Run:
    id: str
    owner: str
    config: RunConfig
    order: int
    status: str = "queued"
    epoch: int = 0
    step: int = 0
    steps_per_epoch: int = 0
    history: list[dict] = field(default_factory=list)
    points: list[dict] = field(default_factory=list)
    pace: float = 0.0
    error: str | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    future: Future | None = None
    epoch_began: float | None = None  # time.monotonic() when the epoch in progress began (for the pace)

    def record(self, event: dict, now: float | None = None) -> float:
        """Record a training event (at `now`, default: now); the seconds this step should still
        wait at the set pace."""
        now = time.monotonic() if now is None else now
        with self.lock:
            if event["event"] != "step":
                self.history.append(dict(event["record"]))
                self.epoch_began = now
                return 0.0
            self.epoch, self.step, self.steps_per_epoch = event["epoch"], event["step"], event["steps"]
            if "point" in event:
                self.points.append(dict(event["point"]))
            began = self.epoch_began = self.epoch_began or now
            return began + self.pace * self.step / self.steps_per_epoch - now

    def progress(self, event: dict) -> float:
        """`record` the event, then wait (stop ends the wait) until this step's share of the epoch's
        seconds at the set pace has passed; the seconds waited."""
        now = time.monotonic()
        wait = self.record(event, now)
        if wait <= 0:
            return 0.0
        self.stop.wait(wait)
        return time.monotonic() - now


Backend = Callable[[_Run, Path], tuple[str, str | None]]  # trains a run elsewhere: (status, error)


class LiveRuns:
    """The process-wide manager of background runs writing into `runs`."""

    def __init__(self, runs: Path, max_workers: int = 2, keep_ended: int = 50, torch_threads: int | None = None,
                 max_per_owner: int = 8, max_active: int = 16, backend: Backend | None = None):
        """At most `max_per_owner` runs of one owner and `max_active` in all are queued or training
        at a time. `torch_threads` (default: cores // max_workers, at least 1) is set process-wide:
        two runs with 2 intra-op threads each on 2 cores made a step 20x slower (OpenMP threads
        waiting on each other), one thread each keeps them independent; it is set by the first
        training thread, so that making the manager does not import torch (seconds). `backend`
        (default: this process) trains a run elsewhere, e.g. on a Ray cluster (`lab.live_ray`): it
        records the run's events with `_Run.record`, honours its `stop` and `pace`, and returns
        (status, error) once the run has ended; queue, caps and views stay as here."""
        self.runs = Path(runs)
        self.max_workers, self.max_per_owner, self.max_active = max_workers, max_per_owner, max_active
        self.torch_threads = torch_threads or max(1, (os.cpu_count() or 1) // max_workers)
        self.keep_ended = keep_ended  # ended runs without a folder kept for their message
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="reglab-train")
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._order = 0
        self._epoch_seconds: list[float] = []  # epochs timed in ended runs (the queue's wait estimate)
        self.backend = backend

    def warm(self, cfg: RunConfig | None = None, wait: Callable[[], object] | None = None) -> Future:
        """Train one throw-away epoch of `cfg` (default: the default run), unsaved, in a background
        thread (after `wait()` returns, when given), so the first run pressed after start-up pays
        neither the data set's loading nor torch's first-use set-up (measured: 2.4 s before the
        first step, then 0.03 s). The future holds the `lab.train.Result` (or the error)."""
        future: Future = Future()

        def work() -> None:
            try:
                if wait is not None:
                    wait()
                train = self._trainer()
                future.set_result(train(replace(validate(cfg or RunConfig()), epochs=1)))
            except BaseException as e:  # reported through the future, never lost in the thread
                future.set_exception(e)

        threading.Thread(target=work, daemon=True, name="reglab-warm").start()
        return future

    def start(self, cfg: RunConfig, owner: str, pace: float = 0.0) -> str:
        """Validate `cfg` (ConfigError on a bad value, DataError on missing data files), queue it,
        and return its run id; LabError when the owner or the server has no room for it. `pace`:
        seconds per epoch to slow it to, for a class to watch (0: full speed)."""
        return self.start_all([cfg], owner, pace)[0]

    def start_all(self, configs: list[RunConfig], owner: str, pace: float = 0.0) -> list[str]:
        """Validate every config, then queue all of them or none (names taken, or no room under
        the caps, refuse the whole list); their run ids in order, each at `pace`."""
        from lab.data import check_files

        named = []
        for cfg in configs:
            cfg = validate(cfg)  # first: a plug-in spec FILE.py:CLASS becomes its name, which the run id carries
            cfg = replace(cfg, name=check_run_name(cfg.name) if cfg.name else new_run_id(cfg))
            check_files(cfg.data, cfg.data_params)  # refused now, not as a failed run later
            named.append(cfg)
        with self._lock:
            active = [r for r in self._runs.values() if r.status in LIVE]
            mine = sum(r.owner == owner for r in active)
            if mine + len(named) > self.max_per_owner:
                raise LabError(f"You may have {self.max_per_owner} runs queued or training at a time (you have "
                               f"{mine}, asked for {len(named)} more); stop some or wait until they end.")
            if len(active) + len(named) > self.max_active:
                raise LabError(f"The server holds at most {self.max_active} runs queued or training (it has "
                               f"{len(active)}, asked for {len(named)} more); wait until some end.")
            names = [c.name for c in named]
            for i, name in enumerate(names):
                if name in self._runs or name in names[:i] or (self.runs / name).exists():
                    raise StoreError(f"A run named {name!r} already exists; choose another name.")
            for cfg in named:
                self._order += 1
                run = _Run(cfg.name, owner, cfg, self._order, pace=pace)
                self._runs[cfg.name] = run
                run.future = self._pool.submit(self._work, run)
        return [c.name for c in named]

    def start_shared(self, configs: list[RunConfig], owner: str) -> list[str]:
        """`start_all` for the configs no live run already trains: a config whose settings
        (`settings_key`: all but the name and device) a queued or running run has, of any owner, gets that run's id instead
        of a second, identical run (a class pressing the same lesson shares one pair of runs: the
        same settings and seed give the same run). Only the starting owner may stop a shared run."""
        ids: list[str | None] = [self._live_like(validate(cfg)) for cfg in configs]
        new = self.start_all([c for c, i in zip(configs, ids) if i is None], owner) if None in ids else []
        return [i if i is not None else new.pop(0) for i in ids]

    def _live_like(self, cfg: RunConfig) -> str | None:
        want = settings_key(cfg)
        with self._lock:
            return next((r.id for r in sorted(self._runs.values(), key=lambda r: r.order)
                         if r.status in LIVE and settings_key(r.config) == want), None)

    def _trainer(self):
        """`lab.train.train`, imported (with torch) in a training thread, torch's threads set."""
        import torch

        from lab.train import train

        torch.set_num_threads(self.torch_threads)
        return train

    def _here(self, run: _Run, runs: Path) -> tuple[str, str | None]:
        """The local backend: `lab.train.train` in this thread."""
        result = self._trainer()(run.config, runs=runs, on_progress=run.progress, stop=run.stop)
        return result.status, result.error

    def _work(self, run: _Run) -> None:
        if self.backend is None:
            self._trainer()  # torch imported before the run says "running"
        with run.lock:
            cancelled = run.stop.is_set()
            run.status, run.error = ("stopped", "stopped before it started") if cancelled else ("running", None)
        if cancelled:
            return self._ended(run)
        try:
            status, error = (self.backend or self._here)(run, self.runs)
            with run.lock:
                run.status, run.error = status, error
        except Exception as e:  # train already wrote status.json (when the folder exists)
            with run.lock:
                run.status, run.error = "failed", f"{type(e).__name__}: {e}"
        self._ended(run)

    def _ended(self, run: _Run) -> None:
        """Drop the run from memory when its folder holds everything; else keep its reason. Its
        epochs' seconds join those the queue's wait estimate is made of."""
        with run.lock:
            seconds = [max(r["seconds"], run.pace) for r in run.history if "seconds" in r]
        with self._lock:
            self._epoch_seconds = (self._epoch_seconds + seconds)[-200:]
            if (self.runs / run.id / "status.json").exists():
                self._runs.pop(run.id, None)
            ended = sorted((r for r in self._runs.values() if r.status not in LIVE), key=lambda r: r.order)
            for old in ended[: max(len(ended) - self.keep_ended, 0)]:
                self._runs.pop(old.id, None)

    def stop(self, run_id: str, owner: str) -> bool:
        """Ask a run to stop (between two steps); only its owner may. True if it was live."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None or run.owner != owner:
            return False
        with run.lock:
            if run.status not in LIVE:
                return False
            run.stop.set()
        return True

    def set_pace(self, run_id: str, owner: str, pace: float) -> bool:
        """Slow a live run to `pace` seconds per epoch (0: full speed) from its next step; only its
        owner may. True if it was live."""
        with self._lock:
            run = self._runs.get(run_id)
        if run is None or run.owner != owner:
            return False
        with run.lock:
            run.pace = max(0.0, float(pace))
            return run.status in LIVE

    def live(self) -> int:
        """Runs queued or training now (a background warm-up waits for none)."""
        with self._lock:
            return sum(r.status in LIVE for r in self._runs.values())

    def get(self, run_id: str) -> LiveView | None:
        """The run's state if it is in memory (queued, training, or ended without a folder)."""
        with self._lock:
            run = self._runs.get(run_id)
            live = sorted((r for r in self._runs.values() if r.status in LIVE), key=lambda r: r.order)
        if run is None:
            return None
        queued = [r.id for r in live if r.status == "queued"]
        position = queued.index(run.id) + 1 if run.id in queued else None
        wait = self._wait_s(live[: live.index(run)]) if position is not None else None
        with run.lock:
            return LiveView(run.id, run.owner, run.config, run.status, run.epoch, run.step,
                            run.steps_per_epoch, tuple(run.history), run.error,
                            position if run.status == "queued" else None, tuple(run.points), run.pace, wait)

    def _wait_s(self, ahead: list[_Run]) -> float | None:
        """Seconds until a queued run starts: the epochs still to train by the runs ahead of it in the
        queue (those training, and queued before it), times the mean epoch seconds measured so far in
        this process, shared by `max_workers`; None before any epoch was timed."""
        with self._lock:
            timed = list(self._epoch_seconds)
        left = 0.0
        for r in ahead:
            with r.lock:
                timed += [max(h["seconds"], r.pace) for h in r.history if "seconds" in h]
                left += max(r.config.epochs - len(r.history) - (r.step / r.steps_per_epoch if r.steps_per_epoch else 0), 0)
        return left * (sum(timed) / len(timed)) / self.max_workers if timed else None

    def runs_of(self, owner: str) -> list[LiveView]:
        """This owner's runs still in memory, oldest first."""
        with self._lock:
            ids = [r.id for r in sorted(self._runs.values(), key=lambda r: r.order) if r.owner == owner]
        return [v for v in map(self.get, ids) if v is not None]

    def wait(self, timeout: float | None = None) -> None:
        """Block until every run submitted so far has ended (tests, benchmarks, shutdown)."""
        with self._lock:
            futures = [r.future for r in self._runs.values() if r.future is not None]
        for f in futures:
            f.result(timeout=timeout)
