"""The regularizer interface: one base class, a registry keyed by the name users see.

Total loss = task loss + lambda x sum(penalty terms). A subclass writes only the maths:
`penalty(ctx)` returns named terms (the loop weights, sums and logs each one), and may
override `task_loss(ctx)` (Phantom's `mix` mode) or `setup(model, data)`
(dropout, learnable projections) or `ce`
(label smoothing). What a method needs beyond one batch's forward pass is a
declared capability in `needs`, which the training loop honours:
- "second_batch": each step also draws a second batch of the same size, independently (ITRA);
  `ctx.x2`, `ctx.y2`, `ctx.out2`. The first batches walk the epoch as CE's do (equal steps).
- "balanced_batches": batches are class-balanced (Phantom), laid out in blocks of one class each;
  `ctx.blocks` gives (blocks, rows per block).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from lab.models import Net, Out
from lab.params import Interval, Param, validate_params
from lab.quantity import Quantity

CAPABILITIES = frozenset({"second_batch", "balanced_batches"})


@dataclass
class StepContext:
    """What one training step hands a regularizer."""

    model: Net
    x: Tensor
    y: Tensor
    out: Out
    n_classes: int
    generator: torch.Generator
    x2: Tensor | None = None  # the second batch ("second_batch"), drawn independently each step
    y2: Tensor | None = None
    out2: Out | None = None
    blocks: tuple[int, int] | None = None  # a class-balanced batch: (blocks, rows each), one class per block


class Regularizer:
    """Base class. Subclasses set `name`, `summary`, `params`, `default_lam`, `needs`, their own
    `quantity`, `step_goal` and `views`, and implement `penalty`; hyperparameters arrive validated as
    attributes named like the params. A method is declared here and nowhere else: the CLI, the
    app, the study's measured columns and the benchmark's goals all read these attributes."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one sentence for lists, tooltips and `--help`
    params: ClassVar[tuple[Param, ...]] = ()
    default_lam: ClassVar[float] = 1.0  # weight of the penalty in the total loss
    max_lam: ClassVar[float] = 1e4
    needs: ClassVar[frozenset[str]] = frozenset()
    quantity: ClassVar[Quantity | None] = None  # None: no quantity of its own (the views use a shared reference)
    step_goal: ClassVar[float | None] = None  # goal for one training step's time / CE's (bench/steps.py)
    views: ClassVar[tuple[str, ...]] = ()  # its own one-epoch views: ids of ui.method_views.METHOD_VIEWS

    def __init__(self, **hp: Any):
        self.hp = validate_params(self.name, self.params, hp)
        for k, v in self.hp.items():
            setattr(self, k, v)

    @classmethod
    def lam_param(cls) -> Param:
        return Param("lambda", cls.default_lam, Interval(float, 0, cls.max_lam), "weight of the penalty")

    def setup(self, model: Net, n_classes: int) -> None:
        """Called once before training (change the model, allocate state on its device)."""

    def ce(self, logits: Tensor, y: Tensor) -> Tensor:
        """The per-batch classification loss (label smoothing overrides it)."""
        return F.cross_entropy(logits, y)

    def task_loss(self, ctx: StepContext) -> Tensor:
        """`ce` of the batch (mean over both batches when there are two)."""
        loss = self.ce(ctx.out.logits, ctx.y)
        if ctx.out2 is not None:
            loss = 0.5 * (loss + self.ce(ctx.out2.logits, ctx.y2))
        return loss

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        """Named penalty terms (scalars), summed and weighted by lambda in the loop."""
        return {}


REGISTRY: dict[str, type[Regularizer]] = {}


def register(cls: type[Regularizer]) -> type[Regularizer]:
    """Class decorator: add to REGISTRY under `cls.name`; undeclared capabilities are a bug."""
    unknown = set(cls.needs) - CAPABILITIES
    assert not unknown, f"{cls.name} declares unknown capabilities {sorted(unknown)}"
    REGISTRY[cls.name] = cls
    return cls
