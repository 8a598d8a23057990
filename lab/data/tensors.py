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

    def with_second(self, batches: Iterator[Tensor], gen: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        """Each index batch paired with a second batch of the same size, drawn at every step without
        replacement from the samples NOT in the first (ITRA: two batches that share a sample align
        it with itself; the split must hold two batches, `second_batch_problem`). The first batches
        walk the epoch as CE's do, so a method with a second batch takes CE's number of optimizer steps."""
        for first in batches:
            free = torch.ones(len(self.y), dtype=torch.bool, device=self.y.device)
            free[first] = False
            order = torch.randperm(len(self.y), device=self.y.device, generator=gen)
            yield first, order[free[order]][: first.numel()]

    def balanced_batches(self, bs: int, n_classes: int, gen: torch.Generator) -> Iterator[Tensor]:
        """Class-balanced index batches: every class gets bs // C slots (at least 2), filled by
        per-class random permutations cycled as needed; `len // bs` batches per epoch, CE's count.
        A batch is laid out as (present classes, slots): row c holds class c's slots, in the random
        order of its permutation, so the batch carries its layout to the step (`StepContext.blocks`)."""
        per = max(2, bs // n_classes)
        order = torch.argsort(self.y * len(self.y) + torch.randperm(len(self.y), device=self.y.device, generator=gen))
        counts = torch.bincount(self.y, minlength=n_classes)
        starts = torch.cumsum(counts, 0) - counts
        n = max(1, len(self.y) // bs)  # CE's number of steps per epoch
        present = counts > 0
        # slot j of class c in batch b picks the (b * per + j) mod count_c-th member of class c
        k = torch.arange(n * per, device=self.y.device).view(n, 1, per)
        cls = torch.arange(n_classes, device=self.y.device)[present].view(1, -1, 1)
        pick = starts[cls] + k % counts[cls]
        for b in range(n):
            yield order[pick[b]]


def batching(needs: frozenset[str], bs: int, n_classes: int) -> str | None:
    """One line on how a method's batches differ from CE's (`bs` samples per step, one batch), or
    None when they do not; `needs` are the method's declared capabilities."""
    if "balanced_batches" in needs:
        per = max(2, bs // n_classes)
        differs = f" (CE's: {bs})" if per * n_classes != bs else ""
        return f"class-balanced batches of {per * n_classes}, {per} per class{differs}"
    if "second_batch" in needs:
        return f"two disjoint batches of {bs} per step, CE's one"
    return None


def second_batch_problem(needs: frozenset[str], bs: int, n_train: int) -> str | None:
    """Why a split of `n_train` samples cannot give a method that draws a second batch two disjoint
    batches of `bs`, in one line; None when it can (or the method draws none)."""
    if "second_batch" not in needs or n_train >= 2 * bs:
        return None
    return (f"this method draws two disjoint batches of {bs} per step, so it needs at least {2 * bs} training "
            f"samples (now {n_train}); set train_size to {2 * bs} or more, or batch_size to {max(1, n_train // 2)} or less.")
