"""The geometry of one snapshot: every measure of `lab.measure.geometry.snapshot_geometry` (neural
collapse per layer, effective rank, participation ratio, NC3/NC4, layer x layer CKA), without and
with the linear probe, on 2,000 probe points of an MNIST-1D MLP 256-256 after one epoch.

    python -m bench.geometry        (merges geometry_s, geometry_probe_s into bench/results.json)

Statistic: the median of 5 timings (the probe: of 1); threads as the machine gives them (2 cores
here). Goal: geometry_s <= 0.5 s.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.embed import probe_run
from lab.measure.geometry import snapshot_geometry
from lab.store import load_snapshot

GOAL_S = 0.5
HERE = Path(__file__).parent


def geometry_bench(quick: bool = False) -> dict:
    """{"geometry_s": median seconds of one snapshot's measures, "geometry_probe_s": with the probe}."""
    with tempfile.TemporaryDirectory() as folder:
        run = probe_run(Path(folder), epochs=1)
        snap = load_snapshot(run, 1)
        times = []
        for _ in range(2 if quick else 5):
            t0 = time.perf_counter()
            snapshot_geometry(snap, probe=False)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        snapshot_geometry(snap, probe=True)
        return {"geometry_s": statistics.median(times), "geometry_probe_s": time.perf_counter() - t0}


def main() -> None:
    path = HERE / "results.json"
    results = json.loads(path.read_text())
    results.update(geometry_bench(), geometry_date=time.strftime("%Y-%m-%d %H:%M"))
    path.write_text(json.dumps(results, indent=1))
    from bench.__main__ import table

    (HERE / "results.md").write_text(table(results))
    print(f"geometry_s {results['geometry_s']:.3f} s, with the probe {results['geometry_probe_s']:.2f} s")


if __name__ == "__main__":
    main()
