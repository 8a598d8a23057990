"""Phantom Embeddings (Arif et al. 2023, arXiv 2304.07262; no public code).

A phantom is the mean embedding of a random subset of same-class ("homogeneous") samples
of the batch; phantoms are used to lower the inter-class similarity of the features.
**Interpretation** chosen by measurement (METHODS.md section 5): by default (`contrast`) the
features are pushed away (in cosine) from the other classes' phantoms and pulled towards
their own; `mix` trains the head on features mixed with phantoms instead.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lab.errors import ConfigError
from lab.params import Choice, Flag, Interval, Param
from lab.regularizers.base import Regularizer, StepContext, register


def _subset_means(member: Tensor, z: Tensor, k: int | None, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """Row r: the mean of k members of row r of `member` (r, n) bool, drawn at random (all of
    them when k is None or larger), and how many were averaged. One draw of random keys for all
    rows; a member is chosen when its key ranks among the row's k smallest member keys."""
    if k is not None:
        keys = torch.rand(member.shape, device=z.device, generator=generator).masked_fill(~member, 2.0)
        member = member & (keys.argsort(1).argsort(1) < k)
    w = member.to(z.dtype)
    count = w.sum(1)
    return (w @ z) / count.clamp_min(1).unsqueeze(1), count


def class_phantoms(z: Tensor, y: Tensor, n_classes: int, k: int | None = None,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(phantoms (C, d), present (C,) bool): the phantom of class c is the mean of k randomly
    chosen class-c samples of the batch (k None: all); `present[c]` is False (and the phantom
    zero) when the batch has no class-c sample."""
    member = F.one_hot(y, n_classes).T.bool()
    phantoms, count = _subset_means(member, z, k, generator)
    return phantoms, count > 0


def phantom_penalty(z: Tensor, y: Tensor, phantoms: Tensor, present: Tensor, margin: float = 0.0,
                    attract: bool = True) -> Tensor:
    """mean over samples i and present classes c' != y_i of max(0, cos(z_i, phantom_c') - margin)
    + (attract) mean over i with present[y_i] of 1 - cos(z_i, phantom_{y_i})."""
    cos = F.normalize(z, dim=1) @ F.normalize(phantoms, dim=1).T  # (n, C)
    own = F.one_hot(y, len(present)).bool()
    others = (~own & present).to(z.dtype)
    loss = (F.relu(cos - margin) * others).sum() / others.sum().clamp_min(1)
    if attract:
        mine = present[y].to(z.dtype)
        loss = loss + ((1 - cos.gather(1, y.unsqueeze(1)).squeeze(1)) * mine).sum() / mine.sum().clamp_min(1)
    return loss


def phantom_embeddings(z: Tensor, y: Tensor, k: int | None = None,
                       generator: torch.Generator | None = None) -> Tensor:
    """Each sample's phantom: the mean of k other same-class samples of the batch, drawn at
    random (k None: all others); a sample with no other same-class sample keeps its own z."""
    member = (y.unsqueeze(0) == y.unsqueeze(1)).fill_diagonal_(False)
    phi, count = _subset_means(member, z, k, generator)
    return torch.where(count.unsqueeze(1) > 0, phi, z)


def phantom_mix(z: Tensor, y: Tensor, alpha: float = 0.5, k: int | None = 2,
                generator: torch.Generator | None = None) -> Tensor:
    """(1 - alpha) z + alpha phantom_embeddings(z, y, k): the head input of `mode="mix"`."""
    return (1 - alpha) * z + alpha * phantom_embeddings(z, y, k, generator)


# parameters that act in one mode only: setting them in the other is refused
_MODE_OF = {"margin": "contrast", "attract": "contrast", "alpha": "mix", "keep_clean": "mix"}


@register
class Phantom(Regularizer):
    """`contrast` (default): penalty phantom_penalty(features) with phantoms of k same-class
    samples; `mix`: the head is trained on phantom_mix(features) (CE on clean features too
    with keep_clean). Batches are class-balanced so every class has phantoms."""

    name = "phantom"
    summary = "push features away from other classes' phantoms (means of a few same-class samples)"
    params = (
        Param("mode", "contrast", Choice(("contrast", "mix")),
              "contrast: cosine penalty against phantoms; mix: train the head on features mixed with "
              "phantoms (lowered test accuracy in our measurement)"),
        Param("k", 4, Interval(int, 1, None), "same-class samples averaged into each phantom"),
        Param("margin", 0.0, Interval(float, -1, 1, closed="left"),
              "contrast: cosine to another class's phantom below which there is no penalty"),
        Param("attract", True, Flag(), "contrast: also pull each feature towards its own class's phantom"),
        Param("alpha", 0.5, Interval(float, 0, 1), "mix: weight of the phantom in the head input"),
        Param("keep_clean", False, Flag(), "mix: average the CE on mixed and on clean features"),
    )
    default_lam = 1.0
    needs = frozenset({"balanced_batches"})

    def __init__(self, **hp):
        super().__init__(**hp)
        defaults = {p.name: p.default for p in self.params}
        for name, mode in _MODE_OF.items():
            if self.hp[name] != defaults[name] and self.mode != mode:
                raise ConfigError(f"The '{name}' parameter of phantom acts only in mode {mode!r}; "
                                  f"set mode={mode} or leave {name} at its default.")

    def task_loss(self, ctx: StepContext) -> Tensor:
        if self.mode == "contrast":
            return super().task_loss(ctx)
        z = phantom_mix(ctx.out.features, ctx.y, self.alpha, self.k, ctx.generator)
        mixed = self.ce(ctx.model.head(z), ctx.y)
        return 0.5 * (mixed + super().task_loss(ctx)) if self.keep_clean else mixed

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        if self.mode == "mix":
            return {}
        phantoms, present = class_phantoms(ctx.out.features, ctx.y, ctx.n_classes, self.k, ctx.generator)
        return {"phantom": phantom_penalty(ctx.out.features, ctx.y, phantoms, present, self.margin, self.attract)}
