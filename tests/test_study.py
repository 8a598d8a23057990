"""Studies end to end: a tiny grid, its CSV / markdown / HTML outputs, resume, and the Ray backend."""
from __future__ import annotations

import csv
import importlib
import json
import os
import shutil
import socket
import subprocess
from html import escape
from pathlib import Path

import numpy as np
import pytest

from lab import stats
from lab import study as st
from lab.errors import StoreError
from lab.figures.palette import method_color
from lab.readout.quantities import quantity_series
from lab.regularizers import REGISTRY, Quantity, Regularizer
from lab.cli import study as cli
from lab.study import summary
from lab.study.outputs import study_figures

TRAIN_MODULE = importlib.import_module("lab.train")  # `lab.train` is also the re-exported function

TINY = """description = "tiny test study"
seeds = [0, 1]
epochs = 2
batch_size = 32
train_size = 120
probe_size = 60
[data.digits]
[models.mlp]
widths = [16]
[methods.ce]
[methods.weight_decay]
lam = [1e-3]
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study file, already run once through the command line into `runs/` and `out/` beside it."""
    folder = tmp_path_factory.mktemp("study")
    (folder / "tiny.toml").write_text(TINY)
    assert cli.main([str(folder / "tiny.toml"), "--runs", str(folder / "runs"), "--out", str(folder / "out")]) == 0
    return folder / "tiny.toml"


@pytest.fixture
def count_training(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the runs `lab.train.train` is asked to train from now on."""
    calls: list[str] = []
    real = TRAIN_MODULE.train

    def counting(cfg, **kw):
        calls.append(cfg.name)
        return real(cfg, **kw)

    monkeypatch.setattr(TRAIN_MODULE, "train", counting)
    return calls


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_study_writes_every_table_and_figure(tiny):
    out = tiny.parent / "out"
    rows = _csv(out / "results.csv")
    assert [(r["method"], r["seed"]) for r in rows] == [("ce", "0"), ("ce", "1"), ("weight_decay", "0"), ("weight_decay", "1")]
    assert list(rows[0]) == summary.csv_fields()
    assert all(r["status"] == "done" and r["epochs"] == "2" and 0 <= float(r["final_test_acc"]) <= 1 for r in rows)
    assert rows[2]["quantity"] == "l2" and float(rows[2]["quantity_final"]) > 0 and rows[0]["quantity"] == ""
    assert float(rows[0]["final_l2"]) > 0  # CE is measured too, as the reference
    assert rows[2]["run"] == "study-tiny-digits-mlp-weight_decay-lam0.001-s0"
    for r in (rows[0], rows[2]):  # the study's values are those of the shared quantities, on every run
        shared = quantity_series(tiny.parent / "runs" / r["run"], "weight_decay")
        assert float(r["final_l2"]) == pytest.approx(float(shared["l2"][-1]), rel=1e-6)
    assert all(r[f"final_{k}"] == "" for r in rows for k in summary.columns() if k != "l2")  # no owner in the grid

    results = st.run_study(st.load_study(str(tiny)), tiny.parent / "runs")
    html = (out / "report.html").read_text()
    figs = study_figures(results, summary.csv_rows(results))
    titles = [f.title for fs in figs.values() for f in fs]
    assert titles == ["Test accuracy over training: digits / mlp", "0.5 x sum of squared weights: digits / mlp"]
    for needle in [*titles, summary.table_title("digits", "mlp"), *summary.TABLE_HEAD, "weight_decay λ=0.001",
                   "plotly-gz"]:
        assert escape(needle) in html, needle
    assert html.count('data-figure="fig-') == len(titles) and html.count('id="plotly-gz"') == 1
    colors = {s.label: s.color for fs in figs.values() for f in fs for s in f.series}  # the lab's one palette
    assert colors == {"ce": method_color("ce"), "weight_decay λ=0.001": method_color("weight_decay")}
    assert os.path.getsize(out / "report.html") < 3e6
    md = (out / "results.md").read_text()
    mean = np.mean([float(r["final_test_acc"]) for r in rows[:2]])
    assert f"| ce | 2 | {mean:.3f} ± " in md and "| weight_decay λ=0.001 | 2 |" in md
    assert (out / "accuracy-digits-mlp.png").stat().st_size > 1000 and (out / "quantities-digits-mlp.png").exists()


def test_resume_reuses_finished_runs_and_replaces_the_others(tiny, tmp_path, count_training):
    runs, study = tmp_path / "runs", st.load_study(str(tiny))
    shutil.copytree(tiny.parent / "runs", runs)
    first = st.run_study(study, runs)
    assert [r["trained"] for r in first] == [False] * 4 and count_training == []

    dead = subprocess.Popen(["true"])
    dead.wait()
    names = [r["run"] for r in first]
    (runs / names[0] / "status.json").write_text(json.dumps({"status": "running", "pid": dead.pid,
                                                             "host": socket.gethostname()}))
    (runs / names[1] / "status.json").write_text(json.dumps({"status": "failed", "error": "boom"}))
    stale = json.loads((runs / names[3] / "config.json").read_text())
    (runs / names[3] / "config.json").write_text(json.dumps({**stale, "lr": 0.5}))
    again = st.run_study(study, runs)
    assert count_training == [names[0], names[1], names[3]]
    assert [r["trained"] for r in again] == [True, True, False, True]
    assert len(list((runs / ".replaced").iterdir())) == 3
    assert [r["test_acc"] for r in again] == [r["test_acc"] for r in first]  # same seed, same run


def test_a_reused_run_is_judged_again_by_todays_rule(tiny, tmp_path, count_training):
    """A `done` run at its chance level and no longer learning (here: a chance level written as 0.99
    and a flat task loss) reads `collapsed` when a study reuses it; one without a recorded chance
    level (an older run) gets it recomputed from its data split and, having learned, stays `done`."""
    runs, study = tmp_path / "runs", st.load_study(str(tiny))
    shutil.copytree(tiny.parent / "runs", runs)
    names = [r["run"] for r in st.run_study(study, runs)]
    metrics = runs / names[0] / "metrics.jsonl"
    metrics.write_text("".join(json.dumps({**json.loads(line), "task_loss": 2.3}) + "\n"
                               for line in metrics.read_text().splitlines()))
    doc = json.loads((runs / names[0] / "status.json").read_text())
    (runs / names[0] / "status.json").write_text(json.dumps({**doc, "chance": 0.99}))
    (runs / names[1] / "status.json").write_text(json.dumps({k: v for k, v in doc.items() if k != "chance"}))
    again = st.run_study(study, runs)
    assert count_training == [] and [r["status"] for r in again][:2] == ["collapsed", "done"]
    now = json.loads((runs / names[0] / "status.json").read_text())
    assert now["judged_before"] == "done" and "ended at chance" in now["error"]


def test_a_run_still_being_trained_is_left_alone(tiny, tmp_path):
    runs, study = tmp_path / "runs", st.load_study(str(tiny))
    cfg = st.expand(study)[0][0]
    (runs / cfg.name).mkdir(parents=True)
    (runs / cfg.name / "config.json").write_text(json.dumps(cfg.to_dict()))
    (runs / cfg.name / "status.json").write_text(json.dumps({"status": "running", "pid": os.getpid(),
                                                             "host": socket.gethostname()}))
    with pytest.raises(StoreError, match=f"Run {cfg.name} is being trained by process {os.getpid()}"):
        st.run_study(study, runs)


@pytest.mark.parametrize("edit,needle", [
    (("[methods.ce]", "[methods.magic]\n[methods.ce]"), "Unknown method 'magic'; choose one of: ce,"),
    (("[methods.ce]\n", ""), "study tiny needs the method 'ce'"),
    (("epochs = 2", "epochs = 0"), "The 'epochs' parameter of training must be a whole number"),
    (("seeds = [0, 1]", "seeds = [0, 1]\nepoch = 3"), "study tiny has no setting 'epoch'"),
    (("lam = [1e-3]", "lam = [1e-3]\nparams = {p = 1}"), "weight_decay has no parameter 'p'"),
    (("[data.digits]", "[data.digitz]"), "Unknown data set 'digitz'; choose one of: digits,"),
    (("widths = [16]", "widths = [16]\ndepth = 3"), "mlp has no parameter 'depth'"),
    (("lam = [1e-3]", "lam = 1e-3"), "methods.weight_decay.lam must be a non-empty list"),
])
def test_bad_study_files_give_one_line(tmp_path, capsys, edit, needle):
    (tmp_path / "tiny.toml").write_text(TINY.replace(*edit))
    assert cli.main([str(tmp_path / "tiny.toml"), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused before anything is trained
    assert cli.main(["no_such_study"]) == 2
    assert "Unknown study 'no_such_study'; choose one of: " in capsys.readouterr().err


def test_sweeps_expand_to_named_grid_points():
    s = st.parse_study("g", {"seeds": [3], "data": {"digits": {}}, "models": {"mlp": {}},
                             "methods": {"ce": {}, "dropout": {"sweep": {"p": [0.1, 0.5]}},
                                         "label_smoothing": {"params": {"eps": 0.2}}}})
    grid = st.expand(s)
    assert [cfg.name for cfg, _ in grid] == ["study-g-digits-mlp-ce-lam0-s3", "study-g-digits-mlp-dropout-p0.1-lam0-s3",
                                             "study-g-digits-mlp-dropout-p0.5-lam0-s3",
                                             "study-g-digits-mlp-label_smoothing-lam0-s3"]
    assert [st.label(cfg, v) for cfg, v in grid] == ["ce", "dropout p=0.1", "dropout p=0.5", "label_smoothing"]
    assert grid[3][0].method_params == {"eps": 0.2}


def test_paired_comparison_by_hand():
    ref = [{"seed": s, "final_test_acc": a} for s, a in [(0, 0.90), (1, 0.80), (2, 0.85)]]
    rows = [{"seed": s, "final_test_acc": a} for s, a in [(2, 0.85), (0, 0.92), (1, 0.84)]]
    p = stats.paired(rows, ref)  # differences by seed: 0.02, 0.04, 0.00
    assert (p["n"], p["wins"], p["ties"], p["losses"]) == (3, 2, 1, 0)
    assert p["diff"] == "0.020 ± 0.020"
    assert p["sign_p"] == pytest.approx(0.5)  # 2 wins of 2 non-ties: 2 x 0.5^2
    assert p["t_p"] == pytest.approx(0.2254, abs=1e-3)  # t = 0.02 / (0.02 / sqrt 3) = 1.732, 2 dof
    assert stats.pm([0.5]) == "0.500" and stats.pm([]) == "-"  # one run: no spread to show


@pytest.mark.parametrize("name", st.available())
def test_shipped_studies_expand(name):
    grid = st.expand(st.load_study(name))
    methods = {cfg.method for cfg, _ in grid}
    assert {"ce", "weight_decay", "dropout", "label_smoothing"} <= methods
    assert len({cfg.name for cfg, _ in grid}) == len(grid)


def test_ray_backend_gives_the_same_results(tiny, tmp_path):
    ray = pytest.importorskip("ray")
    study = st.load_study(str(tiny))
    local = st.run_study(study, tiny.parent / "runs")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = st.run_study(study, tmp_path / "ray", backend="ray")
    finally:
        ray.shutdown()
    a, b = summary.csv_rows(local), summary.csv_rows(remote)
    assert [list(r) for r in a] == [list(r) for r in b]
    for ra, rb in zip(a, b):  # pytest.approx >= 9.2 refuses dicts holding strings: compare numbers apart
        numbers = sorted(k for k, v in ra.items() if isinstance(v, float) and k != "train_seconds")
        rest = set(ra) - set(numbers) - {"train_seconds"}
        assert {k: ra[k] for k in rest} == {k: rb[k] for k in rest}
        assert [ra[k] for k in numbers] == pytest.approx([rb[k] for k in numbers], rel=1e-5, nan_ok=True)
    assert (tmp_path / "ray" / a[0]["run"] / "metrics.jsonl").exists()


def test_measured_columns_come_from_the_method_declarations(monkeypatch):
    """Each method that declares a quantity adds its key and its `also` keys (titles from the
    declaration); methods without one add nothing; a newly registered method adds its column."""
    cols = summary.columns()
    declared = [(m, (r.quantity.key, *r.quantity.also)) for m, r in REGISTRY.items() if r.quantity is not None]
    assert list(cols) == list(dict.fromkeys(k for _, keys in declared for k in keys))  # registry order, each once
    assert {k: c.owners for k, c in cols.items()} == {k: tuple(m for m, keys in declared if k in keys) for k in cols}
    assert cols["energy"].owners[:2] == ("mhe", "comhe") and cols["l2"].owners == ("weight_decay",)
    assert cols["energy"].title == REGISTRY["mhe"].quantity.title
    assert cols["intra"].title == REGISTRY["phantom"].quantity.also["intra"]
    assert summary.columns(["ce", "dropout", "label_smoothing"]) == {}
    assert list(summary.columns(["ce", "racecar"])) == ["recon"]

    class Sharp(Regularizer):
        name, summary = "sharp", "a test method"
        quantity = Quantity("l2", "sharpness", "sharpness (unitless)", also={"flat": "flatness"})

    monkeypatch.setitem(REGISTRY, "sharp", Sharp)
    assert list(summary.columns(["sharp"])) == ["sharpness", "flat"]
    assert summary.csv_fields()[-2:] == ["final_sharpness", "final_flat"]


def test_the_csv_reads_back_into_the_same_tables(tiny):
    """The README is generated from results.csv: reading it back gives the tables of the run results."""
    results = st.run_study(st.load_study(str(tiny)), tiny.parent / "runs")
    back = summary.read_csv(tiny.parent / "out" / "results.csv")
    fresh = summary.tables(summary.csv_rows(results))
    assert {k: [summary.cells(t) for t in ts] for k, ts in summary.tables(back).items()} == \
        {k: [summary.cells(t) for t in ts] for k, ts in fresh.items()}
    assert summary.headline(back) == {("digits", "mlp"): {"ce": "ce", "weight_decay": "weight_decay λ=0.001"}}


def test_diverged_runs_are_named_in_the_table():
    def row(variant, seed, acc, status="done"):
        return {"data": "digits", "model": "mlp", "method": variant, "variant": variant, "seed": seed, "final_test_acc": acc,
                "best_test_acc": acc, "status": status, "quantity": "", "phase": "final"}

    rows = [row("ce", 0, 0.9), row("ce", 1, 0.8), row("itra", 0, 0.1, "diverged"), row("itra", 1, 0.7)]
    ce, itra = summary.tables(rows)[("digits", "mlp")]
    assert (ce["seeds"], itra["seeds"]) == ("2", "2 (1 diverged)")
    assert itra["final"] == "0.400 ± 0.424" and itra["paired"]["diff"] == "-0.450 ± 0.495"
    assert (ce["collapsed"], itra["collapsed"]) == (0, 1)  # seed 0: 0.1 is below half of CE's 0.9


def test_holm_adjusts_a_family_of_p_values():
    adjusted = stats.holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": float("nan")})
    assert adjusted["a"] == pytest.approx(0.03) and adjusted["c"] == pytest.approx(0.06)
    assert adjusted["b"] == pytest.approx(0.06) and np.isnan(adjusted["d"])  # monotone; NaN not counted


def test_a_study_with_a_validation_split_chooses_on_it_and_retrains_the_choice(tmp_path):
    """Selection runs (held-out validation, names ending -sel) for the swept method only; the
    variant of best mean validation accuracy is retrained on the full split and is the one reported,
    with the evidence in the tables."""
    path = tmp_path / "sel.toml"
    path.write_text('description = "t"\nseeds = [0, 1]\nepochs = 2\ntrain_size = 100\nval_size = 100\n'
                    'probe_size = 50\n[data.digits]\n[models.mlp]\nwidths = [16]\n[methods.ce]\n'
                    '[methods.weight_decay]\nlam = [0.0005, 5.0]\n')
    study = st.load_study(str(path))
    results = st.run_study(study, tmp_path / "runs")
    selection = [r for r in results if r["phase"] == "selection"]
    final = [r for r in results if r["phase"] == "final"]
    assert {r["method"] for r in selection} == {"weight_decay"} and len(selection) == 4
    assert all(r["run"].endswith("-sel") and r["config"].val_size == 100 for r in selection)
    assert all(r["config"].val_size == 0 for r in final) and len(final) == 4  # ce and the chosen variant, 2 seeds
    mean = {v: np.mean([summary.last(r["val_acc"]) for r in selection if r["variant"] == v])
            for v in {r["variant"] for r in selection}}
    assert {r["variant"] for r in final if r["method"] == "weight_decay"} == {max(mean, key=mean.get)}
    rows = summary.csv_rows(results)
    assert summary.selects(rows) and [len(t) for t in summary.tables(rows).values()] == [2]
    assert [r[-1] for r in summary.selection_tables(rows)[("digits", "mlp")]].count("yes") == 1
    assert "chosen on validation accuracy" in summary.markdown("sel", "t", rows, "timing")


def test_the_study_records_nc1_and_the_cka_with_ce_and_tabulates_them_paired(tiny):
    import numpy as np

    from lab.measure.geometry import linear_cka, nc1
    from lab.store import load_run, load_snapshot
    from lab.study.summary import read_csv, tables

    folder = tiny.parent
    rows = read_csv(folder / "out" / "results.csv")
    for r in rows:
        snap = load_snapshot(load_run(folder / "runs" / r["run"]), 2)
        assert r["final_nc1"] == pytest.approx(nc1(snap["hidden_0"].astype(np.float64), snap["probe_y"]), rel=1e-6)
        ce = next(c for c in rows if c["method"] == "ce" and c["seed"] == r["seed"])
        theirs = load_snapshot(load_run(folder / "runs" / ce["run"]), 2)["hidden_0"]
        assert r["cka_ce"] == pytest.approx(linear_cka(snap["hidden_0"], theirs), rel=1e-6)
    (t_ce, t_wd), = tables(rows).values()
    assert t_ce["nc1_paired"] is None and t_ce["cka"] == "1.000 ± 0.000"
    diffs = [r["final_nc1"] - next(c["final_nc1"] for c in rows if c["method"] == "ce" and c["seed"] == r["seed"])
             for r in rows if r["method"] == "weight_decay"]
    assert t_wd["nc1_paired"]["mean"] == pytest.approx(np.mean(diffs)) and "NC1 of the features" in (
        folder / "out" / "results.md").read_text()


def test_runs_that_ended_at_chance_are_named_in_the_table():
    """A run `lab.train.ending` judged collapsed (at chance) is a result, and the table says how many."""
    def row(variant, seed, acc, status="done"):
        return {"data": "digits", "model": "mlp", "method": variant, "variant": variant, "seed": seed, "final_test_acc": acc,
                "best_test_acc": acc, "status": status, "quantity": "", "phase": "final"}

    rows = [row("ce", s, 0.9) for s in range(3)] + [row("itra", 0, 0.1, "collapsed"), row("itra", 1, 0.1, "diverged"),
                                                     row("itra", 2, 0.8)]
    _, itra = summary.tables(rows)[("digits", "mlp")]
    assert itra["seeds"] == "3 (1 diverged, 1 collapsed)"
