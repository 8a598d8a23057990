"""Mutual information of a layer T with the input X and the label Y, in bits (METHODS.md).

X is uniform over the n probe points and the net is deterministic, so every estimate
needs a way to make T noisy or discrete; both below are the standard ones of the
information-plane literature (Shwartz-Ziv & Tishby 2017; Saxe et al. ICLR 2018;
Kolchinsky & Tracey 2017), and both have caveats the views must show (`binning_caveat`):

- I(X;T) <= log2 n: once every probe point has its own pattern (wide layers, many bins,
  small noise) the estimate saturates at log2 n and I(T;Y) at H(Y), whatever the net does.
- Binning depends on the bin count; ReLU activations are unbounded with many exact zeros,
  so equal-width bins from min to max put most values in the first bin (one large value
  stretches them all), and equal-mass bins merge the zeros into one bin. The "compression"
  phase seen with binned tanh layers comes from saturation (Saxe et al. 2018).
- The KDE estimate depends on the assumed noise variance relative to the activation scale.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lab.measure.similarity import as_array


KDE_NOISE = 1.0  # default noise variance of the KDE estimate (activation units²): near the scale of the
# lab's ReLU activations on standardised inputs, where the estimate neither saturates at log2 n nor
# collapses to 0; Saxe et al. 2018 used 0.1 for tanh units bounded by 1.


class MI(NamedTuple):
    """I(X;T) and I(T;Y) in bits."""

    ixt: float
    ity: float


def entropy_bits(ids: np.ndarray) -> float:
    """Plug-in entropy (bits) of the empirical distribution of the values in `ids`."""
    _, counts = np.unique(ids, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def mi_ceilings(y) -> MI:
    """The largest possible estimates on these probe labels: I(X;T) <= log2 n, I(T;Y) <= H(Y)."""
    y = as_array(y, np.int64)
    return MI(float(np.log2(len(y))), entropy_bits(y))


def bin_patterns(t, n_bins: int = 30, adaptive: bool = True) -> np.ndarray:
    """One integer id per sample: its tuple of per-unit bins (n,). Edges are shared by all
    units of the layer: `adaptive` = the n_bins-quantiles of all the layer's values (equal
    mass; repeated edges, e.g. from many zeros, are merged), else n_bins equal widths from
    the layer's min to max. Bin k holds the values in [edge_k, edge_k+1)."""
    t = as_array(t).reshape(len(t), -1)
    q = np.linspace(0, 1, n_bins + 1)[1:-1]  # inner edges only: the outer bins are open
    inner = np.unique(np.quantile(t, q)) if adaptive else t.min() + q * (t.max() - t.min())
    bins = np.searchsorted(inner, t, side="right").astype(np.min_scalar_type(n_bins))
    rows = np.ascontiguousarray(bins).view(np.dtype((np.void, bins.dtype.itemsize * bins.shape[1])))
    return np.unique(rows.ravel(), return_inverse=True)[1].ravel()


def mi_binning(t, y, n_bins: int = 30, adaptive: bool = True) -> MI:
    """Binning estimate: I(X;T) = H(T) (X uniform, T a function of X) and
    I(T;Y) = H(T) - sum_c p_c H(T | Y = c) = H(T) + H(Y) - H(T, Y), T the bin pattern
    (`bin_patterns`). Caveats in the module docstring; `binning_caveat` words them for a view."""
    pattern, y = bin_patterns(t, n_bins, adaptive), as_array(y, np.int64)
    h_t = entropy_bits(pattern)
    joint = pattern * (int(y.max()) + 1) + y
    return MI(h_t, h_t + entropy_bits(y) - entropy_bits(joint))


def gaussian_kernel_rows(t: np.ndarray, rows: slice, noise_var: float) -> np.ndarray:
    """exp(-||t_i - t_j||^2 / (2 noise_var)) for i in `rows` and every j, (len(rows), n),
    with k(t_i, t_i) = 1 exactly. Exponents below -60 are raised to -60: those terms are
    < 1e-26 beside the self-term 1, and it avoids slow subnormal arithmetic."""
    a = t[rows]
    k = a @ t.T
    k *= 2
    k -= (a * a).sum(1)[:, None]
    k -= (t * t).sum(1)[None, :]  # now -||t_i - t_j||^2
    k /= 2 * noise_var
    np.minimum(k, 0.0, out=k)
    k[np.arange(len(a)), np.arange(len(t))[rows]] = 0.0
    return np.exp(np.maximum(k, -60.0, out=k), out=k)


def mi_kde(t, y, noise_var: float = KDE_NOISE, block: int = 2048) -> MI:
    """Pairwise-distance (Kolchinsky-Tracey) estimate for T + N(0, noise_var I):
    I(X;T) = -(1/n) sum_i log2((1/n) sum_j exp(-||t_i - t_j||^2 / (2 noise_var))),
    I(T;Y) = I(X;T) - sum_c p_c I_c(X;T), I_c the same sum within class c. The noise
    variance sets the resolution (default `KDE_NOISE`), so compare runs at one value.
    The largest term of every row is its own (j = i, exp(0) = 1), so the plain sum is
    already the stable log-sum-exp: no overflow, and never log of 0. Rows are processed
    `block` at a time: memory O(block x n), time O(n^2 d)."""
    t, y = as_array(t).reshape(len(t), -1), as_array(y, np.int64)
    onehot = np.eye(int(y.max()) + 1)[y]
    n = len(y)
    total, own = np.empty(n), np.empty(n)
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        k = gaussian_kernel_rows(t, rows, noise_var)
        total[rows] = k.sum(1)
        own[rows] = (k @ onehot)[np.arange(k.shape[0]), y[rows]]
    ixt = -np.log2(total / n).mean()
    within = -np.log2(own / onehot.sum(0)[y]).mean()
    return MI(float(ixt), float(ixt - within))


def binning_caveat(activation: str, adaptive: bool = True, n_bins: int = 30, n: int | None = None) -> str:
    """A sentence for the view beside a binning estimate of a layer with `activation`."""
    parts = [f"Binning with {n_bins} {'equal-mass' if adaptive else 'equal-width'} bins: the numbers change "
             f"with the bin count."]
    if activation == "relu":
        parts.append("ReLU outputs are unbounded with many exact zeros, so "
                     + ("the zeros share one bin." if adaptive else "a few large values stretch the bins and most "
                                                                 "values fall in the first one."))
    elif activation == "tanh":
        parts.append("Saturated tanh units (near +-1) fall in the end bins; the 'compression' this shows is an "
                     "effect of saturation (Saxe et al. 2018).")
    bound = f"log2 {n} = {np.log2(n):.2f} bits" if n else "log2 of the number of probe points"
    parts.append(f"I(X;T) cannot exceed {bound}; at that ceiling every point has its own pattern and I(T;Y) = H(Y).")
    return " ".join(parts)
