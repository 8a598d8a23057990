"""Reproduces the measurement behind ITRA's default (lab/regularizers/itra.py), at equal steps:
digits, 300 training samples, MLP 256-256, SGD lr 0.05, 30 epochs, seeds 0-2, batch 32/64/128;
CE against ITRA marginal (lambda 1) and class-conditional (lambda 0.1, 0.3, 1). Prints, per
batch size and variant, the mean test accuracy and the features' within-class / total variance.

    python scripts/itra_default.py [RUNS_DIR]      (about 1 minute on 2 cores; runs are reused)
"""
import itertools
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lab.config import RunConfig  # noqa: E402
from lab.readout.quantities import quantity_series  # noqa: E402
from lab.store import load_run  # noqa: E402
from lab.train import train  # noqa: E402

VARIANTS = [("ce", None, {}), ("itra", 1.0, {"class_conditional": False}), ("itra", 0.1, {}), ("itra", 0.3, {}),
            ("itra", 1.0, {})]


def main(root: Path) -> None:
    torch.set_num_threads(1)
    rows = defaultdict(list)
    for bs, (method, lam, opts), seed in itertools.product([32, 64, 128], VARIANTS, [0, 1, 2]):
        name = f"{method}-lam{lam}-cc{opts.get('class_conditional', True)}-b{bs}-s{seed}"
        if not (root / name).exists():
            train(RunConfig(data="digits", method=method, lam=lam, method_params=opts, epochs=30, batch_size=bs,
                            train_size=300, probe_size=500, seed=seed, name=name), runs=root)
        run = load_run(root / name)
        within = quantity_series(run, "itra", epochs=run.snapshot_epochs[-1:])["within"][0]
        rows[(bs, name.rsplit("-b", 1)[0])].append((run.final("test_acc"), within))
    print("batch  variant                      test acc  within/total variance")
    for (bs, variant), values in rows.items():
        acc, within = np.array(values).T
        print(f"{bs:5d}  {variant:27s}  {acc.mean():.3f}     {np.nanmean(within) if np.isfinite(within).any() else float('nan'):.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/itra-default"))
