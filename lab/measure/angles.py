"""Neurons as directions on the unit sphere: pairwise angles, the uniform reference, energy.

A weight layer's neurons are the rows of its weight, torch layout (out, in); a conv kernel
(out, in, k[, k]) is flattened per output channel to (out, in*k*k) (METHODS.md conventions).
The hyperspherical energy is `lab.regularizers.mhe_energy` itself, the function the MHE
regularizer minimises, so the view and the penalty cannot disagree. It is imported (with torch)
on first use, so the pages that only draw angles open without torch's import (1.3 s here).
"""
from __future__ import annotations

import math

import numpy as np

from lab.measure.similarity import as_array, unit_rows


def neuron_rows(w) -> np.ndarray:
    """The weight as (out, fan_in) rows, float64: conv kernels flattened per output channel."""
    return as_array(w).reshape(len(w), -1)


def _cosines(w) -> np.ndarray:
    u = unit_rows(w)  # flattens conv kernels per output channel
    return np.clip(u @ u.T, -1.0, 1.0)


def pairwise_angles(w) -> np.ndarray:
    """Angles in radians between the rows of `w` (N, ...), pairs i < j, shape (N(N-1)/2,)."""
    i, j = np.triu_indices(len(w), k=1)
    return np.arccos(_cosines(w)[i, j])


def uniform_angle_density(theta, d: int) -> np.ndarray:
    """Density of the angle between two independent uniform directions in R^d (d >= 2):
    p(theta) = sin(theta)^(d-2) / Z on [0, pi], Z = sqrt(pi) Gamma((d-1)/2) / Gamma(d/2),
    evaluated in log space (log-gamma) so it neither overflows nor underflows for large d.
    For d = 2 it is uniform, 1/pi; as d grows it concentrates at pi/2 with std ~ 1/sqrt(d)."""
    if d < 2:
        raise ValueError(f"the angle density needs d >= 2; got d={d}")
    theta = np.asarray(theta, dtype=np.float64)
    log_z = 0.5 * math.log(math.pi) + math.lgamma((d - 1) / 2) - math.lgamma(d / 2)
    log_p = np.full_like(theta, -log_z)
    if d > 2:
        with np.errstate(divide="ignore"):
            log_p += (d - 2) * np.log(np.sin(np.clip(theta, 0.0, np.pi)))
    return np.where((theta >= 0) & (theta <= np.pi), np.exp(log_p), 0.0)


def nearest_neighbour_angles(w, half_space: bool = False) -> np.ndarray:
    """Each row's angle (radians) to its nearest other row, shape (N,). `half_space`: the
    nearest of +-w_j, i.e. min(theta, pi - theta), the geometry half-space MHE spreads."""
    cos = _cosines(w)
    np.fill_diagonal(cos, -1.0)
    if half_space:
        cos = np.abs(cos)
        np.fill_diagonal(cos, 0.0)
    return np.arccos(cos.max(1))


def hyperspherical_energy(w, s: int = 2, half_space: bool = False, eps: float = 1e-4) -> float:
    """`mhe_energy` of the layer's rows (float64, no gradient): mean over pairs i < j of
    ||w_i_hat - w_j_hat||^(-s) (s = 0: -log distance); Liu et al. NeurIPS 2018."""
    import torch

    from lab.regularizers import mhe_energy

    rows = torch.from_numpy(neuron_rows(w))
    with torch.no_grad():
        return float(mhe_energy(rows, s=s, half_space=half_space, eps=eps))


def angle_summary(w, s: int = 2, half_space: bool = False) -> dict[str, float]:
    """One weight layer's numbers: `energy`, `min_nn` and `mean_nn` (nearest-neighbour angle,
    radians), `n` neurons and `d` fan-in."""
    rows = neuron_rows(w)
    nn_angle = nearest_neighbour_angles(rows, half_space)
    return {"energy": hyperspherical_energy(rows, s, half_space), "min_nn": float(nn_angle.min()),
            "mean_nn": float(nn_angle.mean()), "n": rows.shape[0], "d": rows.shape[1]}


def sphere_points(w) -> tuple[np.ndarray, str]:
    """Neuron directions as points on the unit sphere in 3-D, (N, 3), and a note saying how.

    d = 3: the unit rows themselves (exact). d = 2: the unit circle in the plane z = 0
    (exact). d > 3: projection of the unit rows onto their top-3 right singular vectors
    (uncentred PCA, so -w maps to minus the image of w), renormalised to length 1; angles
    are distorted, the note says so.
    """
    u = unit_rows(w)
    d = u.shape[1]
    if d <= 3:
        return np.pad(u, ((0, 0), (0, 3 - d))), f"exact (d = {d})"
    _, sv, vt = np.linalg.svd(u, full_matrices=False)
    kept = (sv[:3] ** 2).sum() / (sv ** 2).sum()
    p = unit_rows(np.pad(u @ vt[:3].T, ((0, 0), (0, max(0, 3 - len(vt))))))  # fewer than 3 neurons: pad
    return p, f"projected from d = {d} onto the top 3 singular directions ({kept:.0%} of the energy), renormalised"
