"""Training (or reusing) and measuring the runs of a study grid, in this process or as Ray tasks.

A run folder of a grid point with status done, diverged or collapsed and the same configuration
is reused (a `done` run judged again by today's rule, `lab.train.rejudge`); any other (interrupted, failed, stopped, or a stale configuration) is set aside by
`lab.store.set_aside` (into `<runs>/.replaced/`) and trained again.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np

from lab.config import RunConfig, settings_key
from lab.paths import ray_runtime_env
from lab.errors import StoreError
from lab.study.spec import Chosen, Study, expand, label
from lab.study.summary import Column, columns, last

FINAL = ("done", "diverged", "collapsed")  # a run in one of these states is a result and is reused


def measure_run(run, cols: dict[str, Column]) -> dict[str, list[float]]:
    """The measured columns at every snapshot epoch of a run (record or folder): one
    `quantity_series` call per declared quantity, by the first method that declares it."""
    from lab.readout.quantities import quantity_series

    out: dict[str, list[float]] = {}
    for owner in dict.fromkeys(c.owners[0] for c in cols.values()):
        series = quantity_series(run, owner)
        out.update({k: [float(v) for v in series[k]] for k, c in cols.items() if c.owners[0] == owner})
    return {k: out[k] for k in cols}


def reusable(root: Path, cfg: RunConfig):
    """The finished run of this grid point, or None after setting any other folder of that name aside."""
    from lab.store import load_run, set_aside

    if not (root / cfg.name).exists():
        return None
    try:
        rec = load_run(root / cfg.name)
    except StoreError:
        rec = None
    if rec is not None and rec.state == "running":
        raise StoreError(f"Run {cfg.name} is being trained by process {rec.status.get('pid')}; "
                         f"wait for it or stop it, then run the study again.")
    if rec is not None and rec.state in FINAL and settings_key(rec.config) == settings_key(cfg):
        from lab.train import rejudge

        return rejudge(rec)  # a run from before today's rules is judged by them
    set_aside(root, cfg.name)
    return None


def execute(cfg: RunConfig, root: str, cols: dict[str, Column], on_progress: Callable | None = None) -> dict:
    """Train one grid point unless a finished run of it exists, then measure it: the same function
    runs in-process (local backend) and as a Ray task, so both give the same results."""
    from lab.readout.geometry import final_nc1
    from lab.store import load_run
    from lab.train import train

    rec = reusable(Path(root), cfg)
    trained = rec is None
    if trained:
        rec = load_run(train(cfg, runs=Path(root), on_progress=on_progress).path)
    return {"run": rec.id, "status": rec.state, "trained": trained,
            "epochs": [m["epoch"] for m in rec.metrics], "test_acc": [m.get("test_acc") for m in rec.metrics],
            "train_acc": [m.get("train_acc") for m in rec.metrics], "val_acc": [m.get("val_acc") for m in rec.metrics],
            "train_seconds": float(sum(m.get("seconds") or 0.0 for m in rec.metrics)),
            "quantities": measure_run(rec, cols), "nc1": final_nc1(rec)}


def _local(jobs: list[RunConfig], root: Path, cols: dict[str, Column], bar) -> list[dict]:
    results = []
    for cfg in jobs:
        bar.set_description(cfg.name.split("-", 2)[-1])

        def progress(ev: dict, cfg: RunConfig = cfg) -> None:
            if ev["event"] == "epoch":
                bar.set_postfix(epoch=f"{ev['record']['epoch']}/{cfg.epochs}", test_acc=f"{ev['record']['test_acc']:.3f}")

        results.append(execute(cfg, str(root), cols, progress))
        bar.update(1)
    return results


def _ray(jobs: list[RunConfig], root: Path, cols: dict[str, Column], bar, address: str | None,
         num_cpus: int | None, gpus: float) -> list[dict]:
    """Each run is one Ray task (1 CPU, `gpus` GPUs: Ray hides the GPUs from a task that asks for
    none) on an existing instance, the cluster at `address`, or a local instance started here;
    the runs folder must be shared with the workers (same path)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, num_gpus=gpus)(execute).options(runtime_env=ray_runtime_env())
        refs = {task.remote(cfg, str(root.resolve()), cols): i for i, cfg in enumerate(jobs)}
        results: list[dict | None] = [None] * len(jobs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results[refs[done[0]]] = ray.get(done[0])
            bar.update(1)
        return results
    finally:
        if started:
            ray.shutdown()


def choose(results: list[dict]) -> Chosen:
    """Per (data, model, method): the variant of best mean final validation accuracy over seeds
    (the first listed wins a tie); `results` are selection-phase results of `run_study`."""
    from lab.stats import best_by

    out: Chosen = {}
    for d, m in dict.fromkeys((r["data"], r["model"]) for r in results):
        mine = [r for r in results if (r["data"], r["model"]) == (d, m)]
        names = {r["variant"]: r for r in mine}
        means = {name: float(np.nanmean([last(r["val_acc"]) for r in mine if r["variant"] == name])) for name in names}
        best = best_by(means, {name: r["method"] for name, r in names.items()})
        out.update({(d, m, method): names[name]["variant_spec"] for method, name in best.items()})
    return out


def _phase(study: Study, phase: str, grid: list, root: Path, backend: str, cols: dict[str, Column],
           address: str | None, num_cpus: int | None, gpus: float) -> list[dict]:
    from tqdm import tqdm

    with tqdm(total=len(grid), desc=f"study {study.name} ({phase})", unit="run", file=sys.stderr) as bar:
        jobs = [cfg for cfg, _ in grid]
        results = (_local(jobs, root, cols, bar) if backend == "local"
                   else _ray(jobs, root, cols, bar, address, num_cpus, gpus))
    return [{**r, "config": cfg, "data": cfg.data_label, "model": cfg.model, "method": cfg.method, "variant": label(cfg, v),
             "variant_spec": v, "phase": phase} for (cfg, v), r in zip(grid, results)]


def run_study(study: Study, root: Path, backend: str = "local", device: str = "auto",
              address: str | None = None, num_cpus: int | None = None, gpus_per_run: float = 0.0) -> list[dict]:
    """Train (or reuse) every run of the study: the selection phase when the study holds out a
    validation split, then the final runs of the chosen variants; one result dict per run, in
    grid order, selection first."""
    cols = columns(v.method for v in study.variants)
    root.mkdir(parents=True, exist_ok=True)
    run = dict(root=root, backend=backend, cols=cols, address=address, num_cpus=num_cpus, gpus=gpus_per_run)
    selected = _phase(study, "selection", expand(study, device, "selection"), **run) if study.selects else []
    chosen = choose(selected) if study.selects else None
    final = _phase(study, "final", expand(study, device, "final", chosen), **run)
    return selected + with_cka_ce(final, root)


def with_cka_ce(results: list[dict], root: Path) -> list[dict]:
    """Each final result with `cka_ce`: the CKA of its features with those of CE's run of the same
    data, model and seed (1 for CE itself; NaN without such a run)."""
    from lab.declare import REFERENCE
    from lab.readout.geometry import features_cka
    from lab.store import load_run

    ce = {(r["data"], r["model"], r["config"].seed): r for r in results if r["method"] == REFERENCE}
    out = []
    for r in results:
        ref = ce.get((r["data"], r["model"], r["config"].seed))
        value = float("nan") if ref is None else 1.0 if ref is r else features_cka(load_run(root / r["run"]),
                                                                                  load_run(root / ref["run"]))
        out.append({**r, "cka_ce": value})
    return out
