"""Device choice, made once per run: CUDA when present (for "auto"), else CPU."""
from __future__ import annotations

import torch

from lab.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def check_device(name: str) -> str:
    """`name` if usable here; "cuda" without a GPU is refused with what to use instead."""
    if name not in DEVICES:
        raise ConfigError(f"Unknown device {name!r}; choose one of: {', '.join(DEVICES)}.")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("The device 'cuda' is not available on this machine; use --device cpu or auto.")
    return name


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for a checked name."""
    if check_device(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on `device` seeded with `seed`: every random draw of a run goes through it,
    so concurrent runs in threads stay reproducible (the global RNG is never used)."""
    return torch.Generator(device=device).manual_seed(seed)
