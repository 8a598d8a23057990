"""`python -m lab` end to end: train, runs, compare, and one-line errors (never a traceback)."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def test_train_prints_run_folder_and_saves_it(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--train-size", "200", "--widths", "32", "--runs", str(tmp_path),
                 "--name", "cli-run"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(tmp_path / "cli-run")
    cfg = json.loads((tmp_path / "cli-run" / "config.json").read_text())
    assert cfg["model_params"]["widths"] == [32] and cfg["epochs"] == 2 and cfg["train_size"] == 200
    assert len((tmp_path / "cli-run" / "metrics.jsonl").read_text().splitlines()) == 2


def test_method_options_are_parsed_and_checked(tmp_path, capsys):
    assert main(["train", "--method", "dropout", "--p", "0.5", "--epochs", "1", "--train-size", "100",
                 "--widths", "16", "--runs", str(tmp_path), "--name", "d"]) == 0
    assert json.loads((tmp_path / "d" / "config.json").read_text())["method_params"] == {"p": 0.5}
    assert main(["train", "--method", "dropout", "--p", "1.5", "--runs", str(tmp_path)]) == 2
    assert "The 'p' parameter of dropout must be a number of at least 0 and less than 1. Got '1.5' instead." in capsys.readouterr().err


@pytest.mark.parametrize("argv,needle", [
    (["train", "--data", "nope"], "Unknown data set 'nope'; choose one of: digits, mnist1d"),
    (["train", "--model", "rnn"], "Unknown model 'rnn'; choose one of: mlp, cnn."),
    (["train", "--method", "magic"], "Unknown method 'magic'; choose one of: ce,"),
    (["train", "--epochs", "0"], "The 'epochs' parameter of training must be a whole number from 1 to 1000"),
    (["train", "--lambda", "-1"], "The 'lambda' parameter of ce must be a number"),
    (["train", "--model", "cnn", "--data", "moons"], "needs image-shaped data"),
    (["train", "--train-size", "999999"], "train_size 999999 is larger than the digits training split"),
    (["train", "--name", "../escape"], "Invalid run name '../escape'"),
    (["train", "--probe-size", "10000"], "The 'probe_size' parameter of training must be a whole number from 10 to 5000"),
    (["train", "--name", "abc\n"], "Invalid run name 'abc\\n'"),
    (["train", "--data", "mnist", "--root", "/nonexistent/reglab-data"],
     "mnist: 4 of its 4 files are not in /nonexistent/reglab-data/MNIST/raw; download them"),
    (["frobnicate"], f"Unknown command 'frobnicate'; choose one of: {', '.join(COMMANDS)}."),
    (["compare", "--methods", "ce,nope"], "Unknown method 'nope'"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, needle):
    assert main(argv + ["--runs", str(tmp_path)] if argv[0] != "frobnicate" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # refused before any run folder exists


def test_runs_lists_status_and_accuracy(tmp_path, capsys):
    main(["train", "--epochs", "1", "--train-size", "100", "--widths", "16", "--runs", str(tmp_path), "--name", "r1"])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    capsys.readouterr()
    assert main(["runs", "--runs", str(tmp_path)]) == 0
    cap = capsys.readouterr()
    line = next(l for l in cap.out.splitlines() if l.startswith("r1 "))
    assert "done" in line and line.split()[-1].replace(".", "").isdigit()
    assert "Skipped junk" in cap.err


def test_compare_writes_csv_and_mean_std(tmp_path, capsys):
    out = tmp_path / "cmp.csv"
    assert main(["compare", "--methods", "ce,label_smoothing", "--seeds", "0,1", "--epochs", "1", "--train-size",
                 "100", "--widths", "16", "--runs", str(tmp_path), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["method"], r["seed"]) for r in rows] == [("ce", "0"), ("ce", "1"), ("label_smoothing", "0"),
                                                       ("label_smoothing", "1")]
    assert {r["steps"] for r in rows} == {"1"}  # 100 samples, batch 128: one (short) step per epoch for every method
    text = capsys.readouterr().out
    assert "Same data, model, training settings, seeds and optimizer steps" in text
    assert "ce " in text and "±" in text


@pytest.mark.parametrize("seeds", ["0,1,2", "0,1"])
def test_compare_judges_each_method_against_ce_with_paired_tests_and_says_when_seeds_are_too_few(
        tmp_path, capsys, seeds):
    from lab.stats import change, holm, paired, verdict

    out = tmp_path / "cmp.csv"
    assert main(["compare", "--methods", "ce,mhe,phantom", "--seeds", seeds, "--epochs", "2", "--train-size", "100",
                 "--widths", "16", "--runs", str(tmp_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = [{**r, "seed": int(r["seed"]), "final_test_acc": float(r["test_acc"])} for r in csv.DictReader(out.open())]
    by = {m: [r for r in rows if r["method"] == m] for m in ("ce", "mhe", "phantom")}
    tests = {m: paired(by[m], by["ce"]) for m in ("mhe", "phantom")}
    adjusted = holm({m: t["t_p"] for m, t in tests.items()})
    for m, t in tests.items():  # recomputed here from the CSV: the printed row says the same
        line = next(l for l in text.splitlines() if l.startswith(m) and "test accuracy" in l)
        words = ("better than CE", "worse than CE")
        assert change(list(t["per_seed"].values())) in line and f"{t['wins']}/{t['ties']}/{t['losses']}" in line
        assert line.endswith(verdict(t["mean"], adjusted[m], t["n"], words))
        judged = text.split("Against ce on the same seeds")[1].splitlines()
        assert sum(l.startswith(m) for l in judged) == 2  # test accuracy and its own quantity
    assert ("too few seeds to tell (2 paired; 3 at least)" in text) == (seeds == "0,1")


def test_compare_with_one_seed_shows_no_spread(tmp_path, capsys):
    assert main(["compare", "--methods", "ce", "--seeds", "0", "--epochs", "1", "--train-size", "100",
                 "--widths", "16", "--runs", str(tmp_path)]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("ce "))
    assert "±" not in line and line.split()[-1].startswith("0.")


def test_module_entry_point_in_a_subprocess(tmp_path):
    p = subprocess.run([sys.executable, "-m", "lab", "train", "--lr", "abc", "--runs", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == "error: The 'lr' parameter of training must be a number greater than 0 and at most 10. Got 'abc' instead."


def test_help_lists_every_command_with_its_line_and_imports_no_torch():
    """Every module of lab/cli but `options` is a command; the list is read from their HELP lines."""
    import subprocess
    import sys

    commands = sorted(p.stem for p in (ROOT / "lab" / "cli").glob("*.py") if p.stem not in ("__init__", "options"))
    code = "import sys; from lab.cli import main; main(['--help']); sys.exit('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert sorted(listed) == commands
    for name in commands:
        assert f"  {name}" in out and __import__(f"lab.cli.{name}", fromlist=["HELP"]).HELP in out


@pytest.mark.parametrize("method", ["mhe", "racecar", "ce"])
def test_train_help_shows_the_number_of_every_default(capsys, method):
    from lab.regularizers import REGISTRY

    with pytest.raises(SystemExit):
        main(["train", "--method", method, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    reg = REGISTRY[method]
    lam = f"(default {reg.default_lam:g}, {method}'s)" if reg.has_penalty() else "(default none: no penalty)"
    assert f"--lambda LAM weight of the penalty {lam}" in text
    for p in reg.params:
        assert f"(default {p.default})" in text


def test_train_config_reruns_a_saved_runs_settings_exactly_and_refuses_a_mixed_option(tmp_path, capsys):
    from lab.store import load_run

    assert main(["train", "--method", "mhe", "--epochs", "2", "--train-size", "100", "--widths", "16",
                 "--runs", str(tmp_path), "--name", "first"]) == 0
    assert main(["train", "--config", str(tmp_path / "first" / "config.json"), "--runs", str(tmp_path),
                 "--name", "again"]) == 0
    first, again = load_run(tmp_path / "first"), load_run(tmp_path / "again")
    assert {**first.config.to_dict(), "name": None} == {**again.config.to_dict(), "name": None}
    drop = {"seconds"}  # wall time is the one thing a rerun cannot repeat
    assert [{k: v for k, v in m.items() if k not in drop} for m in first.metrics] == \
        [{k: v for k, v in m.items() if k not in drop} for m in again.metrics]
    capsys.readouterr()
    assert main(["train", "--config", str(tmp_path / "first" / "config.json"), "--epochs", "3"]) == 2
    assert "--epochs cannot change it" in capsys.readouterr().err
