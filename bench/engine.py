"""Lab epoch time / a bare hand-written PyTorch loop, same data, model, batches and optimiser.

    python -m bench.engine [--quick]

The bare loop is what one would write by hand: an `nn.Sequential` MLP, index-slice batches,
cross-entropy, SGD with momentum. The lab's number is its epoch's training span (the
`seconds` it records: forward, regularizer interface, loss bookkeeping, NaN check), timed
twice: as the CLI runs it (no callback) and as the app runs it (`lab.live`'s per-step progress
callback under a lock, and a stop event checked every step). The epoch's evaluation, probe
snapshot and atomic writes are timed separately and reported beside it, not hidden.
Statistic: in each repetition the fastest epoch (the least disturbed by other load) of the lab
over the fastest bare epoch; the median of those ratios over repetitions. Goal: at most 1.15.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch
from torch import nn

from lab.config import RunConfig, validate
from lab.data import prepare
from lab.device import pick_device
from lab.train import train


def bare_epoch_seconds(cfg: RunConfig, epochs: int) -> list[float]:
    """Per-epoch seconds of a hand-written loop on the lab's own prepared tensors."""
    device = pick_device(cfg.device)
    data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed, train_size=cfg.train_size, device=device)
    torch.manual_seed(cfg.seed)
    dims = [data.train.x[0].numel(), *cfg.model_params["widths"], data.n_classes]
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(dims[:-2], dims[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(dims[-2], dims[-1])).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    x, y, bs = data.train.x, data.train.y, cfg.batch_size
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(y), device=device, generator=gen)
        for i in range(len(y) // bs):
            j = perm[i * bs:(i + 1) * bs]
            loss = nn.functional.cross_entropy(model(x[j]), y[j])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def app_progress() -> tuple:
    """What the app hands `train`: a per-step callback that updates state under a lock (as
    `lab.live` does), and a stop event."""
    lock, state = threading.Lock(), {}

    def progress(event: dict) -> None:
        with lock:
            state.update(event)

    return progress, threading.Event()


def whole_epoch_seconds(cfg: RunConfig) -> list[float]:
    """Seconds of each whole epoch of a stored run: from one epoch's end (its record handed out) to
    the next's, so each includes the training steps, evaluation, probe snapshot and handing the
    files to the writer thread (whose bounded queue makes a slow writer show here); the last one
    ends when `train` returns, after every file is written."""
    marks: list[float] = []

    def progress(event: dict) -> None:
        if event["event"] == "epoch":
            marks.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        train(cfg, runs=Path(tmp), on_progress=progress)
        marks.append(time.perf_counter())
    return [b - a for a, b in zip(marks[:-1], marks[1:])]


def engine_overhead(quick: bool = False) -> dict[str, float]:
    """{"engine_overhead": lab (CLI path) / bare training time, "engine_overhead_app": the same
    with the app's progress callback and stop check, each the median over repetitions of
    per-repetition minima; "epoch_with_measurement_ratio": a whole stored epoch
    (median of `whole_epoch_seconds`) / the median bare epoch, median over repetitions; "bare_epoch_ms"}."""
    epochs, reps = (6, 3) if quick else (15, 5)
    cfg = validate(RunConfig(data="digits", model="mlp", method="ce", epochs=epochs))
    train(RunConfig(data="digits", epochs=1))  # warm-up: data cache, kernels
    ratios, app, whole = [], [], []
    for _ in range(reps):
        bare_times = bare_epoch_seconds(cfg, epochs)[1:]
        bare = min(bare_times)  # fastest epoch: the least disturbed by other load
        res = train(cfg)
        progress, stop = app_progress()
        live = train(cfg, on_progress=progress, stop=stop)
        ratios.append(min(r["seconds"] for r in res.history[1:]) / bare)
        app.append(min(r["seconds"] for r in live.history[1:]) / bare)
        whole.append(statistics.median(whole_epoch_seconds(cfg)) / statistics.median(bare_times))
    return {"engine_overhead": statistics.median(ratios), "engine_overhead_app": statistics.median(app),
            "epoch_with_measurement_ratio": statistics.median(whole), "bare_epoch_ms": 1000 * bare}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    r = engine_overhead(parser.parse_args().quick)
    print("digits, MLP 256-256, batch 128, SGD, CPU" if not torch.cuda.is_available() else "digits, MLP, CUDA")
    print(f"bare PyTorch epoch (training only)          {r['bare_epoch_ms']:.2f} ms")
    print(f"lab epoch / bare, training span (goal <=1.15) {r['engine_overhead']:.3f}")
    print(f"the same, app path (progress + stop check)    {r['engine_overhead_app']:.3f}")
    print(f"lab epoch incl. eval + snapshot + writes / bare {r['epoch_with_measurement_ratio']:.2f}")


if __name__ == "__main__":
    main()
