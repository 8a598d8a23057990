"""`mhe`: Minimum Hyperspherical Energy (Liu et al., NeurIPS 2018; code read: wy1iu/MHE).

Neurons are points w_i / |w_i| on the unit sphere; the energy is the mean over pairs i < j
of f(d2_ij), d2 = 2 - 2 cos (squared chordal distance, clamped below at 1e-8),
f = d2^(-s/2) for s > 0 and log(1/d) = -0.5 log d2 for s = 0 (the paper's form; the
released code uses -log d2). Half-space MHE applies it to the 2N points [w; -w], which
penalises collinear neurons whatever their signs. Everything comes from one Gram matrix
G of the normalised rows: [w; -w] has cosines +G and -G, so its N(2N - 1) pairs sum to
sum_{i != j} f(2 - 2 G_ij) + sum_{i, j} f(2 + 2 G_ij) (the diagonal of the second term is
the pair (w_i, -w_i)).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from lab.params import Choice, Flag, Interval, Param
from lab.regularizers.base import Quantity, Regularizer, StepContext, register

D2_FLOOR = 1e-8  # squared chordal distances are clamped below here (coinciding neurons)


def layer_rows(layer: nn.Module) -> Tensor:
    """A Linear or Conv weight as (out, in * k * k) rows: one row per neuron / filter."""
    return layer.weight.flatten(1)


def unit_rows(w: Tensor, eps: float = 1e-4) -> Tensor:
    """Rows of w (..., N, d) scaled to w_i / sqrt(|w_i|^2 + eps) (unit length for eps = 0)."""
    return w * (w.square().sum(-1, keepdim=True) + eps).rsqrt()


def _kernel_sum(d2: Tensor, s: int, drop_diagonal: bool) -> tuple[Tensor, Tensor]:
    """sum over the last two dims of f(d2), and -df/dd2 (0 where d2 was clamped, and on the
    diagonal when it is dropped); overwrites d2."""
    diagonal = d2.diagonal(dim1=-2, dim2=-1)
    if drop_diagonal:
        diagonal.fill_(1.0)  # self-pairs: kept off the clamp here, zeroed below
    clamped = d2 <= D2_FLOOR if d2.min() <= D2_FLOOR else None  # coinciding neurons only: rare
    if clamped is not None:
        d2.clamp_min_(D2_FLOOR)
    if s == 0:
        f, neg_slope = d2.log().mul_(-0.5), d2.reciprocal_().mul_(0.5)
    elif s == 2:
        f = d2.reciprocal_()
        neg_slope = f.square()
    else:
        f = d2.pow(-0.5 * s)
        neg_slope = f.div(d2).mul_(0.5 * s)
    if clamped is not None:
        neg_slope.masked_fill_(clamped, 0.0)
    if drop_diagonal:
        f.diagonal(dim1=-2, dim2=-1).zero_()
        neg_slope.diagonal(dim1=-2, dim2=-1).zero_()
    return f.sum((-2, -1)), neg_slope


class _PairEnergy(torch.autograd.Function):
    """Energy of unit rows u (..., N, d) from their Gram matrix G = u u^T. The forward pass also
    forms the symmetric D = -df/dd2(2 - 2G) [+ df/dd2(2 + 2G)], so dE/dG = 2 D / pairs and the
    backward pass is one matmul, dE/du = (dE/dG + dE/dG^T) u = 4 D u / pairs."""

    @staticmethod
    def forward(ctx, u: Tensor, s: int, half_space: bool) -> Tensor:
        n = u.shape[-2]
        g = u @ u.mT
        total, d = _kernel_sum(torch.rsub(g, 2, alpha=2), s, drop_diagonal=True)  # d2 = 2 - 2 G
        pairs = n * (n - 1)  # ordered pairs i != j = twice the unordered ones
        if half_space:
            plus, neg_slope = _kernel_sum(torch.rsub(g, 2, alpha=-2), s, drop_diagonal=False)  # d2 = 2 + 2 G
            total, pairs = total + plus, n * (2 * n - 1)  # unordered pairs of the 2N points [w; -w]
            d.sub_(neg_slope)
        ctx.pairs = max(pairs, 1)  # no pair: energy 0
        ctx.save_for_backward(u, d)
        return total / ctx.pairs

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        u, d = ctx.saved_tensors
        return (d @ u) * (grad * (4 / ctx.pairs))[..., None, None], None, None


def mhe_energy(w: Tensor, s: int = 2, half_space: bool = False, eps: float = 1e-4) -> Tensor:
    """Mean over pairs i < j of f(2 - 2 cos_ij) for the rows of w (N, d) (module docstring);
    a batch of row sets (..., N, d) gives one energy per set. First-order differentiable."""
    return _PairEnergy.apply(unit_rows(w, eps), s, half_space)


@register
class MHE(Regularizer):
    """Penalty = sum over hidden weight layers of E_l + output_weight x E_out, with E the
    hyperspherical energy of a layer's neurons (half-space on hidden layers by default, always
    full-space on the classifier head). Default lambda 1.0 weights the hidden layers (paper).

    On 2-D inputs a layer's few neurons start close to collinear, and the 1/d^2 energy blows the
    first steps up: measured on moons (MLP 16-16, 30 epochs, seeds 0-1), lambda 0.1 and 1 end at
    test accuracy 0.5 after a task loss of 146 to 2e13; with the training option max_grad_norm 5
    both train to 1.0 (CE is unchanged by the clip)."""

    name = "mhe"
    quantity = Quantity("energy", "energy", "hyperspherical energy of the hidden layers (s=2, half-space; unitless)",
                        also={"energy_out": "hyperspherical energy of the output layer (s=2)"})
    step_goal = 3.0
    views = ("neurons", "nn_angles")  # comhe inherits them
    summary = "spread each layer's neurons evenly over the hypersphere (minimum hyperspherical energy)"
    params = (
        Param("s", 2, Choice((0, 1, 2)), "energy power: f = d^-s, s = 0 is the log kernel"),
        Param("half_space", True, Flag(), "hidden layers: energy of [w; -w] (collinear neurons repel)"),
        Param("output_weight", 10.0, Interval(float, 0, 1e4), "weight of the head's energy relative to hidden layers"),
    )
    default_lam = 1.0

    def hidden_energy(self, ctx: StepContext, i: int, rows: Tensor) -> Tensor:
        """Energy of hidden weight layer i (rows (N, d)); CoMHE overrides this."""
        return mhe_energy(rows, self.s, self.half_space)

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        *hidden, head = ctx.model.weight_layers()
        e_hidden = sum(self.hidden_energy(ctx, i, layer_rows(layer)) for i, layer in enumerate(hidden))
        return {"hidden_energy": e_hidden, "output_energy": self.output_weight * mhe_energy(layer_rows(head), self.s)}
