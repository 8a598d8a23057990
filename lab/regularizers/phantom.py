"""Phantom Embeddings (Arif et al. 2023, arXiv 2304.07262; no public code).

A phantom is the mean embedding of a random subset of same-class ("homogeneous") samples
of the batch; phantoms are used to lower the inter-class similarity of the features.
**Interpretation** chosen by measurement (METHODS.md section 5): by default (`contrast`) the
features are pushed away (in cosine) from the other classes' phantoms and pulled towards
their own; `mix` trains the head on features mixed with phantoms instead.
"""
from __future__ import annotations

import functools

import torch
from torch import Tensor

from lab.errors import ConfigError
from lab.params import Choice, Flag, Interval, Param
from lab.regularizers.base import Quantity, Regularizer, StepContext, register
from lab.regularizers.gini import onehot


def _random_subset(member: Tensor, k: int | None, generator: torch.Generator | None) -> Tensor:
    """0/1 weights (r, n): k members of each row of `member` (r, n, 0/1) drawn at random, all of
    them when the row has at most k. One draw of keys for all rows: members' keys lie in [-1, 0),
    the others' in [0, 1), and a member is kept when its key is at most the row's k-th smallest."""
    if k is None or k >= member.shape[1]:
        return member
    keys = torch.rand(member.shape, dtype=torch.float64, device=member.device, generator=generator) - member
    return member * (keys <= keys.kthvalue(k, dim=1, keepdim=True).values)


def _class_sums(z: Tensor, oh: Tensor, k: int | None, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """Per class: the sum of k random class-c samples of z (C, d), and how many were summed (C,)."""
    w = _random_subset(oh.T, k, generator)
    return w @ z, w.sum(1)


def class_phantoms(z: Tensor, y: Tensor, n_classes: int, k: int | None = None,
                   generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(phantoms (C, d), present (C,) bool): the phantom of class c is the mean of k randomly
    chosen class-c samples of the batch (k None: all); `present[c]` is False (and the phantom
    zero) when the batch has no class-c sample."""
    sums, count = _class_sums(z, onehot(y, n_classes, z.dtype), k, generator)
    return sums / count.clamp_min(1).unsqueeze(1), count > 0


class _Cosines(torch.autograd.Function):
    """`plus` + sum over (i, c) of w_ic cos_ic - margin x (the weight of the open hinges), where
    w_ic = hi_ic if cos_ic > margin else lo_ic and cos_ic is the cosine of z_i and phantom p_c (the
    norms' product clamped at 1e-12); p the given phantoms or, with `pick`, pick @ z. One autograd node
    with its gradient written out (the weights take none): some thirty small nodes before, whose overhead
    made the phantom step 1.5x CE's. With D = dL/d(z p^T) = w / (|z_i||p_c|): dL/dz_i = sum_c D_ic (p_c -
    cos_ic |p_c| z_i / |z_i|), likewise for p_c, and pick^T dL/dp joins dL/dz (a zero vector's norm
    passes nothing on: it is multiplied by the vector)."""

    @staticmethod
    def forward(ctx, z: Tensor, p: Tensor | None, pick: Tensor | None, hi: Tensor, lo: Tensor,
                margin: float, plus: float) -> Tensor:
        p = torch.mm(pick, z) if p is None else p
        zn, pn = torch.linalg.vector_norm(z, dim=1), torch.linalg.vector_norm(p, dim=1)
        den = torch.outer(zn, pn).clamp_min_(1e-12)
        cos = torch.mm(z, p.t()).div_(den)
        w = torch.where(cos > margin, hi, lo)
        value = (cos * w).sum()
        if margin:
            value -= margin * (w - lo).sum()
        ctx.parts = z, p, pick, zn, pn, cos, w.div_(den)  # inputs, constants and intermediates, never changed
        return value + plus

    @staticmethod
    def backward(ctx, grad: Tensor):
        z, p, pick, zn, pn, cos, d = ctx.parts
        d = d * grad
        dc = d * cos
        dz = torch.addcmul(torch.mm(d, p), torch.mv(dc, pn).div_(zn.clamp_min(1e-12)).unsqueeze(1), z, value=-1)
        dp = torch.addcmul(torch.mm(d.t(), z), torch.mv(dc.t(), zn).div_(pn.clamp_min(1e-12)).unsqueeze(1), p,
                           value=-1)
        if pick is None:
            return dz, dp, None, None, None, None, None
        return dz.addmm_(pick.t(), dp), None, None, None, None, None, None


def _weights(own: Tensor, others: Tensor, attract: bool) -> tuple[Tensor, Tensor]:
    """`_Cosines`' weights (hi, lo) from 0/1 masks (n, C) of each sample's own and other present
    classes: every (sample, other class) pair weighs 1 / their number where its hinge is open; with
    attract, every (sample, own class) pair weighs -1 / their number."""
    a_own = own / own.sum().clamp_min(1) if attract else torch.zeros_like(own)
    return others / others.sum().clamp_min(1) - a_own, -a_own


def _penalty(z: Tensor, oh: Tensor, phantoms: Tensor, live: Tensor, margin: float, attract: bool) -> Tensor:
    """`phantom_penalty` with y as one-hot `oh` (n, C) and `present` as 0/1 `live` (C,), one node."""
    own = oh * live  # (i, y_i) where class y_i is present
    hi, lo = _weights(own, live - own, attract)
    return _Cosines.apply(z, phantoms, None, hi, lo, margin, float(own.sum() > 0) if attract else 0.0)


def phantom_penalty(z: Tensor, y: Tensor, phantoms: Tensor, present: Tensor, margin: float = 0.0,
                    attract: bool = True) -> Tensor:
    """mean over samples i and present classes c' != y_i of max(0, cos(z_i, phantom_c') - margin)
    + (attract) mean over i with present[y_i] of 1 - cos(z_i, phantom_{y_i}).
    Cosines ignore the phantoms' scale, so per-class sums serve as well as means."""
    return _penalty(z, onehot(y, len(present), z.dtype), phantoms, present.to(z.dtype), margin, attract)


def phantom_embeddings(z: Tensor, y: Tensor, k: int | None = None,
                       generator: torch.Generator | None = None) -> Tensor:
    """Each sample's phantom: the mean of k other same-class samples of the batch, drawn at
    random (k None: all others); a sample with no other same-class sample keeps its own z."""
    member = (y.unsqueeze(0) == y.unsqueeze(1)).to(z.dtype).fill_diagonal_(0)
    w = _random_subset(member, k, generator)
    count = w.sum(1, keepdim=True)
    return torch.where(count > 0, (w @ z) / count.clamp_min(1), z)


def phantom_mix(z: Tensor, y: Tensor, alpha: float = 0.5, k: int | None = 2,
                generator: torch.Generator | None = None) -> Tensor:
    """(1 - alpha) z + alpha phantom_embeddings(z, y, k): the head input of `mode="mix"`."""
    return (1 - alpha) * z + alpha * phantom_embeddings(z, y, k, generator)


@functools.lru_cache(maxsize=8)
def _block_weights(n: int, per: int, k: int, attract: bool, dtype: torch.dtype,
                   device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """For `n` blocks of `per` rows, one class each (`StepContext.blocks`): the (n, rows) 0/1 matrix
    that sums each block's first k rows into its phantom, and `_weights` (phantom b is block b's, so
    every class is present)."""
    own = torch.eye(n, dtype=dtype, device=device).repeat_interleave(per, 0)
    pick = own.T * (torch.arange(n * per, device=device) % per < k)
    return pick, *_weights(own, 1 - own, attract)


# parameters that act in one mode only: setting them in the other is refused
_MODE_OF = {"margin": "contrast", "attract": "contrast", "alpha": "mix", "keep_clean": "mix"}


@register
class Phantom(Regularizer):
    """`contrast` (default): penalty phantom_penalty(features) with phantoms of k same-class
    samples; `mix`: the head is trained on phantom_mix(features) (CE on clean features too
    with keep_clean). Batches are class-balanced so every class has phantoms; as they come in blocks
    of one class in random order (`ctx.blocks`), a block's first k rows are k random members of its
    class (a class with fewer than k samples in the split repeats some, as its block does), and the
    penalty is one autograd node (`_Cosines`). The step took 1.5x CE's time with a random draw per class
    and some thirty autograd nodes; 1.26-1.31x with the layout read from the labels each step (a device
    sync on a GPU) and 1.21-1.27x now (`python -m bench.steps`, one run, and `--quick`, three runs).

    Measured on digits (300 training samples, MLP 64-256-256-10, 30 epochs, seeds 0-2): CE test
    accuracy 0.927, inter-class cosine of probe features 0.70; contrast 0.935 and 0.13 (0.927 and
    0.31 with phantoms detached, so gradients flow through the phantoms); mix 0.886 (k=2: 0.894,
    with keep_clean 0.922)."""

    name = "phantom"
    quantity = Quantity("similarity", "inter", "inter-class cosine similarity of the features (cosine)",
                        also={"intra": "intra-class cosine similarity of the features"})
    step_goal = 1.3
    views = ("phantoms", "similarity")
    summary = ("push features away from other classes' phantoms (means of a few same-class samples); the "
               "contrast form is the lab's interpretation: the paper has no public code")
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
        z = ctx.out.features
        if ctx.blocks is not None:  # a class-balanced batch: k random members are each block's first k
            pick, hi, lo = _block_weights(*ctx.blocks, self.k, self.attract, z.dtype, z.device)
            return {"phantom": _Cosines.apply(z, None, pick, hi, lo, self.margin, float(self.attract))}
        oh = onehot(ctx.y, ctx.n_classes, z.dtype)
        sums, count = _class_sums(z, oh, self.k, ctx.generator)
        return {"phantom": _penalty(z, oh, sums, (count > 0).to(z.dtype), self.margin, self.attract)}
