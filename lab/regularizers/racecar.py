"""Racecar (Xie & Thuerey 2020, seed 001; tum-pbs/racecar): reverse-pass reconstruction.

Forward states d_1 = x, d_{m+1} = g_m(W_m d_m + b_m), m = 1..n (no activation after the
head, so d_{n+1} are the logits). The reverse pass runs the same weights backwards from the
logits: d'_{n+1} = d_{n+1}, d'_m = g_{m-1}(W_m^T (d'_{m+1} - b_m)) for m = n..2 and
d'_1 = W_1^T (d'_2 - b_1) (no activation for the input). Penalty = mean over the batch of
sum_m 0.5 ||d'_m - d_m||^2, input included, gradients through both d_m and d'_m.
A strided convolution reverses with the transposed convolution of the same kernel, stride
and padding (its adjoint); flatten reverses by reshape (each reconstruction takes the shape
of the forward state it reconstructs, so `Net.flatten_at` needs no special case).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from lab.models import ACTIVATIONS, Net, Out
from lab.regularizers.base import Quantity, Regularizer, StepContext, register

Activation = str | Callable[[Tensor], Tensor]
Geometry = tuple[tuple[int, ...], tuple[int, ...]]  # (stride, padding) of a conv layer
_CONV_T = {3: F.conv_transpose1d, 4: F.conv_transpose2d}


def _callable(activation: Activation) -> Callable[[Tensor], Tensor]:
    return ACTIVATIONS[activation] if isinstance(activation, str) else activation


def adjoint(weight: Tensor, y: Tensor, in_shape: Sequence[int], geometry: Geometry | None = None) -> Tensor:
    """W^T y: `y @ W` for a linear weight (out, in); for a conv weight (out, in, k[, k]) the
    transposed convolution with the conv's (stride, padding) and the output_padding that
    gives the forward input's spatial size `in_shape[-k_dims:]` back."""
    if weight.dim() == 2:
        return y.flatten(1) @ weight
    stride, padding = geometry
    k = weight.shape[2:]
    extra = tuple(s - ((o - 1) * st - 2 * p + kk)
                  for s, o, kk, st, p in zip(in_shape[-len(k):], y.shape[2:], k, stride, padding))
    return _CONV_T[weight.dim()](y, weight, stride=stride, padding=padding, output_padding=extra)


def reverse_pass(states: Sequence[Tensor], weights: Sequence[Tensor], biases: Sequence[Tensor],
                 activation: Activation, geometry: Sequence[Geometry | None] | None = None) -> list[Tensor]:
    """Reconstructions [d'_1, ..., d'_n] of the forward states `states` = [d_1, ..., d_{n+1}]
    (d_1 the input, d_{n+1} the logits), each shaped like its forward state. `geometry[m]` is
    layer m's (stride, padding) when it is a convolution, None for a linear layer."""
    act = _callable(activation)
    geometry = geometry or [None] * len(weights)
    d, recon = states[-1], []
    for m in reversed(range(len(weights))):
        b = biases[m].view(-1, *[1] * (d.dim() - 2))
        d = adjoint(weights[m], d - b, states[m].shape, geometry[m]).reshape(states[m].shape)
        d = act(d) if m > 0 else d
        recon.append(d)
    return recon[::-1]


def state_errors(states: Sequence[Tensor], recon: Sequence[Tensor]) -> list[Tensor]:
    """Per state m = 1..n (input first): mean over the batch of 0.5 ||d'_m - d_m||^2."""
    return [F.mse_loss(r, d, reduction="sum") * (0.5 / len(d)) for r, d in zip(recon, states)]


def reconstruction_errors(states: Sequence[Tensor], weights: Sequence[Tensor], biases: Sequence[Tensor],
                          activation: Activation, geometry: Sequence[Geometry | None] | None = None) -> list[Tensor]:
    """`state_errors` of the `reverse_pass` of `states`."""
    return state_errors(states, reverse_pass(states, weights, biases, activation, geometry))


def racecar_loss_dense(x: Tensor, weights: Sequence[Tensor], biases: Sequence[Tensor],
                       activation: Activation) -> Tensor:
    """The racecar penalty of a stack of linear layers (`weights[m]` of shape (out, in)),
    `activation` after every layer but the last: forward, reverse, sum of the per-state errors."""
    act = _callable(activation)
    states = [x]
    for m, (w, b) in enumerate(zip(weights, biases)):
        h = F.linear(states[-1], w, b)
        states.append(act(h) if m < len(weights) - 1 else h)
    return sum(reconstruction_errors(states, weights, biases, act))


def model_reverse_pass(model: Net, x: Tensor, out: Out | None = None) -> tuple[list[Tensor], list[Tensor]]:
    """(states [d_1 = x, ..., d_{n+1} = logits], reconstructions [d'_1, ..., d'_n]) of a `Net` on
    input `x`; `out` = the model's forward of `x` when already computed."""
    out = model(x) if out is None else out
    layers = model.weight_layers()
    geometry = [(m.stride, m.padding) if isinstance(m, (nn.Conv1d, nn.Conv2d)) else None for m in layers]
    states = [x, *out.hidden, out.logits]
    return states, reverse_pass(states, [m.weight for m in layers], [m.bias for m in layers], model.act, geometry)


def model_reconstruction_errors(model: Net, x: Tensor, out: Out | None = None) -> list[Tensor]:
    """Per-layer reconstruction errors of a `Net` on input `x` (input first, the last hidden
    state last); `out` = the model's forward of `x` when already computed. The penalty is their sum."""
    return state_errors(*model_reverse_pass(model, x, out))


@register
class Racecar(Regularizer):
    """Racecar training: the reverse pass with the same (transposed) weights, started from the
    logits, must reconstruct every layer's input, a data-dependent orthogonality constraint.

    Default lambda 1e-3 (per-sample mean; the released code sums over the batch, so its
    lambda = ours / batch size): measured at initialisation on digits, MLP 256-256,
    train_size 300, batch 128, seeds 0-2: task loss 2.31, penalty 59.1-59.8 (32-33 of it the
    input's, 23 the first hidden state's), so lambda x penalty is 2.6% of the task loss.
    """

    name = "racecar"
    quantity = Quantity("reconstruction", "recon", "reverse-pass reconstruction error (0.5 x squared distance per "
                                                   "sample, standardised input units²)")
    step_goal = 2.5
    summary = "reverse pass with the transposed weights must reconstruct every layer's input"
    views = ("reconstruction", "singular")
    default_lam = 1e-3

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        return {"reconstruction": sum(model_reconstruction_errors(ctx.model, ctx.x, ctx.out))}
