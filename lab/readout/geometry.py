"""The geometry of a run's representation over its epochs (`lab.measure.geometry` on each
snapshot, read through the store), and the CKA between two runs on the same probe points."""
from __future__ import annotations

from typing import Callable

import numpy as np

from lab.measure.geometry import cka_versus, snapshot_geometry
from lab.readout.series import snapshots
from lab.store import RunRecord, load_snapshot


def _column(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


def geometry_series(run: RunRecord, epochs: list[int] | None = None, probe: bool = False,
                    progress: Callable[[float, str], None] | None = None) -> dict[str, dict]:
    """{layer: {"epoch", measure: (E,)}} for every hidden layer, and {"features": {"epoch", "nc3",
    "nc4"}}; NaN where a measure is undefined at an epoch. `probe`: the linear probe's accuracy too.
    `progress(fraction, message)` is called after each epoch."""
    chosen = run.snapshot_epochs if epochs is None else epochs
    rows: dict[str, dict[str, list]] = {}
    for i, (epoch, snap) in enumerate(snapshots(run, chosen)):
        g = snapshot_geometry(snap, probe=probe, cka=False)
        if progress:
            progress((i + 1) / len(chosen), f"{run.id}: epoch {epoch} measured ({i + 1} of {len(chosen)})")
        for layer, values in {**g["layers"], "features": {"nc3": g["nc3"], "nc4": g["nc4"]}}.items():
            row = rows.setdefault(layer, {"epoch": []})
            row["epoch"].append(epoch)
            for k, v in values.items():
                row.setdefault(k, []).append(v)
    return {layer: {k: _column(v) for k, v in row.items()} for layer, row in rows.items()}


def layer_cka(run: RunRecord, epoch: int) -> dict:
    """The layer x layer CKA of one snapshot: {"names", "matrix"} (None where undefined)."""
    return snapshot_geometry(load_snapshot(run, epoch), probe=False)["cka_layers"]


def cka_series(run: RunRecord, other: RunRecord, epochs: list[int] | None = None) -> dict[str, dict]:
    """{layer: {"epoch", "cka"}}: the CKA between the two runs' states, layer by layer, at every epoch
    both have (default: all of `run`'s that `other` has too)."""
    theirs = set(other.snapshot_epochs)
    rows: dict[str, dict[str, list]] = {}
    for epoch, snap in snapshots(run, [e for e in (epochs or run.snapshot_epochs) if e in theirs]):
        for layer, value in cka_versus(snap, load_snapshot(other, epoch)).items():
            row = rows.setdefault(layer, {"epoch": [], "cka": []})
            row["epoch"].append(epoch)
            row["cka"].append(value)
    return {layer: {k: _column(v) for k, v in row.items()} for layer, row in rows.items()}


def cka_matrix(runs: list[RunRecord], layer: str, epoch: int) -> list[list[float | None]]:
    """Run x run linear CKA of one layer at one epoch (the runs must share their probe points)."""
    from lab.measure.geometry import linear_cka
    from lab.measure.snapshot import features

    snaps = [load_snapshot(r, epoch) for r in runs]
    if any(not np.array_equal(s["probe_y"], snaps[0]["probe_y"]) for s in snaps):
        from lab.errors import ConfigError

        raise ConfigError("These runs do not share their probe points; CKA between runs needs the same points.")
    states = [features(s, layer).astype(np.float64) for s in snaps]
    return [[linear_cka(a, b) for b in states] for a in states]


def final_nc1(run: RunRecord) -> float:
    """NC1 of the features at the run's last snapshot (NaN when undefined or non-finite)."""
    from lab.errors import LabError
    from lab.measure.geometry import nc1
    from lab.measure.snapshot import feature_layer, features

    try:
        snap = load_snapshot(run, run.snapshot_epochs[-1])
        return nc1(features(snap, feature_layer(snap)), snap["probe_y"])
    except (LabError, IndexError):
        return float("nan")


def features_cka(run: RunRecord, other: RunRecord) -> float:
    """Linear CKA between two runs' features at their last common snapshot epoch (NaN when undefined)."""
    from lab.errors import LabError
    from lab.measure.geometry import linear_cka
    from lab.measure.snapshot import feature_layer, features

    common = sorted(set(run.snapshot_epochs) & set(other.snapshot_epochs))
    try:
        a, b = load_snapshot(run, common[-1]), load_snapshot(other, common[-1])
        return linear_cka(features(a, feature_layer(a)), features(b, feature_layer(b)))
    except (LabError, IndexError):
        return float("nan")
