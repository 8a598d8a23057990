"""Per-epoch series of the measurements, computed from a saved run's probe snapshots.

Snapshots are read through `lab.store.load_snapshot` (never the files themselves); the
formulas are the pure `lab.measure` functions. Each function reads each snapshot once and
returns plain arrays keyed by epoch order, ready for `lab.figures`. Layer names: hidden states
"hidden_0", "hidden_1", ... (input side first, the last one is the features) and "logits";
weight layers are labelled by `lab.measure.snapshot.weight_label`, e.g. "layer 0 (linear 64->256)".
"""
from __future__ import annotations

from typing import Callable, Iterator, NamedTuple

import numpy as np

from lab.errors import StoreError
from lab.measure.angles import angle_summary
from lab.measure.information import KDE_NOISE, mi_binning, mi_kde
from lab.measure.similarity import similarity_stats
from lab.measure.snapshot import feature_layer, hidden_layers, is_finite, n_classes, weight_labels
from lab.stats import num
from lab.store import RunRecord, load_snapshot

Load = Callable[[int], dict[str, np.ndarray]]  # epoch -> snapshot: the store's, or the app's cache of it


def snapshots(run: RunRecord, epochs: list[int] | None = None) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(epoch, snapshot) for the requested epochs (default: every saved one), each loaded once."""
    for epoch in run.snapshot_epochs if epochs is None else epochs:
        yield epoch, load_snapshot(run, epoch)


class Readable(NamedTuple):
    """The epochs a view may show and, when some are hidden, one line saying why (else None)."""

    epochs: list[int]
    note: str | None


def readable_epochs(run: RunRecord, epochs: list[int] | None = None,
                    load: Load | None = None) -> Readable:
    """The snapshot epochs (default: every saved one) up to the last one before the first snapshot
    that is unreadable or holds non-finite values; the views cannot draw anything past it.
    `load(epoch)` reads a snapshot (default: from the store; the app passes its cache, so the
    snapshots read here are the ones its views then draw)."""
    epochs = run.snapshot_epochs if epochs is None else list(epochs)
    load = load or (lambda epoch: load_snapshot(run, epoch))
    for i, epoch in enumerate(epochs):
        try:
            finite = is_finite(load(epoch))
        except StoreError as e:
            return Readable(epochs[:i], _hidden(epochs[:i], f"{str(e).rstrip('.')}; delete the run or train it again"))
        if not finite:
            loss = next((m["train_loss"] for m in reversed(run.metrics) if m.get("train_loss") is not None), None)
            return Readable(epochs[:i], _hidden(epochs[:i], (
                f"the snapshots from epoch {epoch} on hold non-finite values (the run {run.state}"
                f"{f', train loss {num(loss)} at its last epoch' if loss is not None else ''}); "
                f"train it again with a lower learning rate or λ")))
    return Readable(epochs, None)


def spaced(epochs: list[int], most: int = 40) -> list[int]:
    """At most `most` of `epochs`, evenly spaced, keeping the first and the last."""
    if len(epochs) <= most:
        return list(epochs)
    return [epochs[i] for i in sorted(set(np.linspace(0, len(epochs) - 1, most).round().astype(int)))]


def _hidden(shown: list[int], why: str) -> str:
    return f"Showing epochs up to {shown[-1]}: {why}." if shown else f"Nothing to draw: {why}."


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(len(a), -1)


def _append(out: dict[str, dict[str, list]], key: str, epoch: int, values: dict[str, float]) -> None:
    row = out.setdefault(key, {"epoch": []})
    row["epoch"].append(epoch)
    for k, v in values.items():
        row.setdefault(k, []).append(v)


def _arrays(out: dict[str, dict[str, list]]) -> dict[str, dict[str, np.ndarray]]:
    return {key: {k: np.array(v) for k, v in row.items()} for key, row in out.items()}


def similarity_series(run: RunRecord, layer: str | None = None, epochs: list[int] | None = None) -> dict:
    """`similarity_stats` of one layer (default: the features, the last hidden state) per
    epoch: {"epoch": (E,), "intra", "inter", "gap": (E,), "matrix": (E, C, C)}."""
    out: dict[str, dict[str, list]] = {}
    for epoch, snap in snapshots(run, epochs):
        stats = similarity_stats(_flat(snap[layer or feature_layer(snap)]), snap["probe_y"], n_classes(snap))
        _append(out, "all", epoch, {k: stats[k] for k in ("intra", "inter", "gap", "matrix")})
    return _arrays(out).get("all", {})


def energy_series(run: RunRecord, s: int = 2, half_space: bool = False,
                  epochs: list[int] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """`angle_summary` of every weight layer per epoch: {label: {"epoch", "energy",
    "min_nn", "mean_nn"}} (angles in radians), labels from `weight_labels`."""
    out: dict[str, dict[str, list]] = {}
    for epoch, snap in snapshots(run, epochs):
        for key, label in weight_labels(snap).items():
            summary = angle_summary(snap[key], s, half_space)
            _append(out, label, epoch, {k: summary[k] for k in ("energy", "min_nn", "mean_nn")})
    return _arrays(out)


def mi_series(run: RunRecord, estimator: str = "binning", epochs: list[int] | None = None,
              n_bins: int = 30, adaptive: bool = True, noise_var: float = KDE_NOISE) -> dict[str, dict[str, np.ndarray]]:
    """I(X;T) and I(T;Y) in bits of every hidden layer per epoch: {"hidden_i": {"epoch",
    "ixt", "ity"}}, with `mi_binning(n_bins, adaptive)` or `mi_kde(noise_var)`."""
    if estimator not in ("binning", "kde"):
        raise ValueError(f"estimator must be 'binning' or 'kde'; got {estimator!r}")
    out: dict[str, dict[str, list]] = {}
    for epoch, snap in snapshots(run, epochs):
        for key in hidden_layers(snap):
            t, y = _flat(snap[key]), snap["probe_y"]
            mi = mi_binning(t, y, n_bins, adaptive) if estimator == "binning" else mi_kde(t, y, noise_var)
            _append(out, key, epoch, mi._asdict())
    return _arrays(out)
