"""Studies: a grid of runs defined by one file in `studies/`, resumable, summarised honestly.

`python -m lab study NAME` expands `studies/NAME.toml` into validated `RunConfig`s (data sets x
models x method variants x seeds), trains them locally or as Ray tasks, and writes into
`--out` (default `docs/study/NAME`): `results.csv` (one row per run), `results.md` (final
accuracy `mean ± std` with the number of seeds, the paired difference to CE on the same seeds
with a paired t-test and a sign test), `report.html` (one standalone page: the tables, test
accuracy curves with mean ± std bands, and each method's own quantity over training,
measured on the probe snapshots) and PNG figures of the same curves.

Resume: every run has a deterministic name derived from its grid point
(`study-<study>-<data>-<model>-<method>[-<swept param><value>]-lam<lambda>-s<seed>`). A run
folder with status done or diverged and the same configuration is reused; any other
(interrupted, failed, stopped, or a stale configuration) is moved aside into
`<runs>/.replaced/` and trained again.

A study file (TOML): training fields of `RunConfig` (epochs, batch_size, lr, train_size, ...),
`seeds = [...]`, `[data.<name>]` and `[models.<name>]` tables with their options, and one
`[methods.<name>]` table per method with optional `params = {...}` (fixed options),
`sweep = {option = [values]}` (a grid over options) and `lam = [values]` (a lambda grid;
absent = the method's default).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import sys
import time
import tomllib
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lab.config import TRAIN_PARAMS, RunConfig, validate
from lab.errors import ConfigError, LabError, StoreError
from lab.stats import paired, pm

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
FINAL = ("done", "diverged")  # a run in one of these states is a result and is reused
_TRAIN_KEYS = {p.name for p in TRAIN_PARAMS} - {"seed"}
_STUDY_KEYS = _TRAIN_KEYS | {"description", "seeds", "data", "models", "methods"}
_METHOD_KEYS = {"params", "sweep", "lam"}


# ----------------------------------------------------------------------------- definition
@dataclass(frozen=True)
class Variant:
    """One setting of one method: its options and lambda (None = the method's default)."""

    method: str
    params: dict
    lam: float | None
    swept: tuple[str, ...]  # option names that vary across this method's variants (shown in labels)
    lam_swept: bool


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    data: dict[str, dict]  # data set -> its options
    models: dict[str, dict]  # model -> its options
    variants: tuple[Variant, ...]
    seeds: tuple[int, ...]
    train: dict[str, Any]  # RunConfig training fields


def available() -> list[str]:
    return sorted(p.stem for p in STUDIES.glob("*.toml"))


def _table(owner: str, doc: Any, allowed: set[str] | None = None) -> dict:
    """`doc` if it is a table whose keys are all in `allowed` (None: any keys)."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{owner} must be a table, got {doc!r}.")
    extra = sorted(set(doc) - allowed) if allowed is not None else []
    if extra:
        raise ConfigError(f"{owner} has no setting {extra[0]!r}; its settings are: {', '.join(sorted(allowed))}.")
    return doc


def _listed(owner: str, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{owner} must be a non-empty list, got {value!r}.")
    return value


def parse_study(name: str, doc: dict) -> Study:
    """A Study from a parsed study file; every name is checked, values are checked per run by `validate`."""
    from lab import data, models, regularizers
    from lab.params import check_name

    doc = _table(f"study {name}", doc, _STUDY_KEYS)
    for key in ("data", "models", "methods", "seeds"):
        if key not in doc:
            raise ConfigError(f"study {name} needs a '{key}' setting.")
    datasets = {check_name("data set", d, data.DATASETS): _table(f"data.{d}", o)
                for d, o in _table(f"study {name} data", doc["data"]).items()}
    nets = {check_name("model", m, models.MODELS): _table(f"models.{m}", o)
            for m, o in _table(f"study {name} models", doc["models"]).items()}
    variants = []
    for method, spec in _table(f"study {name} methods", doc["methods"]).items():
        check_name("method", method, regularizers.REGISTRY)
        spec = _table(f"methods.{method}", spec, _METHOD_KEYS)
        fixed = _table(f"methods.{method}.params", spec.get("params", {}))
        sweep = {k: _listed(f"methods.{method}.sweep.{k}", v)
                 for k, v in _table(f"methods.{method}.sweep", spec.get("sweep", {})).items()}
        lams = _listed(f"methods.{method}.lam", spec["lam"]) if "lam" in spec else [None]
        swept = tuple(k for k, v in sweep.items() if len(v) > 1)
        for values, lam in itertools.product(itertools.product(*sweep.values()), lams):
            variants.append(Variant(method, {**fixed, **dict(zip(sweep, values))}, lam, swept, len(lams) > 1))
    if not any(v.method == "ce" for v in variants):
        raise ConfigError(f"study {name} needs the method 'ce': it is the reference of the paired comparison.")
    seeds = tuple(_listed(f"study {name} seeds", doc["seeds"]))
    return Study(name, str(doc.get("description", "")), datasets, nets, tuple(variants), seeds,
                 {k: v for k, v in doc.items() if k in _TRAIN_KEYS})


def load_study(name: str) -> Study:
    """`studies/<name>.toml`, or a path to a study file."""
    path = Path(name) if name.endswith(".toml") else STUDIES / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"Unknown study {name!r}; choose one of: {', '.join(available())} "
                          f"(or give the path of a .toml study file).")
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"The study file {path} is not valid TOML ({e}).") from None
    return parse_study(path.stem, doc)


def _slug(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(_slug(v) for v in value)
    text = f"{value:g}" if isinstance(value, float) else str(value).lower()
    return re.sub(r"[^A-Za-z0-9.]", "_", text)


def expand(study: Study, device: str = "auto") -> list[tuple[RunConfig, Variant]]:
    """Every run of the grid as a validated config named after its grid point, with its variant."""
    out = []
    for (d, dp), (m, mp), v, seed in itertools.product(study.data.items(), study.models.items(),
                                                       study.variants, study.seeds):
        cfg = validate(RunConfig(data=d, model=m, method=v.method, lam=v.lam, data_params=dp, model_params=mp,
                                 method_params=v.params, seed=seed, device=device, **study.train))
        tags = "".join(f"-{k}{_slug(cfg.method_params[k])}" for k in v.swept)
        out.append((replace(cfg, name=f"study-{study.name}-{d}-{m}-{v.method}{tags}-lam{_slug(cfg.lam)}-s{seed}"), v))
    return out


def label(cfg: RunConfig, v: Variant) -> str:
    """What a variant is called in tables and legends: the method, its swept options, its lambda."""
    parts = [v.method, *(f"{k}={_slug(cfg.method_params[k])}" for k in v.swept)]
    if v.lam_swept or (v.lam is not None and cfg.lam != 0):
        parts.append(f"λ={cfg.lam:g}")
    return " ".join(parts)


# ----------------------------------------------------------------------------- measurements
# The study's measured keys (CSV columns `final_<key>`, one figure each), each with the method
# whose quantity in lab.measure.quantities (the one implementation) yields it, and its figure title.
MEASURED = {
    "energy": ("mhe", "hyperspherical energy of the hidden layers (s=2, half-space)"),
    "energy_out": ("mhe", "hyperspherical energy of the output layer (s=2)"),
    "recon": ("racecar", "Racecar reverse-pass reconstruction error"),
    "mmd": ("itra", "MMD² between disjoint subsets of the probe features"),
    "gini": ("gini", "Gini impurity of the probe features over classes"),
    "inter": ("phantom", "inter-class cosine similarity of the features"),
    "intra": ("phantom", "intra-class cosine similarity of the features"),
    "l2": ("weight_decay", "0.5 x sum of squared weights"),
}


def _own(method: str):
    """The shared `Quantity` `method` acts on, or None: for a method without one (ce, dropout,
    label_smoothing, ...) lab.measure.quantities gives the shared similarity reference, which
    only phantom acts on; the study measures it only when phantom is in the grid."""
    from lab.regularizers import REGISTRY

    return REGISTRY[method].quantity


def _owns(method: str, key: str) -> bool:
    """Whether `method` acts on the quantity that yields the measured `key`."""
    q = _own(method)
    return q is not None and q is _own(MEASURED[key][0])


def measure_run(run, keys: list[str]) -> dict[str, list[float]]:
    """The measured `keys` at every snapshot epoch of a run (record or folder), each computed by
    `quantity_series` of lab.measure.quantities (one call per quantity)."""
    from lab.readout.quantities import quantity_series

    out: dict[str, list[float]] = {}
    for method in dict.fromkeys(MEASURED[k][0] for k in keys):
        series = quantity_series(run, method)
        out.update({k: [float(v) for v in series[k]] for k in keys if MEASURED[k][0] == method})
    return {k: out[k] for k in keys}


# ----------------------------------------------------------------------------- running
def _comparable(cfg: RunConfig) -> dict:
    """The config as saved in config.json (tuples as lists), the device left out: a run trained on
    CUDA is as good as one trained on the CPU."""
    return json.loads(json.dumps({**cfg.to_dict(), "device": None}))


def _reusable(root: Path, cfg: RunConfig):
    """The finished run of this grid point, or None after moving any other folder of that name aside."""
    from lab.store import load_run, set_aside

    path = root / cfg.name
    if not path.exists():
        return None
    try:
        rec = load_run(path)
    except StoreError:
        rec = None
    if rec is not None and rec.state == "running":
        raise StoreError(f"Run {cfg.name} is being trained by process {rec.status.get('pid')}; "
                         f"wait for it or stop it, then run the study again.")
    if rec is not None and rec.state in FINAL and _comparable(rec.config) == _comparable(cfg):
        return rec
    set_aside(root, cfg.name)
    return None


def execute(cfg: RunConfig, root: str, keys: list[str], on_progress: Callable | None = None) -> dict:
    """Train one grid point unless a finished run of it exists, then measure it: the same function
    runs in-process (local backend) and as a Ray task, so both give the same results."""
    from lab.store import load_run
    from lab.train import train

    root_path = Path(root)
    rec = _reusable(root_path, cfg)
    trained = rec is None
    if trained:
        result = train(cfg, runs=root_path, on_progress=on_progress)
        rec = load_run(result.path)
    acc = [m.get("test_acc") for m in rec.metrics]
    return {"run": rec.id, "status": rec.state, "trained": trained,
            "epochs": [m["epoch"] for m in rec.metrics], "test_acc": acc,
            "train_acc": [m.get("train_acc") for m in rec.metrics],
            "train_seconds": float(sum(m.get("seconds") or 0.0 for m in rec.metrics)),
            "quantities": measure_run(rec, keys)}


def _local(jobs: list[RunConfig], root: Path, keys: list[str], bar) -> list[dict]:
    results = []
    for cfg in jobs:
        bar.set_description(cfg.name.split("-", 2)[-1])

        def progress(ev: dict, cfg: RunConfig = cfg) -> None:
            if ev["event"] == "epoch":
                bar.set_postfix(epoch=f"{ev['record']['epoch']}/{cfg.epochs}", test_acc=f"{ev['record']['test_acc']:.3f}")

        results.append(execute(cfg, str(root), keys, progress))
        bar.update(1)
    return results


def _ray(jobs: list[RunConfig], root: Path, keys: list[str], bar, address: str | None, num_cpus: int | None,
         gpus: float) -> list[dict]:
    """Each run is one Ray task (1 CPU, `gpus` GPUs: Ray hides the GPUs from a task that asks for
    none) on an existing instance, the cluster at `address`, or a local instance started here;
    the runs folder must be shared with the workers (same path)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, num_gpus=gpus)(execute).options(
            runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}})
        refs = {task.remote(cfg, str(root.resolve()), keys): i for i, cfg in enumerate(jobs)}
        results: list[dict | None] = [None] * len(jobs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results[refs[done[0]]] = ray.get(done[0])
            bar.update(1)
        return results
    finally:
        if started:
            ray.shutdown()


def run_study(study: Study, root: Path, backend: str = "local", device: str = "auto",
              address: str | None = None, num_cpus: int | None = None, gpus_per_run: float = 0.0) -> list[dict]:
    """Train (or reuse) every run of the grid; one result dict per run, in grid order."""
    from tqdm import tqdm

    grid = expand(study, device)
    methods = {v.method for _, v in grid}
    keys = [k for k in MEASURED if any(_owns(m, k) for m in methods)]
    root.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(grid), desc=f"study {study.name}", unit="run", file=sys.stderr) as bar:
        jobs = [cfg for cfg, _ in grid]
        results = (_local(jobs, root, keys, bar) if backend == "local"
                   else _ray(jobs, root, keys, bar, address, num_cpus, gpus_per_run))
    return [{**r, "config": cfg, "data": cfg.data, "model": cfg.model, "variant": label(cfg, v)}
            for (cfg, v), r in zip(grid, results)]


# ----------------------------------------------------------------------------- summaries
CSV_FIELDS = ["data", "model", "method", "variant", "params", "lambda", "seed", "status", "epochs",
              "final_test_acc", "best_test_acc", "final_train_acc", "quantity", "quantity_final",
              "train_seconds", "run", *(f"final_{k}" for k in MEASURED)]


def _last(values: list) -> float:
    vals = [v for v in values if v is not None]
    return float(vals[-1]) if vals else float("nan")


def csv_rows(results: list[dict]) -> list[dict]:
    rows = []
    for r in results:
        cfg, own = r["config"], _own(r["config"].method)
        accs = [a for a in r["test_acc"] if a is not None]
        rows.append({
            "data": cfg.data, "model": cfg.model, "method": cfg.method, "variant": r["variant"],
            "params": json.dumps(cfg.method_params, sort_keys=True), "lambda": cfg.lam, "seed": cfg.seed,
            "status": r["status"], "epochs": len(r["epochs"]), "final_test_acc": _last(r["test_acc"]),
            "best_test_acc": max(accs) if accs else float("nan"), "final_train_acc": _last(r["train_acc"]),
            "quantity": own.key if own else "", "quantity_final": _last(r["quantities"].get(own.key, [])) if own else "",
            "train_seconds": round(r["train_seconds"], 3), "run": r["run"],
            **{f"final_{k}": _last(v) for k, v in r["quantities"].items()}})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)


def _groups(rows: list[dict]) -> dict[tuple[str, str], dict[str, list[dict]]]:
    """(data, model) -> variant label -> rows (seed order), in grid order."""
    out: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for r in rows:
        out.setdefault((r["data"], r["model"]), {}).setdefault(r["variant"], []).append(r)
    return out


def _seeds(rs: list[dict]) -> str:
    """The number of seeds, and how many of them diverged (their last finite epoch is what counts)."""
    diverged = sum(r["status"] == "diverged" for r in rs)
    return f"{len(rs)} ({diverged} diverged)" if diverged else str(len(rs))


def tables(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Per (data, model): one row per variant with final/best accuracy, the paired comparison to
    CE and the final value of the method's own quantity."""
    out = {}
    for key, variants in _groups(rows).items():
        ce = variants["ce"]

        def quantity(rs: list[dict]) -> str:
            q = rs[0]["quantity"]
            if not q:
                return ""
            return f"{q} {pm([r['quantity_final'] for r in rs], 4)} (CE {np.mean([r[f'final_{q}'] for r in ce]):.4f})"

        out[key] = [{"variant": name, "seeds": _seeds(rs), "final": pm([r["final_test_acc"] for r in rs]),
                     "best": pm([r["best_test_acc"] for r in rs]),
                     "paired": paired(rs, ce) if name != "ce" else None, "quantity": quantity(rs)}
                    for name, rs in variants.items()]
    return out


def _p(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.3f}"


TABLE_HEAD = ["variant", "seeds", "final test acc", "best test acc", "Δ vs CE (paired)", "wins/ties/losses",
              "p (t-test)", "p (sign)", "own quantity at the end (CE's)"]


def _cells(t: dict) -> list[str]:
    p = t["paired"]
    if p is None:
        return [t["variant"], t["seeds"], t["final"], t["best"], "reference", "", "", "", t["quantity"]]
    return [t["variant"], t["seeds"], t["final"], t["best"], p["diff"], f"{p['wins']}/{p['ties']}/{p['losses']}",
            _p(p["t_p"]), _p(p["sign_p"]), t["quantity"]]


def timing(results: list[dict], wall: float) -> str:
    trained = sum(r["trained"] for r in results)
    return (f"{len(results)} runs, {trained} trained and {len(results) - trained} reused in {wall:.0f} s wall time; "
            f"training time summed over runs {sum(r['train_seconds'] for r in results):.0f} s")


def markdown(study: Study, rows: list[dict], timing: str) -> str:
    lines = [f"# Study `{study.name}`", "", study.description, "",
             f"Generated by `python -m lab study {study.name}` ({timing}). Cells are `mean ± std` over seeds "
             f"(sample std); Δ is the final test accuracy minus CE's on the same seed.", ""]
    for (d, m), ts in tables(rows).items():
        lines += [f"## {d} / {m}", "", "| " + " | ".join(TABLE_HEAD) + " |", "|" + " --- |" * len(TABLE_HEAD)]
        lines += ["| " + " | ".join(_cells(t)) + " |" for t in ts] + [""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figures
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


@dataclass
class Series:
    """Mean and sample std over seeds of one variant's curve (NaN where no seed has a value)."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: int  # seeds
    color: str
    dash: str
    shown: bool  # drawn at first; the others are one legend click away (HTML) or left out (PNG)


@dataclass
class Figure:
    key: str  # file-name part: accuracy or the quantity key
    title: str
    ytitle: str
    series: list[Series]


def _stack(curves: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std over curves of different lengths (None/missing = NaN)."""
    a = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        a[i, : len(c)] = [np.nan if v is None else v for v in c]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        std = np.nanstd(a, 0, ddof=1) if len(curves) > 1 else np.zeros(a.shape[1])
        return np.nanmean(a, 0), np.nan_to_num(std)


def figures(results: list[dict]) -> dict[tuple[str, str], list[Figure]]:
    """Per (data, model): test accuracy of every variant, then each measured quantity for every
    method's best variant and all variants of the quantity's own methods. Shown at first: each
    method's best variant by mean final test accuracy; for a quantity, CE's and every variant of
    its own methods (how it moves with lambda)."""
    methods = list(dict.fromkeys(r["config"].method for r in results))
    out = {}
    for (d, m), variants in _groups(results).items():
        method = {name: rs[0]["config"].method for name, rs in variants.items()}
        final = {name: np.nanmean([_last(r["test_acc"]) for r in rs]) for name, rs in variants.items()}
        best = {meth: max((n for n in variants if method[n] == meth), key=lambda n: final[n]) for meth in methods}
        headline = set(best.values())

        def series(name: str, key: str | None, shown: bool) -> Series:
            rs = variants[name]
            curves = [r["test_acc"] if key is None else r["quantities"][key] for r in rs]
            mean, std = _stack(curves)
            siblings = [n for n in variants if method[n] == method[name]]
            return Series(name, np.arange(len(mean)) + (key is None), mean, std, len(rs),
                          PALETTE[methods.index(method[name]) % len(PALETTE)],
                          DASHES[siblings.index(name) % len(DASHES)], shown)

        figs = [Figure("accuracy", f"Test accuracy over training: {d} / {m}", "test accuracy",
                       [series(n, None, n in headline) for n in variants])]
        for key, (_, title) in MEASURED.items():
            if key in variants["ce"][0]["quantities"]:
                figs.append(Figure(key, f"{title[0].upper()}{title[1:]}: {d} / {m}", key, [
                    series(n, key, _owns(method[n], key) or n == best["ce"])
                    for n in variants if n in headline or _owns(method[n], key)]))
        out[(d, m)] = figs
    return out


def _rgba(color: str, alpha: float) -> str:
    return f"rgba({int(color[1:3], 16)}, {int(color[3:5], 16)}, {int(color[5:7], 16)}, {alpha})"


def plotly_json(fig: Figure) -> str:
    """The figure as Plotly JSON (its title is the page heading above it): per series a mean ± std
    band and the mean line, one legend entry for both."""
    import plotly.graph_objects as go

    g = go.Figure()
    for s in fig.series:
        ok = np.isfinite(s.mean)
        x, lo, hi = s.x[ok], (s.mean - s.std)[ok], (s.mean + s.std)[ok]
        common = dict(legendgroup=s.label, visible=True if s.shown else "legendonly")
        g.add_scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", fillcolor=_rgba(s.color, 0.15),
                      mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False, **common)
        g.add_scatter(x=x, y=s.mean[ok], customdata=s.std[ok], name=f"{s.label} (n={s.n})", mode="lines",
                      line=dict(color=s.color, dash=s.dash), hovertemplate="%{y:.4g} ± %{customdata:.2g}", **common)
    g.update_layout(xaxis_title="epoch", yaxis_title=fig.ytitle, template="plotly_white", height=420,
                    margin=dict(t=20, r=20), legend=dict(font=dict(size=11)))
    return g.to_json()


def save_png(figs: list[Figure], path: Path, columns: int = 1) -> None:
    """The shown series of `figs` as mean lines with ±std bands, one panel per figure (matplotlib,
    a dependency of mnist1d; Agg backend, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(figs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.6 * rows), squeeze=False)
    for ax, f in zip(axes.flat, figs):
        for s in (s for s in f.series if s.shown):
            ok = np.isfinite(s.mean)
            ax.plot(s.x[ok], s.mean[ok], color=s.color, linestyle={"dot": ":", "dash": "--"}.get(s.dash, "-"),
                    label=f"{s.label} (n={s.n})", linewidth=1.4)
            ax.fill_between(s.x[ok], (s.mean - s.std)[ok], (s.mean + s.std)[ok], color=s.color, alpha=0.15, linewidth=0)
        ax.set_title(f.title, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6 if columns > 1 else 7, ncol=1 if columns > 1 else 2)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(figs):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_LOADER = """(async () => {
  const gz = Uint8Array.from(atob(document.getElementById("plotly-gz").textContent), c => c.charCodeAt(0));
  const src = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  const s = document.createElement("script"); s.text = src; document.head.appendChild(s);
  for (const el of document.querySelectorAll("script[data-figure]")) {
    const f = JSON.parse(el.textContent);
    Plotly.newPlot(el.dataset.figure, f.data, f.layout, {responsive: true});
  }
})();"""
_CSS = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
        ".note{color:#555;font-size:14px}")


def _plotly_js_gz_b64() -> str:
    """plotly.js from the installed plotly package, gzipped (deterministically) and base64-encoded:
    the page stays well under 3 MB, works offline, and is decompressed by the browser."""
    import base64
    import gzip

    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), mtime=0)).decode()


def report_html(study: Study, rows: list[dict], figs: dict[tuple[str, str], list[Figure]], timing: str) -> str:
    """One standalone page: settings, the accuracy/paired table per (data, model), accuracy curves,
    and each quantity over training (Plotly, inlined once, compressed)."""
    from html import escape

    settings = ", ".join(f"{k}={v}" for k, v in study.train.items())
    body = [f"<h1>Study <code>{escape(study.name)}</code></h1>", f"<p>{escape(study.description)}</p>",
            f"<p class=note>{len(rows)} runs: data {escape(', '.join(study.data))}; models "
            f"{escape(', '.join(f'{m} {o}' for m, o in study.models.items()))}; seeds {list(study.seeds)}; "
            f"{escape(settings)}. Last invocation: {escape(timing)}. Regenerate with "
            f"<code>python -m lab study {escape(study.name)}</code>.</p>",
            "<p class=note>Cells are mean ± sample std over seeds. Δ vs CE is paired by seed; with few seeds "
            "the p-values are weak evidence. Choosing a method's best λ on test accuracy (the curves shown "
            "first) is optimistic: there is no separate validation split.</p>",
            "<h2>Final test accuracy and paired comparison with CE</h2>"]
    for (d, m), ts in tables(rows).items():
        body += [f"<h3>{escape(table_title(d, m))}</h3>", "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in TABLE_HEAD)
                 + "</tr>"] + ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _cells(t)) + "</tr>" for t in ts]
        body.append("</table>")
    scripts = []
    for section, keep in (("Test accuracy over training (mean ± std bands)", lambda f: f.key == "accuracy"),
                          ("Each method's own quantity over training (probe set)", lambda f: f.key != "accuracy")):
        body.append(f"<h2>{section}</h2><p class=note>Click a legend entry to show or hide a variant.</p>")
        for (d, m), fs in figs.items():
            for f in filter(keep, fs):
                div = f"fig-{len(scripts)}"
                body.append(f'<h3>{escape(f.title)}</h3><div id="{div}"></div>')
                scripts.append(f'<script type="application/json" data-figure="{div}">'
                               f'{plotly_json(f).replace("</", "<" + chr(92) + "/")}</script>')
    return ("<!doctype html><html><head><meta charset=utf-8>"
            f"<title>RegLab study {escape(study.name)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(body + scripts)
            + f'\n<script id="plotly-gz" type="application/octet-stream">{_plotly_js_gz_b64()}</script>'
            + f"\n<script>{_LOADER}</script></body></html>")


def table_title(data: str, model: str) -> str:
    return f"Final test accuracy and paired Δ vs CE: {data} / {model}"


def write_outputs(study: Study, results: list[dict], out: Path, timing: str) -> list[Path]:
    """results.csv, results.md, report.html and PNG figures under `out`; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    rows = csv_rows(results)
    figs = figures(results)
    write_csv(rows, out / "results.csv")
    (out / "results.md").write_text(markdown(study, rows, timing) + "\n")
    (out / "report.html").write_text(report_html(study, rows, figs, timing))
    paths = [out / "results.csv", out / "results.md", out / "report.html"]
    for (d, m), fs in figs.items():
        paths.append(out / f"accuracy-{d}-{m}.png")
        save_png(fs[:1], paths[-1])
        if len(fs) > 1:
            paths.append(out / f"quantities-{d}-{m}.png")
            save_png(fs[1:], paths[-1], columns=min(4, len(fs) - 1))
    return paths


# ----------------------------------------------------------------------------- command line
def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("name", help=f"a study in studies/ ({', '.join(available())}) or a .toml path")
    parser.add_argument("--runs", default=None, help="runs folder (default $REGLAB_RUNS or ./runs)")
    parser.add_argument("--out", default=None, help="output folder (default docs/study/NAME)")
    parser.add_argument("--backend", default="local", choices=("local", "ray"),
                        help="local: one run after the other in this process (CUDA when present); "
                             "ray: one Ray task per run")
    parser.add_argument("--address", default=None, help="ray: address of an existing cluster (default: start one here)")
    parser.add_argument("--num-cpus", type=int, default=None, help="ray: CPUs of the local instance (default: all)")
    parser.add_argument("--gpus-per-run", type=float, default=0.0,
                        help="ray: GPUs per run task (e.g. 0.25 puts four runs on one GPU; default 0 = CPU)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--threads", type=int, default=1,
                        help="local: CPU threads of torch (default 1: these small models gain nothing from more, "
                             "and a busy machine loses a lot; a Ray task also uses one)")
    return parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `study` on an argparse subparsers object (`python -m lab study ...`)."""
    return _arguments(subparsers.add_parser("study", help="run a study grid and write its report",
                                            description=__doc__.split("\n\n")[0]))


def run(args: argparse.Namespace) -> int:
    """Run the study named in `args`; errors print one line (status 2), Ctrl-C leaves a resumable state (130)."""
    from lab.store import runs_root

    import torch

    torch.set_num_threads(max(1, args.threads))
    try:
        study = load_study(args.name)
        t0 = time.perf_counter()
        results = run_study(study, runs_root(args.runs), args.backend, args.device, args.address, args.num_cpus,
                            args.gpus_per_run)
        summary = timing(results, time.perf_counter() - t0)
        paths = write_outputs(study, results, Path(args.out or f"docs/study/{study.name}"), summary)
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume (finished runs are reused).", file=sys.stderr)
        return 130
    print(summary, file=sys.stderr)
    print("\n".join(map(str, paths)))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(_arguments(argparse.ArgumentParser(prog="python -m lab study")).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
