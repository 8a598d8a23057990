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
Learnable state (Center loss's class centres) is declared in `setup` with `self.learnable(name,
tensor)`: the optimizer trains it with the weights and every snapshot saves it as `state_<name>`.
A user's plug-in is a subclass like any built-in (`lab.regularizers.plugins` loads and checks it;
README, "Your own regularizer").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lab.declare import Quantity, View
from lab.errors import ConfigError
from lab.models import Net, Out
from lab.params import Interval, Param, validate_params

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
    `quantity`, `step_goal`, `views` and `notes`, and implement `penalty`; hyperparameters arrive
    validated as attributes named like the params. A method is declared here and nowhere else: the
    CLI, the app, Compare, the report, the study's measured columns and the benchmark's goals all
    read these attributes. `source` is None for a built-in, the plug-in's file otherwise."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one sentence for lists, tooltips and `--help`
    params: ClassVar[tuple[Param, ...]] = ()
    default_lam: ClassVar[float] = 1.0  # weight of the penalty in the total loss
    max_lam: ClassVar[float] = 1e4
    needs: ClassVar[frozenset[str]] = frozenset()
    quantity: ClassVar[Quantity | None] = None  # None: no quantity of its own (the views use a shared reference)
    step_goal: ClassVar[float | None] = None  # goal for one training step's time / CE's (bench/steps.py)
    views: ClassVar[tuple[str | View, ...]] = ()  # its own one-epoch views: `View`s, or ids of lab.views.VIEWS
    notes: ClassVar[Mapping[str, str]] = {}  # what to expect, by page or view key (assets/notes.toml otherwise)
    source: ClassVar[Any] = None  # a plug-in's `lab.regularizers.plugins.Source`; None for a built-in

    def __init__(self, **hp: Any):
        self.hp = validate_params(self.name, self.params, hp)
        for k, v in self.hp.items():
            setattr(self, k, v)
        self.state: dict[str, nn.Parameter] = {}  # learnable state declared in `setup`

    def learnable(self, name: str, value: Tensor) -> nn.Parameter:
        """Declare learnable state in `setup` (e.g. class centres): the optimizer trains it with the
        model's weights, and every snapshot saves it as `state_<name>`."""
        self.state[name] = nn.Parameter(value)
        return self.state[name]

    @classmethod
    def has_penalty(cls) -> bool:
        """Whether the method adds a penalty (so lambda means something): it overrides `penalty`."""
        return cls.penalty is not Regularizer.penalty

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
    """Class decorator: add to REGISTRY under `cls.name`; a name already taken by another class and
    undeclared capabilities are refused (ConfigError)."""
    unknown = sorted(set(cls.needs) - CAPABILITIES)
    if unknown:
        raise ConfigError(f"{cls.name} declares unknown capabilities {unknown}; known: {sorted(CAPABILITIES)}.")
    if REGISTRY.get(cls.name, cls) is not cls:
        raise ConfigError(f"The method name {cls.name!r} is taken; give the class another `name`.")
    REGISTRY[cls.name] = cls
    return cls
