"""Gini impurity + KL discriminability loss (Croitoru, Grigore, Ionescu 2022, arXiv 2202.07073).

**Interpretation** of the normalisation (METHODS.md section 4): with non-negative features
A (n, d), M = one_hot(y)^T A gives M_cj = sum_{i: y_i = c} A_ij and p(c|j) = M_cj / sum_c' M_c'j.
Features whose batch mass is <= eps (dead units) are left out of both terms: their p is 0
(mass divided by infinity) and only live features are counted, so both terms stay one
vectorised, differentiable expression with no gradient through dead units.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from lab.params import Interval, Param
from lab.regularizers.base import Quantity, Regularizer, StepContext, register

EPS = 1e-8  # mass at or below which a feature counts as dead; also guards log(q)


def class_given_feature(a: Tensor, oh: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """(p (C, d) with p[c, j] = p(c|j), zero for dead features; the number of live features)."""
    m = oh.T @ a
    total = m.sum(0)
    live = total > eps
    return m / torch.where(live, total, torch.inf), live.sum()


def _impurity(p: Tensor, n_live: Tensor) -> Tensor:
    return (n_live - p.square().sum()) / n_live.clamp_min(1)


def _coverage_kl(p: Tensor, n_live: Tensor, pi: Tensor, eps: float) -> Tensor:
    q = p.sum(1) / n_live.clamp_min(1)
    kl = (torch.xlogy(pi, pi) - pi * torch.log(q + eps)).sum()
    return kl * (n_live > 0)


def nonnegative(features: Tensor, activation: str) -> Tensor:
    """The Gini terms' input: ReLU features as they are, softplus of signed ones (tanh)."""
    return features if activation == "relu" else F.softplus(features)


def onehot(y: Tensor, n_classes: int, dtype: torch.dtype) -> Tensor:
    """(n, C) 0/1 of `dtype` (also used by phantom); a comparison, so unlike F.one_hot no range
    check that would wait for the device."""
    return (y.unsqueeze(1) == torch.arange(n_classes, device=y.device)).to(dtype)


def gini_impurity(a: Tensor, y: Tensor, n_classes: int, eps: float = EPS) -> Tensor:
    """Mean over live features j of 1 - sum_c p(c|j)^2: 0 when each feature fires for one
    class, at most 1 - 1/C (a feature spread evenly over the classes); 0 if none is live."""
    return _impurity(*class_given_feature(a, onehot(y, n_classes, a.dtype), eps))


def class_coverage_kl(a: Tensor, y: Tensor, n_classes: int, prior: Tensor | None = None,
                      eps: float = EPS) -> Tensor:
    """KL(pi || q) = sum_c pi_c log(pi_c / (q_c + eps)), q_c = mean over live features of
    p(c|j), pi = the batch's class frequencies unless `prior` (C,) is given; 0 if no feature
    is live. Small when the features together cover every class as often as it occurs."""
    oh = onehot(y, n_classes, a.dtype)
    pi = oh.mean(0) if prior is None else prior.to(a)
    return _coverage_kl(*class_given_feature(a, oh, eps), pi, eps)


@register
class Gini(Regularizer):
    """Penalty alpha x gini_impurity + beta x class_coverage_kl of the features (ReLU outputs
    as they are, softplus of signed activations such as tanh).

    Default lambda 0.3, measured on digits (300 training samples, MLP 64-256-256-10, 30 epochs,
    seeds 0-4): test accuracy 0.925 as with CE (0.926), probe feature Gini 0.71 (CE 0.80);
    lambda 1 lowers the Gini to 0.61 and the accuracy to 0.923, lambda 3 to 0.59 and 0.914."""

    name = "gini"
    quantity = Quantity("gini", "gini", "Gini impurity of the features over classes (unitless, 0 to 1 - 1/C)")
    step_goal = 1.5
    views = ("gini_heatmap",)
    summary = ("features that each fire for one class (Gini impurity) and together cover all classes (KL); "
               "p(c|j) from the batch's activation mass, dead units left out: the lab's interpretation")
    params = (
        Param("alpha", 1.0, Interval(float, 0, None), "weight of the Gini impurity of the features"),
        Param("beta", 1.0, Interval(float, 0, None), "weight of the class-coverage KL term"),
    )
    default_lam = 0.3

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        a = nonnegative(ctx.out.features, ctx.model.activation)
        oh = onehot(ctx.y, ctx.n_classes, a.dtype)
        stats = class_given_feature(a, oh, EPS)  # shared by both terms
        return {"gini": self.alpha * _impurity(*stats), "kl": self.beta * _coverage_kl(*stats, oh.mean(0), EPS)}
