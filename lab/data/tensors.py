"""Whole splits as tensors on the device; a batch is an index slice (airbench style)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
from torch import Tensor


@dataclass
class TensorSet:
    """A split: standardised `x` (n, *shape) and labels `y` (n,), both on one device."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device) -> "TensorSet":
        return TensorSet(self.x.to(device), self.y.to(device))

    def batches(self, bs: int, gen: torch.Generator) -> Iterator[Tensor]:
        """Index tensors of a random permutation, `len // bs` full batches (one short batch when
        the split is smaller than `bs`)."""
        idx = torch.randperm(len(self.y), device=self.y.device, generator=gen)
        n = max(1, len(idx) // bs)
        for i in range(n):
            yield idx[i * bs:(i + 1) * bs]

    def pair_batches(self, bs: int, gen: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        """Two disjoint index batches per step (ITRA): consecutive slices of one permutation,
        so one epoch still visits every sample once (batches shrink to half the split if needed)."""
        it = self.batches(max(1, min(bs, len(self.y) // 2)), gen)
        for a, b in zip(it, it):
            yield a, b

    def balanced_batches(self, bs: int, n_classes: int, gen: torch.Generator) -> Iterator[Tensor]:
        """Class-balanced index batches: every class gets bs // C slots (at least 2), filled by
        per-class random permutations cycled as needed; `len // bs` batches per epoch."""
        per = max(2, bs // n_classes)
        order = torch.argsort(self.y * len(self.y) + torch.randperm(len(self.y), device=self.y.device, generator=gen))
        counts = torch.bincount(self.y, minlength=n_classes)
        starts = torch.cumsum(counts, 0) - counts
        n = max(1, len(self.y) // (per * n_classes))
        present = counts > 0
        # slot j of class c in batch b picks the (b * per + j) mod count_c-th member of class c
        k = torch.arange(n * per, device=self.y.device).view(n, 1, per)
        cls = torch.arange(n_classes, device=self.y.device)[present].view(1, -1, 1)
        pick = starts[cls] + k % counts[cls]
        for b in range(n):
            yield order[pick[b].reshape(-1)]
