"""Each method's own quantity over a saved run's snapshots (`lab.measure.quantities` on every
epoch), and the probe a run's quantities need, read through the store."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lab.errors import ConfigError
from lab.measure.quantities import Probe, measure, own_quantity
from lab.measure.snapshot import n_classes
from lab.regularizers import Quantity
from lab.regularizers.plugins import for_run
from lab.readout.series import snapshots
from lab.store import RunRecord, load_probe, load_run, load_snapshot


def run_probe(run: RunRecord) -> Probe:
    """The run's probe inputs and architecture (classes from its first snapshot)."""
    epochs = run.snapshot_epochs
    if not epochs:
        raise ConfigError(f"Run {run.id} has no snapshots to measure.")
    return Probe.of(load_probe(run)["x"], run.config, n_classes(load_snapshot(run, epochs[0])))


def quantity_series(run: RunRecord | str | Path, method: str | None = None, epochs: list[int] | None = None,
                    quantity: Quantity | None = None) -> dict[str, np.ndarray]:
    """`quantity` (default: `own_quantity(method)`, method default: the run's) at each snapshot
    epoch (default: all): {"epoch": (E,), key: (E,), extra keys of the measurement: (E,)}; a run
    folder path is accepted."""
    run = run if isinstance(run, RunRecord) else load_run(run)
    if run.config.plugin:  # a plug-in run's own quantity is its plug-in's: load it (the reference if its file is gone)
        for_run(run.config.plugin, run.config.method)
    quantity, probe = quantity or own_quantity(method or run.config.method), run_probe(run)
    rows = [(epoch, measure(quantity, snap, probe)) for epoch, snap in snapshots(run, epochs)]
    keys = list(rows[0][1]) if rows else [quantity.key]
    return {"epoch": np.array([e for e, _ in rows]), **{k: np.array([r[k] for _, r in rows]) for k in keys}}


def final_quantity(run: RunRecord, quantity: Quantity) -> float:
    """`quantity`'s main value on the run's last snapshot (nan when it has none, or when a diverged
    run's non-finite weights measure as nan)."""
    if not run.snapshot_epochs:
        return float("nan")
    with np.errstate(all="ignore"):
        return float(measure(quantity, load_snapshot(run, run.snapshot_epochs[-1]), run_probe(run))[quantity.key])
