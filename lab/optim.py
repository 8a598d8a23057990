"""The runs' optimizers, SGD with momentum and Adam, computing exactly what `torch.optim.SGD(lr, momentum)`
and `torch.optim.Adam(lr)` compute on the CPU (their documented update rules at the lab's settings: no
dampening, no Nesterov, no weight decay in the optimizer, Adam's betas (0.9, 0.999) and eps 1e-8; the same
tensor operations in the same order, so the same numbers: tests/test_optim.py), without torch.optim:
its `step` imports torch._dynamo on a process's first step (1.4-1.8 s here, sympy included), which was
most of the wait for a fresh app's first run."""
from __future__ import annotations

from typing import Iterable

import torch


class Optimizer:
    """Plain-tensor state per parameter; `zero_grad` and `step` as torch.optim's."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.lr = lr
        self.state: dict[int, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad, self.state.setdefault(id(p), {}))

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """b_t = μ b_{t-1} + g_t (b_1 = g_1), p_t = p_{t-1} - lr b_t (Sutskever et al. 2013, as torch.optim.SGD)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = momentum

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> None:
        if self.momentum:
            if "momentum_buffer" in state:
                grad = state["momentum_buffer"].mul_(self.momentum).add_(grad)
            else:
                grad = state["momentum_buffer"] = torch.clone(grad).detach()
        p.add_(grad, alpha=-self.lr)


class Adam(Optimizer):
    """m_t = β1 m + (1 - β1) g, v_t = β2 v + (1 - β2) g², p_t = p - lr/(1 - β1^t) · m_t / (√v_t / √(1 - β2^t) + ε)
    (Kingma & Ba 2015, as torch.optim.Adam computes it)."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps

    def _update(self, p: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor]) -> None:
        beta1, beta2 = self.betas
        if not state:
            state.update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p, memory_format=torch.preserve_format),
                         exp_avg_sq=torch.zeros_like(p, memory_format=torch.preserve_format))
        state["step"] += 1
        step = state["step"].item()
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (state["exp_avg_sq"].sqrt() / (1 - beta2 ** step) ** 0.5).add_(self.eps)
        p.addcdiv_(state["exp_avg"], denom, value=-(self.lr / (1 - beta1 ** step)))


def optimizer(name: str, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0) -> Optimizer:
    """The run's optimizer: "sgd" (with `momentum`) or "adam"."""
    return SGD(params, lr, momentum) if name == "sgd" else Adam(params, lr)
