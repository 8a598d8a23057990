"""The geometry of one layer's representation (METHODS.md, "Geometry of a representation"): arrays in,
numbers out. H (n x d) are a layer's probe states (conv states flattened), y their labels; mu_G is
the mean of all rows, mu_c the mean of class c's rows over the C classes present, M the C x d matrix
of rows mu_c - mu_G.

- Neural collapse (Papyan, Han & Donoho 2020): `nc1` within-class variability against the class
  means' spread, `equinorm`, `equiangularity` and `simplex_gap` of the centred class means, `nc3`
  classifier/class-mean self-duality, `nc4` disagreement of the classifier with the nearest class mean.
- `effective_rank` (Roy & Vetterli 2007) and `participation_ratio` of the centred states.
- `linear_cka` between two representations of the same probe points (Kornblith et al. 2019).
- `probe_accuracy`: a linear probe's cross-validated accuracy (Alain & Bengio 2016).

A degenerate input (fewer than two classes, class means that coincide, constant features) is a
`ConfigError` in one line, never a NaN.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from lab.errors import ConfigError


def _states(h) -> np.ndarray:
    h = np.asarray(h, np.float64)
    return h.reshape(len(h), -1)


def class_means(h, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the classes present, their means mu_c (C x d), M = the rows mu_c - mu_G)."""
    h, y = _states(h), np.asarray(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ConfigError(f"The geometry of a layer needs two classes or more among the probe points; it has "
                          f"{len(classes)}.")
    means = np.stack([h[y == c].mean(0) for c in classes])
    return classes, means, means - h.mean(0)


def _nonzero(s: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The singular values `s` above rounding (numpy's matrix-rank tolerance)."""
    return s[s > s.max(initial=0.0) * max(shape) * np.finfo(np.float64).eps] if s.size else s


def nc1(h, y) -> float:
    """tr(S_W S_B^+) / C, S_B^+ restricted to S_B's top C - 1 eigenpairs. With M = U Sigma V^T,
    S_B = V Sigma^2 V^T / C, so the trace is (C/n) sum_k ||W v_k||^2 / sigma_k^2 (W: the rows
    h_i - mu_{y_i}), computed without forming the d x d matrices."""
    h, y = _states(h), np.asarray(y)
    classes, means, m = class_means(h, y)
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    keep = min(len(classes) - 1, len(_nonzero(s, m.shape)))
    if keep == 0:
        raise ConfigError("The class means of this layer coincide (constant or collapsed features): NC1 is undefined.")
    within = h - means[np.searchsorted(classes, y)]
    proj = within @ vt[:keep].T  # n x keep
    return float((proj ** 2).sum(0).dot(1.0 / s[:keep] ** 2) / len(h))


def _norms(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1)
    if not (norms > 0).all():
        raise ConfigError("A class mean of this layer equals the global mean (constant or collapsed features): its "
                          "direction is undefined.")
    return norms


def equinorm(h, y) -> float:
    """std_c ||mu_c - mu_G|| / mean_c ||mu_c - mu_G|| (population std): 0 when every class mean is
    as far from the global mean."""
    norms = _norms(class_means(h, y)[2])
    return float(norms.std() / norms.mean())


def _pair_cosines(h, y) -> tuple[np.ndarray, int]:
    m = class_means(h, y)[2]
    unit = m / _norms(m)[:, None]
    i, j = np.triu_indices(len(m), k=1)
    return (unit @ unit.T)[i, j], len(m)


def equiangularity(h, y) -> float:
    """The (population) std over pairs c < c' of cos(mu_c - mu_G, mu_c' - mu_G)."""
    return float(_pair_cosines(h, y)[0].std())


def simplex_gap(h, y) -> float:
    """The mean over pairs c < c' of |cos(mu_c - mu_G, mu_c' - mu_G) + 1/(C - 1)|: 0 for a simplex ETF."""
    cos, c = _pair_cosines(h, y)
    return float(np.abs(cos + 1.0 / (c - 1)).mean())


def nc3(h, y, weight) -> float:
    """|| W/||W||_F - M/||M||_F ||_F^2, W the head's weight rows (classes x d) of the classes present."""
    classes, _, m = class_means(h, y)
    w = np.asarray(weight, np.float64)[classes]
    wn, mn = np.linalg.norm(w), np.linalg.norm(m)
    if wn == 0 or mn == 0:
        raise ConfigError("NC3 needs a non-zero classifier and class means that differ.")
    return float(((w / wn - m / mn) ** 2).sum())


def nc4(h, y, logits) -> float:
    """The share of probe points whose predicted class (argmax of the logits) is not the class of
    the nearest class mean (Euclidean, in H)."""
    h = _states(h)
    classes, means, _ = class_means(h, y)
    d2 = (h ** 2).sum(1)[:, None] - 2 * h @ means.T + (means ** 2).sum(1)[None]
    nearest = classes[np.argmin(d2, axis=1)]
    return float((np.argmax(np.asarray(logits), axis=1) != nearest).mean())


def _spectrum(h) -> np.ndarray:
    """The non-zero singular values of the centred H, as the square roots of the eigenvalues of its
    smaller Gram matrix (a d x d or n x n eigenproblem: 10x faster than the SVD at 2000 x 256)."""
    h = _states(h)
    c = h - h.mean(0)
    gram = c.T @ c if c.shape[1] <= c.shape[0] else c @ c.T
    s = _nonzero(np.sqrt(np.clip(np.linalg.eigvalsh(gram), 0, None))[::-1], h.shape)
    if not s.size:
        raise ConfigError("This layer's states are constant over the probe points: their rank is 0.")
    return s


def effective_rank(h, spectrum: np.ndarray | None = None) -> float:
    """exp(-sum_k p_k log p_k), p_k = s_k / sum s over the non-zero singular values of the centred H
    (`spectrum`: those values, when already computed)."""
    s = _spectrum(h) if spectrum is None else spectrum
    p = s / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def participation_ratio(h, spectrum: np.ndarray | None = None) -> float:
    """(sum s^2)^2 / sum s^4 over the singular values of the centred H (of its covariance's eigenvalues)."""
    e = (_spectrum(h) if spectrum is None else spectrum) ** 2
    return float(e.sum() ** 2 / (e ** 2).sum())


def linear_cka(x, y) -> float:
    """||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) of the centred X (n x p) and Y (n x q) on the same
    probe points, through the n x n Gram matrices when they are smaller."""
    x, y = _states(x), _states(y)
    if len(x) != len(y):
        raise ConfigError(f"CKA compares two representations of the same probe points; these have {len(x)} and "
                          f"{len(y)} rows.")
    x, y = x - x.mean(0), y - y.mean(0)
    if len(x) < x.shape[1] + y.shape[1]:
        kx, ky = x @ x.T, y @ y.T
        num, den = (kx * ky).sum(), np.linalg.norm(kx) * np.linalg.norm(ky)
    else:
        num, den = np.linalg.norm(y.T @ x) ** 2, np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    if den == 0:
        raise ConfigError("CKA is undefined for a representation that is constant over the probe points.")
    return float(num / den)


def probe_accuracy(h, y, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a linear probe (scikit-learn's LogisticRegression, C = 1, max_iter 1000, on
    standardised H) over a stratified `folds`-fold cross-validation shuffled with `seed`; fewer folds
    when the smallest class has fewer points (2 at least)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    h, y = _states(h), np.asarray(y)
    class_means(h, y)  # two classes at least
    k = min(folds, int(np.unique(y, return_counts=True)[1].min()))
    if k < 2:
        raise ConfigError("A linear probe needs two probe points of every class (one to fit, one to test).")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    return float(cross_val_score(model, h, y, cv=StratifiedKFold(k, shuffle=True, random_state=seed)).mean())


LAYER_MEASURES = {"nc1": nc1, "equinorm": equinorm, "equiangularity": equiangularity, "simplex_gap": simplex_gap,
                  "effective_rank": lambda h, y, s=None: effective_rank(h, s),
                  "participation_ratio": lambda h, y, s=None: participation_ratio(h, s), "probe_accuracy": probe_accuracy}
SPECTRAL = ("effective_rank", "participation_ratio")  # the measures that share one spectrum per layer


def _or_none(f, *args) -> float | None:
    """`f(*args)`, or None where the measure is undefined for this input (a degenerate layer)."""
    try:
        return f(*args)
    except ConfigError:
        return None


def snapshot_geometry(snapshot: dict[str, np.ndarray], probe: bool = True, cka: bool = True,
                      progress: Callable[[str], None] | None = None) -> dict:
    """Every measure of every hidden layer of one snapshot ({"layers": {layer: {measure: value}}}),
    NC3 and NC4 of the features, and (`cka`) the layer x layer CKA ({"names", "matrix"}); None where
    a measure is undefined. `probe`: include the linear probe's accuracy (the slow one).
    `progress(message)` is called before each layer."""
    from lab.measure.snapshot import feature_layer, features, hidden_layers

    y = snapshot["probe_y"]
    names = hidden_layers(snapshot)
    states = {name: features(snapshot, name).astype(np.float64) for name in names}
    layers, varies = {}, {}
    for i, (name, h) in enumerate(states.items()):
        if progress:
            progress(f"{name} ({i + 1} of {len(states)}){', with its linear probe' if probe else ''}")
        s = varies[name] = _or_none(_spectrum, h)
        layers[name] = {k: (None if k in SPECTRAL and s is None else _or_none(f, h, y, *([s] if k in SPECTRAL else [])))
                        for k, f in LAYER_MEASURES.items() if probe or k != "probe_accuracy"}
    head = sorted((k for k in snapshot if k.startswith("weight_")), key=lambda k: int(k.split("_")[1]))[-1]
    feats = states.get(feature_layer(snapshot))
    pairs = {(a, b): _or_none(linear_cka, states[a], states[b])
             for i, a in enumerate(names) for b in names[i + 1:]} if cka else {}
    matrix = [[(1.0 if varies[a] is not None else None) if a == b else pairs.get((a, b), pairs.get((b, a)))
               for b in names] for a in names] if cka else []
    return {"layers": layers, "nc3": _or_none(nc3, feats, y, snapshot[head]) if feats is not None else None,
            "nc4": _or_none(nc4, feats, y, snapshot["logits"]) if feats is not None else None,
            "cka_layers": {"names": names, "matrix": matrix}}


def cka_versus(snapshot: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Linear CKA between two runs' snapshots on the same probe points, layer by layer (the layers both have)."""
    from lab.measure.snapshot import features, hidden_layers

    if not np.array_equal(snapshot["probe_y"], other["probe_y"]):
        raise ConfigError("These runs do not share their probe points (other data, split or probe size); CKA "
                          "between runs needs the same points.")
    shared = [k for k in hidden_layers(snapshot) if k in other]
    return {k: _or_none(linear_cka, features(snapshot, k), features(other, k)) for k in shared}
