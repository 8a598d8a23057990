"""Training-step time of every registered method / plain CE's, same model, batch and optimiser.

    python -m bench.steps [--quick] [--device cpu|cuda]

A step is what `lab.train.train` does per batch: `lab.train.batch_losses` (forward, both
batches for methods that need a second one, task loss, lambda x penalty), backward, SGD
step. Each method runs with its defaults on digits, the default MLP, batch 128, with CE
timed side by side in the same process: warm-up, then alternating blocks of steps (CE,
method, CE, method, ...); the ratio is of the fastest blocks (the least disturbed by other load). Timers:
`perf_counter` on CPU, CUDA events on GPU.
"""
from __future__ import annotations

import argparse
import itertools
import time
from typing import Callable

import torch

from lab.config import RunConfig, validate
from lab.data import Prepared, prepare
from lab.device import make_generator, pick_device
from lab.models import build_model
from lab.regularizers import REGISTRY
from lab.train import batch_losses, batches

GOALS = {name: reg.step_goal for name, reg in REGISTRY.items() if reg.step_goal is not None}  # declared by each method


def make_step(method: str, data: Prepared, device: torch.device, seed: int = 0) -> Callable[[], None]:
    """One training step of `method` (defaults) on the next of a fixed cycle of batches."""
    cfg = validate(RunConfig(method=method, device=device.type, seed=seed))
    gen = make_generator(cfg.seed, device)
    model = build_model(cfg.model, cfg.model_params, data.sample_shape, data.n_classes, gen)
    reg = REGISTRY[method](**cfg.method_params)
    reg.setup(model, data.n_classes)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    cycle = itertools.cycle(list(batches(reg, data, cfg.batch_size, gen)))

    def step() -> None:
        task, reg_loss, _ = batch_losses(model, reg, cfg.lam, data, next(cycle), gen)
        loss = task + reg_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def block_seconds(step: Callable[[], None], n: int, device: torch.device) -> float:
    """Seconds per step over `n` consecutive steps."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            step()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1000 / n
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def step_ratios(quick: bool = False, device: str = "cpu") -> dict[str, float]:
    """{method: its fastest block's time per step / CE's fastest block's time per step} for every
    method in REGISTRY (CE itself included, as a noise check), over alternating repetitions;
    quick = fewer, shorter repetitions."""
    dev = pick_device(device)
    steps, reps = (20, 5) if quick else (50, 9)
    cfg = validate(RunConfig(device=dev.type))
    data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed, train_size=cfg.train_size,
                   probe_size=cfg.probe_size, device=dev)
    ce = make_step("ce", data, dev)
    ratios = {}
    for name in REGISTRY:
        step = make_step(name, data, dev)
        n = max(2, steps // 10) if (REGISTRY[name].step_goal or 0) > 10 else steps  # a slow step's goal (comhe: 35)
        for s in (ce, step):
            block_seconds(s, 3, dev)  # warm-up
        ce_blocks, blocks = [], []
        for _ in range(reps):  # alternate, so slow phases of a busy machine hit both
            ce_blocks.append(block_seconds(ce, steps, dev))
            blocks.append(block_seconds(step, n, dev))
        ratios[name] = min(blocks) / min(ce_blocks)  # the fastest block is the least disturbed one
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    ratios = step_ratios(args.quick, args.device)
    print(f"step time / CE step time: digits, MLP 256-256, batch 128, SGD, {args.device}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'method':<16}{'ratio':>8}{'goal':>8}")
    for name, r in ratios.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("  ok" if r <= goal else "  OVER")
        print(f"{name:<16}{r:>8.2f}{'' if goal is None else f'{goal:>8.1f}':>8}{verdict}")


if __name__ == "__main__":
    main()
