"""Embedding speed on 2,000 probe points, as ratios to scikit-learn's TSNE on the same points.

    python -m bench.embed [--quick]

Points: the second hidden layer (256 units) of an MNIST-1D MLP 256-256 after each training
epoch, on 2,000 training signals (the run's own probe set has only 1,000: the test split).
Like for like: the lab's t-SNE runs on one thread (its default, `n_jobs` 1), so scikit-learn
`TSNE(random_state=0)` (its defaults: up to 1,000 iterations at angle 0.5) is limited to one
thread too (`n_jobs=1` and one OpenMP thread); the thread counts are saved with the result.
Timed in one process: scikit-learn, the lab's cold t-SNE, its warm-started t-SNE per epoch
(from the previous epoch's map), UMAP cold (numba compilation is done by a warm-up call first
and reported apart) and warm-started, and a cached re-view of a whole t-SNE sequence through
`embed_run`. Each map's quality is measured and saved (`tsne_quality`): 2-D k-NN accuracy
(5-fold) and trustworthiness (10 neighbours), so a ratio is read at the quality it came with.
Statistic: the median over repetitions of each time. Goals: cold <= 0.5 x scikit-learn,
warm <= 0.15 x, cached re-view < 0.2 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from lab.config import RunConfig, validate
from lab.data import Prepared, prepare
from lab.data.tensors import TensorSet
from lab.measure.embed import embed, knn_accuracy, procrustes_align
from lab.measure.umap_layout import umap_modules
from lab.measure.snapshot import features
from lab.readout.embeddings import embed_run
from lab.store import load_snapshot
from lab.train import probe_snapshot, train

N_POINTS = 2000


def probe_run(root: Path, epochs: int) -> Path:
    """Train MNIST-1D for `epochs` and write, after each epoch, a snapshot of 2,000 training
    points into the run folder `<root>/probe2000` (same format as the run store's)."""
    cfg = validate(RunConfig(data="mnist1d", epochs=epochs, name="bench"))
    data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed)
    big = Prepared(data.train, data.test, TensorSet(data.train.x[:N_POINTS], data.train.y[:N_POINTS]),
                   data.classes, data.sample_shape)
    out = root / "probe2000" / "snapshots"
    out.mkdir(parents=True)

    def on_epoch(ev: dict) -> None:
        if ev["event"] == "epoch":
            np.savez(out / f"epoch_{ev['record']['epoch']:03d}.npz", **probe_snapshot(ev["model"], big))

    train(cfg, runs=root, on_progress=on_epoch)
    return out.parent


def _timed(f):
    t0 = time.perf_counter()
    value = f()
    return value, time.perf_counter() - t0


def _quality(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, float]:
    """A map's quality: 2-D k-NN accuracy (5-fold CV) and trustworthiness (10 neighbours)."""
    from sklearn.manifold import trustworthiness

    return {"knn": knn_accuracy(z, y), "trustworthiness": float(trustworthiness(x, z, n_neighbors=10))}


def _said(q: dict[str, float]) -> str:
    return f"2-D k-NN {q['knn']:.3f}, trustworthiness {q['trustworthiness']:.4f}"


def embed_bench(quick: bool = False) -> dict:
    """{"tsne_cold_ratio", "tsne_warm_ratio", "umap_compiled_s" (numba already compiled), "umap_warm_s", "cached_view_s",
    "tsne_threads", "tsne_quality"}: ratios to scikit-learn TSNE on the same 2,000 points and
    the same single thread, with both maps' quality. Prints a table as it goes."""
    from sklearn.manifold import TSNE

    epochs, reps = (3, 1) if quick else (6, 2)
    with tempfile.TemporaryDirectory() as tmp:
        run = probe_run(Path(tmp), epochs)
        xs = [features(load_snapshot(run, e), "hidden_1") for e in range(1, epochs + 1)]
        y = load_snapshot(run, epochs)["probe_y"]
        x = xs[-1]
        print(f"{len(x)} points x {x.shape[1]} features (MNIST-1D MLP, hidden_1), {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        sk_times, cold_times = [], []
        for _ in range(reps):
            with threadpool_limits(1):
                sk, t = _timed(lambda: TSNE(random_state=0, n_jobs=1).fit_transform(x))
            sk_times.append(t)
            cold, t = _timed(lambda: embed(x, "tsne"))
            cold_times.append(t)
        t_sk, t_cold = statistics.median(sk_times), statistics.median(cold_times)
        quality = {"sklearn": _quality(x, y, sk), "lab_cold": _quality(x, y, cold)}
        print(f"sklearn TSNE, 1 thread {t_sk:7.2f} s   {_said(quality['sklearn'])}")
        print(f"lab t-SNE cold, 1 thr. {t_cold:7.2f} s   ratio {t_cold / t_sk:.3f}   {_said(quality['lab_cold'])}")
        warm_times, prev = [], embed(xs[0], "tsne")
        for xe in xs[1:]:
            z, t = _timed(lambda: embed(xe, "tsne", init=prev))
            warm_times.append(t)
            prev = procrustes_align(z, prev)
        t_warm = statistics.median(warm_times)
        quality["lab_warm"] = _quality(x, y, prev)
        print(f"lab t-SNE warm/epoch   {t_warm:7.2f} s   ratio {t_warm / t_sk:.3f}   {_said(quality['lab_warm'])} "
              f"(after {len(warm_times)} warm epochs)")
        _, t_import = _timed(umap_modules)
        _, t_jit = _timed(lambda: embed(xs[0][:200], "umap"))
        u, t_ucold = _timed(lambda: embed(x, "umap"))
        u_prev = embed(xs[-2], "umap")
        uw, t_uwarm = _timed(lambda: embed(x, "umap", init=u_prev))
        print(f"UMAP layout code import {t_import:.2f} s, first call (numba compile) {t_jit:.2f} s")
        print(f"UMAP cold              {t_ucold:7.2f} s   {_said(_quality(x, y, u))}")
        print(f"UMAP warm/epoch        {t_uwarm:7.2f} s   {_said(_quality(x, y, uw))}")
        _, t_first = _timed(lambda: embed_run(run, "hidden_1", "tsne"))
        _, t_cached = _timed(lambda: embed_run(run, "hidden_1", "tsne"))
        print(f"embed_run t-SNE, {epochs} epochs: first {t_first:.2f} s, cached re-view {t_cached:.3f} s")
    return {"tsne_cold_ratio": t_cold / t_sk, "tsne_warm_ratio": t_warm / t_sk, "tsne_threads": {"lab": 1, "sklearn": 1},
            "tsne_quality": quality, "umap_compiled_s": t_ucold, "umap_warm_s": t_uwarm, "cached_view_s": t_cached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs, one repetition")
    result = embed_bench(parser.parse_args().quick)
    print("  ".join(f"{k}={v:.3f}" for k, v in result.items() if isinstance(v, float)))


if __name__ == "__main__":
    main()
