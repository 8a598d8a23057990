"""Baselines through the same interface: ce, weight_decay, dropout, label_smoothing."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from lab.models import Net
from lab.params import Interval, Param
from lab.regularizers.base import Quantity, Regularizer, StepContext, register


@register
class CE(Regularizer):
    """Plain cross-entropy, no penalty: the reference every method is compared with."""

    name = "ce"
    summary = "plain cross-entropy, no regularizer (the reference)"
    default_lam = 0.0


@register
class WeightDecay(Regularizer):
    """L2 penalty 0.5 x sum of squared weights over all weight layers (biases excluded);
    with SGD this equals decoupled weight decay of rate lr x lambda."""

    name = "weight_decay"
    summary = "L2 penalty: 0.5 x sum of squared weights of every layer"
    default_lam = 5e-4
    quantity = Quantity("l2", "l2", "0.5 x sum of squared weights (weight units²)")

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        return {"l2": 0.5 * sum(layer.weight.square().sum() for layer in ctx.model.weight_layers())}


@register
class Dropout(Regularizer):
    """Dropout (Srivastava et al. 2014): each hidden unit is zeroed with probability p during
    training and the survivors scaled by 1/(1-p); no penalty term."""

    name = "dropout"
    summary = "zero each hidden unit with probability p during training"
    params = (Param("p", 0.3, Interval(float, 0, 1, closed="left"), "drop probability of hidden units"),)
    default_lam = 0.0

    def setup(self, model: Net, n_classes: int) -> None:
        model.dropout = self.p


@register
class LabelSmoothing(Regularizer):
    """Label smoothing (Szegedy et al. 2016): cross-entropy against (1 - eps) one-hot + eps / C."""

    name = "label_smoothing"
    summary = "cross-entropy against softened targets (1 - eps) one-hot + eps / C"
    params = (Param("eps", 0.1, Interval(float, 0, 1, closed="left"), "smoothing mass spread over all classes"),)
    default_lam = 0.0

    def ce(self, logits: Tensor, y: Tensor) -> Tensor:
        return F.cross_entropy(logits, y, label_smoothing=self.eps)
