"""The one training loop (CLI, app, tests, benchmarks): total = task + lambda x penalty.

Each epoch records the optimizer steps so far, the train loss split into its task and
regularizer parts, every penalty term, train/validation/test accuracy and time, and writes a probe snapshot (every hidden state of the
probe set, the logits, and every weight layer's weight and bias, float16). A non-finite
loss ends the run as `diverged` with everything recorded so far; a run that finished at chance
after learning more, or after its loss blew up, ends as `collapsed` with the reason; a set `stop` event ends
it as `stopped` between two steps; any exception marks it `failed` and is re-raised.
"""
from __future__ import annotations

import copy
import functools
import operator
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from lab.store.background import Background
from lab.config import RunConfig, validate
from lab.data import Prepared, prepare
from lab.data.tensors import second_batch_problem
from lab.device import make_generator, pick_device
from lab.optim import optimizer
from lab.errors import ConfigError
from lab.models import Net, build_model
from lab.regularizers import REGISTRY, Regularizer, StepContext
from lab.regularizers.plugins import PluginError, check_terms
from lab.stats import num
from lab.store import RunRecord, RunWriter, class_names, restatus

Progress = Callable[[dict], float | None]
POINTS_PER_EPOCH = 4  # live curve points sent within each epoch (running means of the train loss)


@dataclass
class Result:
    """What `train` returns: status, the per-epoch records, the run folder (if stored)."""

    status: str
    history: list[dict] = field(default_factory=list)
    path: Path | None = None
    error: str | None = None
    model: Net | None = None


@torch.no_grad()
def evaluate(model: Net, x: torch.Tensor, y: torch.Tensor, bs: int = 4096) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in eval mode, in chunks."""
    model.eval()
    loss = correct = 0.0
    for i in range(0, len(y), bs):
        logits = model(x[i:i + bs]).logits
        loss += torch.nn.functional.cross_entropy(logits, y[i:i + bs], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + bs]).sum().item()
    model.train()
    return loss / len(y), correct / len(y)


GRID = 64  # points per axis of the decision-boundary grid of a 2-D data set
GRID_MARGIN = 0.1  # the grid extends past the data by this fraction of its range on every side


def boundary_axes(x: Tensor, n: int = GRID, margin: float = GRID_MARGIN) -> tuple[Tensor, Tensor]:
    """(grid_x, grid_y): n evenly spaced values per input axis of 2-D points `x` (m, 2), over
    [min - margin * range, max + margin * range] of that axis."""
    lo, hi = x.min(0).values, x.max(0).values
    pad = margin * (hi - lo)
    axes = [torch.linspace(a, b, n, device=x.device) for a, b in zip((lo - pad).tolist(), (hi + pad).tolist())]
    return axes[0], axes[1]


@torch.no_grad()
def probe_snapshot(model: Net, data: Prepared, state: dict[str, Tensor] | None = None) -> dict[str, np.ndarray]:
    """`probe_y`, `logits`, `hidden_<i>` (from the input side), `weight_<j>`/`bias_<j>` (forward order),
    `state_<name>` for the regularizer's learnable `state` (float32);
    for 2-D inputs also `grid_x`, `grid_y` (`boundary_axes` of the training inputs) and
    `grid_logits` (G, G, C): row i, column j holds the logits at the point (grid_x[j], grid_y[i])."""
    model.eval()
    out = model(data.probe.x)
    if data.sample_shape == (2,):
        gx, gy = boundary_axes(data.train.x)
        points = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1).reshape(-1, 2)
        grid = {"grid_x": gx.cpu().numpy(), "grid_y": gy.cpu().numpy(),
                "grid_logits": model(points).logits.reshape(len(gy), len(gx), -1).half().cpu().numpy()}
    else:
        grid = {}
    model.train()
    snap = {"probe_y": data.probe.y.cpu().numpy(), "logits": out.logits.half().cpu().numpy(), **grid}
    snap.update({f"hidden_{i}": h.half().cpu().numpy() for i, h in enumerate(out.hidden)})
    for j, layer in enumerate(model.weight_layers()):
        snap[f"weight_{j}"] = layer.weight.half().cpu().numpy()
        snap[f"bias_{j}"] = layer.bias.half().cpu().numpy()
    # copied: the writer thread serialises the snapshot later, while training goes on changing the state in place
    snap.update({f"state_{k}": v.detach().to("cpu", torch.float32, copy=True).numpy() for k, v in (state or {}).items()})
    return snap


def batches(reg: Regularizer, data: Prepared, bs: int, gen: torch.Generator):
    """Index batches as the method's capabilities ask (class-balanced or plain), each with its
    second batch or None; every method takes the same number of steps per epoch as CE."""
    first = (data.train.balanced_batches(bs, data.n_classes, gen) if "balanced_batches" in reg.needs
             else data.train.batches(bs, gen))
    if "second_batch" in reg.needs:
        return data.train.with_second(first, gen)
    return ((i, None) for i in first)


def batch_losses(model: Net, reg: Regularizer, lam: float, data: Prepared, batch: tuple[Tensor, Tensor | None],
                 gen: torch.Generator) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """(task loss, lambda x penalty, penalty terms) of one step on the index batch(es) `batch`; a
    class-balanced batch comes as a (blocks, rows) index matrix and hands its layout on in `ctx.blocks`."""
    i, j = batch
    blocks = None
    if i.dim() == 2:
        blocks, i = (i.shape[0], i.shape[1]), i.view(-1)
    x, y = data.train.x, data.train.y
    xi = x[i]
    ctx = StepContext(model, xi, y[i], model(xi), data.n_classes, gen, blocks=blocks)
    if j is not None:
        ctx.x2, ctx.y2 = x[j], y[j]
        ctx.out2 = model(ctx.x2)
    task = reg.task_loss(ctx)
    terms = reg.penalty(ctx)
    if not terms:
        return task, task.new_zeros(()), terms
    total = functools.reduce(operator.add, terms.values())
    return task, (total if lam == 1 else lam * total), terms  # lambda 1 (the default) costs no node


def check_plugin(model: Net, reg: Regularizer, cfg: RunConfig, data: Prepared, device: torch.device) -> None:
    """A plug-in's penalty on one batch must run and return {name: scalar tensor}: PluginError in one
    line, before any run folder exists. It runs on copies of the model and the regularizer, with a
    generator of its own, so the run trains as a built-in twin would (state a penalty sets on its
    first call, such as center's centres, and the model's dropout draws stay untouched)."""
    gen = make_generator(cfg.seed, device)
    model, reg = copy.deepcopy((model, reg))
    try:
        terms = batch_losses(model, reg, cfg.lam, data, next(iter(batches(reg, data, cfg.batch_size, gen))), gen)[2]
    except Exception as e:
        raise PluginError(f"Plug-in {reg.source.file}: {type(reg).__name__}.penalty raised {type(e).__name__}: {e} "
                          f"on the first batch; fix it and try again.") from None
    check_terms(terms, reg)


def ending(history: list[dict], chance: float, n_classes: int) -> tuple[str, str | None]:
    """("done", None), or ("collapsed", why) for a run whose train accuracy ended no better than
    `chance` (always answering the most frequent class of the samples it is measured on) + 0.01 and
    that is not still learning (its task loss did not reach a new low in the last epoch; a
    one-epoch run has no trend and counts as learning): whether it never learned (ITRA's features
    all dead from the start), lost what it learned, or its task loss blew up (MHE's energy on a
    2-D toy), it finished, but it is not a result."""
    if not history or history[-1]["train_acc"] > chance + 0.01:
        return "done", None
    if len(history) == 1 or history[-1]["task_loss"] < min(r["task_loss"] for r in history[:-1]):
        return "done", None  # still learning: a short run, not a collapse
    last, peak = history[-1], max(history, key=lambda r: r["task_loss"])
    best = max(history, key=lambda r: r["train_acc"])
    if peak["task_loss"] > 10 * np.log(n_classes):
        how = f"the task loss blew up to {num(peak['task_loss'])} in epoch {peak['epoch']}"
    elif best["train_acc"] >= chance + 0.1:
        how = f"it had reached {best['train_acc']:.3f} in epoch {best['epoch']} and lost it"
    else:
        how = f"it never learned past {best['train_acc']:.3f}"
    return "collapsed", (f"ended at chance: train accuracy {last['train_acc']:.3f}, no better than always answering "
                         f"the most frequent class ({chance:.3f}); {how}. Lower the learning rate or lambda, clip the "
                         f"gradient (max_grad_norm, e.g. 5), or train longer if it is still learning")


def chance_level(labels: Tensor) -> float:
    """The accuracy of always answering the most frequent class of `labels`."""
    return torch.bincount(labels).max().item() / len(labels)


def rejudge(run: RunRecord) -> RunRecord:
    """A stored run that ended `done` judged again by `ending` (a run from before the rule that
    at chance is never `done`): its status rewritten when the verdict changed. The chance level
    is the one recorded at the end, or for older runs recomputed from the run's own data split."""
    if run.state != "done" or not run.metrics:
        return run
    chance, n_classes = run.status.get("chance"), len(class_names(run) or [])
    if chance is None or not n_classes:
        cfg = run.config
        data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed, train_size=cfg.train_size,
                       val_size=cfg.val_size, probe_size=cfg.probe_size)
        chance, n_classes = chance_level(data.train.y[: cfg.probe_size]), data.n_classes
    status, error = ending(run.metrics, chance, n_classes)
    return run if status == "done" else restatus(run, status, error, chance=chance)


def point(rows: list[Tensor], names: list[str], epoch: int, step: int, per_epoch: int) -> dict:
    """A live curve point: the mean task and regularizer loss of the steps in `rows`, at `x`
    = the epochs done so far (fractional: epoch 1, step 3 of 12 is 0.25)."""
    means = dict(zip(names, torch.stack(rows).mean(0).tolist()))
    task, reg = means["task_loss"], means["reg_loss"]
    return {"x": epoch - 1 + step / per_epoch, "task_loss": task, "reg_loss": reg, "train_loss": task + reg}


def train(cfg: RunConfig, *, runs: Path | None = None, on_progress: Progress | None = None,
          stop: threading.Event | None = None) -> Result:
    """Train one run; with `runs` set, write it to the run store as it goes (on a writer thread:
    each epoch's files are complete, renamed into place, before the run's status says it ended).

    `on_progress` gets a "step" event after every step ({"epoch", "step", "steps": steps per
    epoch}, and after the first step and `POINTS_PER_EPOCH` times an epoch a "point" with the
    mean losses since the previous point) and an "epoch" event with each record and the model
    (to read, not to change; the epoch's files may not be written yet). It may return the seconds
    it waited on purpose (a live run slowed to a chosen pace); those are left out of the epoch's
    recorded `seconds`."""
    cfg = validate(cfg)
    device = pick_device(cfg.device)
    gen = make_generator(cfg.seed, device)
    data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed, train_size=cfg.train_size,
                   val_size=cfg.val_size, probe_size=cfg.probe_size, device=device)
    model = build_model(cfg.model, cfg.model_params, data.sample_shape, data.n_classes, gen)
    reg = REGISTRY[cfg.method](**cfg.method_params)
    if problem := second_batch_problem(reg.needs, cfg.batch_size, len(data.train)):
        raise ConfigError(f"{reg.name}: {problem}")
    reg.setup(model, data.n_classes)
    if reg.source is not None:
        check_plugin(model, reg, cfg, data, device)
    params = [*model.parameters(), *reg.state.values()]
    opt = optimizer(cfg.optimizer, params, cfg.lr, cfg.momentum)
    writer = RunWriter(runs, cfg) if runs is not None else None
    io = Background() if writer else None
    result = Result("running", path=writer.path if writer else None, model=model)
    train_eval = data.train.x[: cfg.probe_size], data.train.y[: cfg.probe_size]
    chance = chance_level(train_eval[1])  # what `ending` judges the last train accuracy against
    per_epoch = max(1, len(data.train) // cfg.batch_size)  # every method's steps per epoch (see `batches`)
    every = max(1, per_epoch // POINTS_PER_EPOCH)

    def emit(event: dict) -> float:
        return (on_progress(event) or 0.0) if on_progress else 0.0

    try:
        if writer:
            io.submit(writer.probe, data.probe.x.cpu().numpy(), data.probe.y.cpu().numpy(), data.classes)
            io.submit(writer.snapshot, 0, probe_snapshot(model, data, reg.state))
        done_steps = 0  # optimizer steps so far (recorded as `steps`: equal for every method at equal epochs)
        for epoch in range(1, cfg.epochs + 1):
            t0, rows, names, steps, waited, since = time.perf_counter(), [], [], 0, 0.0, 0
            for batch in batches(reg, data, cfg.batch_size, gen):
                if stop is not None and stop.is_set():
                    result.status = "stopped"
                    break
                task, reg_loss, terms = batch_losses(model, reg, cfg.lam, data, batch, gen)
                loss = task + reg_loss if terms else task
                if not torch.isfinite(loss):
                    result.status, result.error = "diverged", (
                        f"loss became {loss.item()} at epoch {epoch}, step {steps + 1}; lower the learning rate "
                        f"(now {cfg.lr:g}) or lambda (now {cfg.lam:g})")
                    break
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                opt.step()
                names = names or ["task_loss", "reg_loss", *(f"penalty/{k}" for k in terms)]
                rows.append(torch.stack([task, reg_loss, *terms.values()]).detach())  # one op per step
                steps += 1
                if on_progress:
                    event = {"event": "step", "epoch": epoch, "step": steps, "steps": per_epoch}
                    if (steps % every == 0 or steps == 1) and steps < per_epoch:  # the end brings its record
                        event["point"] = point(rows[since:], names, epoch, steps, per_epoch)
                        since = steps
                    waited += emit(event)
            if steps == 0:
                break
            seconds = time.perf_counter() - t0 - waited
            done_steps += steps
            rec = {"epoch": epoch, "steps": done_steps, **dict(zip(names, torch.stack(rows).mean(0).tolist()))}
            rec["train_loss"] = rec["task_loss"] + rec["reg_loss"]
            _, rec["train_acc"] = evaluate(model, *train_eval)
            if data.val is not None:
                rec["val_loss"], rec["val_acc"] = evaluate(model, data.val.x, data.val.y)
            rec["test_loss"], rec["test_acc"] = evaluate(model, data.test.x, data.test.y)
            rec["seconds"] = seconds
            result.history.append(rec)
            if writer:
                io.submit(writer.snapshot, epoch, probe_snapshot(model, data, reg.state))
                io.submit(writer.epoch, dict(rec))
                io.submit(writer.model_state, {k: v.detach().clone() for k, v in model.state_dict().items()})
            emit({"event": "epoch", "record": rec, "epochs": cfg.epochs, "model": model})
            if result.status != "running":
                break
        if result.status == "running":
            result.status, result.error = ending(result.history, chance, data.n_classes)
        if io:
            io.close()
    except BaseException as e:
        result.status, result.error = "failed", f"{type(e).__name__}: {e}"
        if writer:
            try:
                io.close()  # keep every epoch already handed over
            except BaseException:
                pass  # the first error is the one reported
            writer.status("failed", result.error)
        raise
    if writer:
        writer.status(result.status, result.error, epochs_done=len(result.history), chance=chance)
    return result


def check_start(cfg: RunConfig) -> None:
    """Raise what `train(cfg)` refuses before its first step (a plug-in's first-batch check too),
    training and writing nothing: for a command that would train other runs before this one."""
    stopped = threading.Event()
    stopped.set()
    train(cfg, stop=stopped)
