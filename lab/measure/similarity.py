"""Cosine similarity of representations within and between classes (METHODS.md, Measurements).

Exact means come from per-class sums of unit vectors, O(n d) instead of O(n^2 d): with
S_c = sum_{i in c} z_i / ||z_i||, the sum of cos(z_i, z_j) over i in c, j in c' is S_c . S_c',
and over same-class pairs i != j it is ||S_c||^2 - sum_{i in c} ||z_i / ||z_i||||^2 (= n_c).
A zero vector (every unit of a layer dead for that sample) has cosine 0 with everything.
"""
from __future__ import annotations

import numpy as np


def as_array(x, dtype=np.float64) -> np.ndarray:
    """A numpy array of `dtype` from an array or a torch tensor (detached, moved to the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def unit_rows(x, eps: float = 1e-12) -> np.ndarray:
    """Rows flattened to vectors and scaled to unit length (zero rows stay zero), float64."""
    z = as_array(x).reshape(len(x), -1)
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), eps)


def similarity_stats(features, labels, n_classes: int | None = None) -> dict:
    """Mean cosine similarity of the rows of `features` (n, ...) by class.

    Returns `matrix` (C, C): mean cos over pairs (i in c, j in c', i != j), NaN where a
    class has no such pair; `intra` / `inter`: mean over all same-class / all
    different-class pairs (each pair once per order, so a pair-weighted mean, not a mean of
    the matrix); `gap` = intra - inter; `counts` (C,) samples per class.
    """
    z, y = unit_rows(features), as_array(labels, np.int64)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    onehot = np.zeros((len(y), n_classes))
    onehot[np.arange(len(y)), y] = 1.0
    sums = onehot.T @ z  # S_c
    counts = onehot.sum(0)
    total = sums @ sums.T
    np.fill_diagonal(total, np.diag(total) - onehot.T @ (z * z).sum(1))  # drop i == j
    pairs = np.outer(counts, counts) - np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = total / pairs
    same = np.eye(n_classes, dtype=bool)
    intra = total[same].sum() / max(pairs[same].sum(), 1)
    inter = total[~same].sum() / max(pairs[~same].sum(), 1)
    return {"matrix": matrix, "intra": float(intra), "inter": float(inter), "gap": float(intra - inter),
            "counts": counts.astype(np.int64)}


def sample_pair_similarities(features, labels, n_pairs: int = 5000, seed: int = 0) -> dict[str, np.ndarray]:
    """Cosine similarities of `n_pairs` random same-class and `n_pairs` random
    different-class pairs, for histograms: {"intra": (n_pairs,), "inter": (n_pairs,)}.

    Each pair's first member is uniform over the samples (of classes with >= 2 samples for
    intra), the second uniform over the other samples of its class (intra) or over all
    samples of other classes (inter); with balanced classes every pair is equally likely.
    """
    z, y = unit_rows(features), as_array(labels, np.int64)
    rng = np.random.default_rng(seed)
    order = np.argsort(y, kind="stable")
    _, start, count = np.unique(y[order], return_index=True, return_counts=True)
    cls = np.searchsorted(np.unique(y), y[order])  # class block of each sorted position
    pos = np.arange(len(y)) - start[cls]  # position inside the block
    out = {"intra": np.empty(0), "inter": np.empty(0)}
    ok = np.flatnonzero(count[cls] >= 2)
    if len(ok):
        a = rng.choice(ok, n_pairs)
        b = start[cls[a]] + (pos[a] + 1 + rng.integers(0, count[cls[a]] - 1)) % count[cls[a]]
        out["intra"] = (z[order[a]] * z[order[b]]).sum(1)
    ok = np.flatnonzero(count[cls] < len(y))
    if len(ok):
        a = rng.choice(ok, n_pairs)
        r = rng.integers(0, len(y) - count[cls[a]])
        b = np.where(r < start[cls[a]], r, r + count[cls[a]])
        out["inter"] = (z[order[a]] * z[order[b]]).sum(1)
    return out


def class_spread(features, labels, n_classes: int | None = None) -> np.ndarray:
    """Per class c: its within-class variance over the total variance of the rows of `features`,
    (1/n_c) sum_{i in c} ||z_i - mu_c||^2 / ((1/n) sum_i ||z_i - mu||^2), shape (C,); NaN for a
    class without samples, and everywhere when every sample is the same point. Their mean
    weighted by n_c / n is `within_class_ratio`."""
    z, y = as_array(features).reshape(len(features), -1), as_array(labels, np.int64)
    n_classes = int(y.max()) + 1 if n_classes is None else n_classes
    total = ((z - z.mean(0)) ** 2).sum() / len(z)
    out = np.full(n_classes, np.nan)
    for c in np.unique(y):
        out[c] = ((z[y == c] - z[y == c].mean(0)) ** 2).sum(1).mean() / total if total > 0 else np.nan
    return out


def within_class_ratio(features, labels) -> float:
    """Within-class / total variance of the rows of `features` (n, ...):
    sum_c sum_{i in c} ||z_i - mu_c||^2 / sum_i ||z_i - mu||^2, in [0, 1]: 0 when every class
    is one point, about 1 when the class means coincide. Invariant to scaling the features,
    so shrinking them cannot pass for compactness (the "compact features" of ITRA, seed 003).
    NaN when every sample is the same point. The class-weighted mean of `class_spread`."""
    y = as_array(labels, np.int64)
    spread = class_spread(features, y)
    counts = np.bincount(y, minlength=len(spread))
    return float((counts[counts > 0] * spread[counts > 0]).sum() / len(y))
