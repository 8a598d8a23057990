"""`python -m lab measure RUN [--versus RUN2] [--epoch N] [--json]`: the geometry of a saved run's
representation at one epoch (`lab.measure.geometry.snapshot_geometry`: neural collapse per layer,
effective rank, participation ratio, a linear probe's accuracy, NC3/NC4 of the features, CKA between
its layers) and, with `--versus`, the CKA between the two runs layer by layer."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

HELP = "measure the geometry of a run's representation at one epoch (neural collapse, rank, CKA, probe)"


def main(argv: Sequence[str]) -> int:
    from lab.errors import ConfigError
    from lab.measure.geometry import LAYER_MEASURES, cka_versus, snapshot_geometry
    from lab.stats import num
    from lab.store import load_probe, load_run, load_snapshot, runs_root

    p = argparse.ArgumentParser(prog="python -m lab measure", description=HELP)
    p.add_argument("run", help="run id (under --runs) or run folder")
    p.add_argument("--versus", default=None, help="a second run on the same probe points: CKA between the two")
    p.add_argument("--epoch", type=int, default=None, help="the epoch (default: the last one both runs have)")
    p.add_argument("--json", action="store_true", help="print JSON, for scripts")
    p.add_argument("--no-probe", dest="probe", action="store_false", help="leave out the linear probe (the slow one)")
    p.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    ns = p.parse_args(argv)
    root = runs_root(ns.runs)
    runs = [load_run(ns.run, root)] + ([load_run(ns.versus, root)] if ns.versus else [])
    common = sorted(set.intersection(*(set(r.snapshot_epochs) for r in runs)))
    epoch = common[-1] if ns.epoch is None and common else ns.epoch
    if epoch not in common:
        raise ConfigError(f"No snapshot of epoch {epoch} in {' and '.join(r.id for r in runs)}; epochs: "
                          f"{', '.join(map(str, common)) or 'none'}.")
    snaps = [load_snapshot(r, epoch) for r in runs]
    said = (lambda m: print(f"measuring {runs[0].id}, epoch {epoch}: {m}", file=sys.stderr, flush=True)) \
        if ns.probe else None  # the probe takes seconds per layer: say what it is doing
    out = {"run": runs[0].id, "epoch": epoch, **snapshot_geometry(snaps[0], ns.probe, progress=said)}
    if ns.versus:
        if not (load_probe(runs[0])["x"] == load_probe(runs[1])["x"]).all():
            raise ConfigError(f"{runs[0].id} and {runs[1].id} do not share their probe points; CKA needs the same.")
        out["versus"], out["cka_versus"] = runs[1].id, cka_versus(snaps[0], snaps[1])
    if ns.json:
        print(json.dumps(out, indent=1))
        return 0
    keys = [k for k in LAYER_MEASURES if ns.probe or k != "probe_accuracy"]
    print(f"{out['run']} at epoch {epoch} (probe points: {len(snaps[0]['probe_y'])})")
    print(f"{'layer':<10}" + "".join(f"{k:>20}" for k in keys) + (f"{'CKA vs ' + runs[1].id[:12]:>22}" if ns.versus else ""))
    for layer, values in out["layers"].items():
        versus = f"{num(out['cka_versus'].get(layer)):>22}" if ns.versus else ""
        print(f"{layer:<10}" + "".join(f"{num(values[k]):>20}" for k in keys) + versus)
    print(f"features: NC3 {num(out['nc3'])}, NC4 {num(out['nc4'])}")
    names, matrix = out["cka_layers"]["names"], out["cka_layers"]["matrix"]
    print("CKA between layers:\n" + "\n".join(f"{a:<10}" + "".join(f"{num(v, 3):>10}" for v in row)
                                              for a, row in zip(names, matrix)))
    return 0
