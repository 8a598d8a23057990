"""Models that return what the regularizers and views need: logits, features, hidden states.

Both models are a stack of weight layers (`nn.Linear` or strided `nn.Conv1d`/`nn.Conv2d`)
with one activation after every layer but the head, so the i-th hidden state is
`act(layer_i(hidden_{i-1}))` and the reverse pass of Racecar and the energies of MHE can
walk `weight_layers()` in order. No pooling and no normalisation layers: a strided
convolution keeps the reverse pass exact (its adjoint is the transposed convolution).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lab.errors import ConfigError
from lab.params import Choice, Interval, IntList, Param

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


class Out(NamedTuple):
    """Forward result: `logits` (n, C), `features` = last hidden state (n, d), `hidden` =
    post-activation state of every hidden layer, from the input side."""

    logits: Tensor
    features: Tensor
    hidden: tuple[Tensor, ...]


class Net(nn.Module):
    """A stack of weight layers; `act` after each but the last (the linear head).

    `dropout` (rate on hidden states, training mode only) is set by the `dropout` baseline;
    its masks are drawn from `generator` so concurrent runs stay reproducible.
    """

    def __init__(self, layers: list[nn.Module], flatten_at: int, activation: str):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.flatten_at = flatten_at  # index of the first linear layer (input flattened before it)
        self.activation = activation
        self.act = ACTIVATIONS[activation]
        self.dropout = 0.0
        self.generator: torch.Generator | None = None

    @property
    def head(self) -> nn.Linear:
        return self.layers[-1]

    def weight_layers(self) -> list[nn.Module]:
        """Every layer with a weight, in forward order (the head last); one rule for all callers."""
        return list(self.layers)

    def body(self, x: Tensor) -> tuple[Tensor, ...]:
        """Hidden states (post-activation, after dropout in training mode), from the input side."""
        hidden = []
        for i, layer in enumerate(self.layers[:-1]):
            if i == self.flatten_at:
                x = x.flatten(1)
            x = self.act(layer(x))
            if self.training and self.dropout > 0:
                keep = torch.rand(x.shape, device=x.device, generator=self.generator) >= self.dropout
                x = x * keep / (1 - self.dropout)
            hidden.append(x)
        return tuple(hidden)

    def forward(self, x: Tensor) -> Out:
        hidden = self.body(x)
        z = hidden[-1] if hidden else x.flatten(1)
        return Out(self.head(z), z, hidden)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default init (Kaiming-uniform weights, fan-in biases) from `generator`."""
        for layer in self.layers:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.weight[0].numel())
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def build_mlp(in_shape: tuple[int, ...], n_classes: int, widths: tuple[int, ...], activation: str) -> Net:
    """Linear layers in_dim -> widths... -> n_classes; the input is flattened first."""
    dims = [math.prod(in_shape), *widths, n_classes]
    return Net([nn.Linear(a, b) for a, b in zip(dims, dims[1:])], 0, activation)


def build_cnn(in_shape: tuple[int, ...], n_classes: int, channels: tuple[int, ...], kernel: int,
              feature_dim: int, activation: str) -> Net:
    """Strided conv blocks (stride 2, padding kernel // 2) on (C, L) signals or (C, H, W)
    images, then one fully connected feature layer of width `feature_dim`, then the head."""
    conv = {2: nn.Conv1d, 3: nn.Conv2d}[len(in_shape)]
    layers, c, size = [], in_shape[0], list(in_shape[1:])
    for ch in channels:
        layers.append(conv(c, ch, kernel, stride=2, padding=kernel // 2))
        size = [(s + 2 * (kernel // 2) - kernel) // 2 + 1 for s in size]
        if min(size) < 1:
            raise ConfigError(f"cnn: {len(channels)} stride-2 blocks shrink the input {in_shape} to nothing; "
                              f"use fewer channels entries.")
        c = ch
    flat = c * math.prod(size)
    layers += [nn.Linear(flat, feature_dim), nn.Linear(feature_dim, n_classes)]
    return Net(layers, len(channels), activation)


@dataclass(frozen=True)
class ModelSpec:
    """A model kind by name: its declared options and whether it needs image-shaped input."""

    name: str
    params: tuple[Param, ...]
    needs_image: bool


_ACT = Param("activation", "relu", Choice(("relu", "tanh")), "hidden-layer activation")
MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", (Param("widths", (256, 256), IntList(1, 4096), "hidden widths, input side first"),
                             _ACT), False),
    "cnn": ModelSpec("cnn", (Param("channels", (16, 32), IntList(1, 512, 5), "channels of the stride-2 conv blocks"),
                             Param("kernel", 3, Choice((3, 5)), "convolution kernel size"),
                             Param("feature_dim", 128, Interval(int, 2, 4096), "width of the feature layer"),
                             _ACT), True),
}


def check_compatible(model: str, data: str, sample_shape: tuple[int, ...]) -> None:
    """Refuse a CNN on vector data with what to use instead."""
    if MODELS[model].needs_image and len(sample_shape) < 2:
        raise ConfigError(f"The model 'cnn' needs image-shaped data; {data} has {sample_shape[0]}-d "
                          f"vectors: use --model mlp.")


def build_model(kind: str, params: dict, in_shape: tuple[int, ...], n_classes: int,
                generator: torch.Generator) -> Net:
    """A model initialised deterministically from `generator`, on the generator's device."""
    net = build_mlp(in_shape, n_classes, **params) if kind == "mlp" else build_cnn(in_shape, n_classes, **params)
    net.to(generator.device)
    net.reset_parameters(generator)
    net.generator = generator
    return net
