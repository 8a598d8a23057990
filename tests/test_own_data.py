"""Your own data (lab/data/files.py, `--data FILE`): tables, arrays and image folders written here
train from the CLI with their class names, splits and shapes; every bad file is refused in one
line naming what and where, with no run folder; a changed file is noticed; and on small public
tables the default MLP matches a logistic regression on the same split."""
import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lab.cli import main
from lab.config import RunConfig, validate
from lab.data import FILE_KINDS, DATASETS, prepare, read_file, resolve
from lab.errors import DataError
from lab.store import class_names, list_runs, load_run, load_snapshot


def _table(path: Path, rows: list[list], header: list[str] | None = None, delimiter: str = ",") -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def _labelled(n: int = 60, classes: tuple[str, ...] = ("cat", "dog", "eel"), d: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % len(classes)
    return rng.normal(size=(n, d)) + y[:, None], [classes[c] for c in y]


def _train(tmp_path: Path, capsys, *args: str) -> tuple[object, str]:
    runs = tmp_path / "runs"
    assert main(["train", *args, "--epochs", "2", "--probe-size", "20", "--runs", str(runs)]) == 0
    err = capsys.readouterr().err
    (run,) = list_runs(runs)
    return run, err


def test_a_table_with_a_header_and_string_labels_trains_and_keeps_its_class_names(tmp_path, capsys):
    x, labels = _labelled()
    path = _table(tmp_path / "pets.csv", [[*r, c] for r, c in zip(x.tolist(), labels)], ["a", "b", "c", "kind"])
    run, err = _train(tmp_path, capsys, "--data", str(path))
    assert "pets.csv: 60 rows, 3 feature columns, label column 'kind' (3 classes). Features: a, b, c." in err
    cfg = run.config
    assert (cfg.data, cfg.data_params["path"], cfg.data_label) == ("table", str(path.resolve()), "pets.csv")
    assert cfg.data_source == {"path": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert run.id.startswith("pets-mlp-ce-s0-") and run.state == "done"
    assert class_names(run) == ["cat", "dog", "eel"]
    snap = load_snapshot(run, run.snapshot_epochs[-1])
    assert len(snap["probe_y"]) == len(snap["logits"]) == 12  # the test split: 20% of 60, stratified


def test_a_tsv_without_header_takes_its_label_by_index_and_numeric_labels_keep_their_order(tmp_path):
    x, _ = _labelled(40)
    y = np.arange(40) % 2 * 10  # labels 0 and 10, numeric order
    path = _table(tmp_path / "t.tsv", [[int(c), *r] for r, c in zip(x.tolist(), y)], delimiter="\t")
    raw, note = read_file("table", str(path), label_column="0")
    assert raw.classes == ["0", "10"] and raw.x.shape == (40, 3) and np.array_equal(raw.y, (y > 0).astype(int))
    np.testing.assert_allclose(raw.x, x, rtol=1e-6)
    assert "label column '0'" in note and note.endswith("Features: columns 1, 2, 3.")


def test_a_split_column_carries_the_split(tmp_path):
    x, labels = _labelled(30)
    split = ["test" if i % 5 == 0 else "train" for i in range(30)]
    path = _table(tmp_path / "s.csv", [[*r, c, s] for r, c, s in zip(x.tolist(), labels, split)],
                  ["a", "b", "c", "kind", "split"])
    raw, note = read_file("table", str(path), label_column="kind")
    assert len(raw.y) == 24 and len(raw.test[1]) == 6 and "split by its 'split' column" in note
    data = prepare("table", validate(RunConfig(data="table", data_params={"path": str(path), "label_column": "kind"}))
                   .data_params)
    assert len(data.test.y) == 6 and len(data.train.y) == 24


def test_arrays_as_vectors_images_for_the_cnn_signals_and_with_their_own_test_split(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", x=rng.random((40, 6, 6)), y=np.arange(40) % 4)
    run, err = _train(tmp_path, capsys, "--data", str(tmp_path / "img.npz"), "--model", "cnn", "--channels", "4")
    assert "img.npz: 40 samples of shape (1, 6, 6), 4 classes." in err and run.state == "done"
    np.savez(tmp_path / "sig.npz", x=rng.random((30, 2, 12)), y=np.arange(30) % 3, x_test=rng.random((9, 2, 12)),
             y_test=np.arange(9) % 3)
    raw, note = read_file("arrays", str(tmp_path / "sig.npz"), layout="signals")
    assert raw.x.shape == (30, 2, 12) and raw.test[0].shape == (9, 2, 12) and "own test split of 9" in note
    raw, _ = read_file("arrays", str(tmp_path / "img.npz"), layout="signals")
    assert raw.x.shape == (40, 6, 6)  # (n, C, L): six channels of length six
    cfg = validate(RunConfig(data="arrays", model="cnn", data_params={"path": str(tmp_path / "sig.npz"),
                                                                      "layout": "signals"}))
    assert len(prepare(cfg.data, cfg.data_params).test.y) == 9


@pytest.mark.parametrize("split", [False, True])
def test_an_image_folder_is_resized_grey_or_rgb_and_may_carry_its_split(tmp_path, split):
    rng = np.random.default_rng(0)
    for part in (("train", "test") if split else ("",)):
        for c in ("ant", "bee"):
            folder = tmp_path / "imgs" / part / c
            folder.mkdir(parents=True)
            for i in range(4):
                Image.fromarray((rng.random((10, 14, 3)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    raw, note = read_file("images", str(tmp_path / "imgs"), size=8, colour="rgb")
    assert raw.classes == ["ant", "bee"] and raw.x.shape[1:] == (3, 8, 8) and 0 <= raw.x.min() <= raw.x.max() <= 1
    assert (raw.test is not None) == split and len(raw.y) == 8
    raw, _ = read_file("images", str(tmp_path / "imgs"), size=5, colour="grey")
    assert raw.x.shape[1:] == (1, 5, 5)


def test_names_and_paths_resolve_to_a_data_set_and_its_options(tmp_path):
    (tmp_path / "f").mkdir()
    assert resolve("digits") == ("digits", {})
    assert resolve("x/wine.csv") == ("table", {"path": "x/wine.csv"}) and resolve("a.tsv")[0] == "table"
    assert resolve("a.npz") == ("arrays", {"path": "a.npz"}) and resolve(str(tmp_path / "f"))[0] == "images"
    with pytest.raises(DataError, match="notes.txt: not a data set the lab reads"):
        resolve("notes.txt")
    for kind in FILE_KINDS:  # the defaults are the example files, and they read
        default = {p.name: p.default for p in DATASETS[kind].params}
        assert Path(default["path"]).exists() and len(read_file(kind, **{k: v for k, v in default.items()
                                                                          if k != "test_fraction"})[0].y) > 50


def _bad_npz(path: Path) -> None:
    np.savez(path, x=np.zeros((10, 3)), y=np.zeros(9))


def _broken_image(path: Path) -> None:
    for c in ("a", "b"):
        (path / c).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (4, 4)).save(path / c / f"{i}.png")
    (path / "b" / "bad.png").write_bytes(b"not an image")


BAD = {
    "empty": ("e.csv", lambda p: p.write_text(""), "e.csv is empty"),
    "non-numeric": ("n.csv", lambda p: p.write_text("a,b,y\n1,2,x\n3,oops,y\n"), "n.csv, row 3, column 'b': 'oops' is not a number"),
    "nan": ("m.csv", lambda p: p.write_text("a,y\n1,x\nnan,y\n2,x\n3,y\n"),
            "m.csv, row 3, column 'a': 'nan' is not a finite number; fix the row, or drop such rows (drop missing, --drop-missing)"),
    "infinite": ("i.csv", lambda p: p.write_text("a,b,y\n1,2,x\n3,4,y\n5,-inf,x\n6,7,y\n"),
                 "i.csv, row 4, column 'b': '-inf' is not a finite number"),
    "missing": ("m2.csv", lambda p: p.write_text("a,b,y\n1,2,x\n1,,y\n2,3,x\n3,4,y\n"), "m2.csv, row 3, column 'b': missing value"),
    "ragged": ("r.csv", lambda p: p.write_text("1,2,x\n3,y\n"), "r.csv, row 2: 2 fields where the first row has 3"),
    "one class": ("o.csv", lambda p: p.write_text("1,x\n2,x\n3,x\n"), "o.csv has one class only (x)"),
    "tiny class": ("t.csv", lambda p: p.write_text("1,x\n2,x\n3,y\n"), "t.csv: class 'y' has 1 sample; each class needs at least 2"),
    "1001 classes": ("k.csv", lambda p: p.write_text("".join(f"{i},{i}\n" for i in range(1001))), "k.csv has 1001 distinct labels"),
    "npz lengths": ("l.npz", _bad_npz, "l.npz: x has 10 samples but y has shape (9,)"),
    "npz nan": ("f.npz", lambda p: np.savez(p, x=np.array([[0.0], [1.0], [np.inf], [2.0]]), y=np.arange(4) % 2),
                "f.npz: x[2] holds a missing or non-finite value; fix it, or drop such samples"),
    "npz pickle": ("p.npz", lambda p: np.savez(p, x=np.zeros((4, 2)), y=np.array([{}, {}, {}, {}], dtype=object)),
                   "p.npz holds Python objects (pickled), which the lab never loads"),
    "npz keys": ("q.npz", lambda p: np.savez(p, a=np.zeros(3)), "q.npz has arrays a; it needs x"),
    "bad image": ("imgs", _broken_image, "bad.png is not an image the lab can decode"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_file_is_refused_in_one_line_and_no_run_folder_is_written(tmp_path, capsys, case):
    name, write, needle = BAD[case]
    write(tmp_path / name)
    assert main(["train", "--data", str(tmp_path / name), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_drop_missing_drops_the_rows_and_says_how_many(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text("a,y\n1,x\nnan,y\n2,x\n3,y\n,x\n4,y\n5,x\n6,y\n")
    raw, note = read_file("table", str(path), drop_missing=True)
    assert raw.x[:, 0].tolist() == [1, 2, 3, 4, 5, 6] and "dropped 2 rows with missing values" in note


def test_a_run_whose_file_changed_is_refused_a_rerun_and_stays_viewable(tmp_path, capsys):
    x, labels = _labelled()
    path = _table(tmp_path / "d.csv", [[*r, c] for r, c in zip(x.tolist(), labels)])
    run, _ = _train(tmp_path, capsys, "--data", str(path))
    path.write_text(path.read_text().replace("cat", "cow"))
    with pytest.raises(DataError, match="d.csv changed since this run was trained; restore that version"):
        validate(run.config)
    again = load_run(run.path)
    assert load_snapshot(again, again.snapshot_epochs[-1])["probe_y"].size and class_names(again)[0] == "cat"
    path.unlink()
    with pytest.raises(DataError, match="d.csv is gone since this run was trained; restore it to re-run the run"):
        validate(run.config)


def test_a_study_takes_a_file_as_a_data_set_labelled_by_its_name(tmp_path):
    from lab.study.spec import expand, parse_study

    x, labels = _labelled()
    path = _table(tmp_path / "w.csv", [[*r, c] for r, c in zip(x.tolist(), labels)])
    study = parse_study("s", {"data": {str(path): {"test_fraction": 0.3}}, "models": {"mlp": {}},
                              "methods": {"ce": {}}, "seeds": [0], "epochs": 1})
    assert study.data == {"w.csv": ("table", {"path": str(path), "test_fraction": 0.3})}
    (cfg, _), = expand(study)
    assert cfg.data == "table" and cfg.data_params["test_fraction"] == 0.3 and "-w.csv-" in cfg.name


@pytest.mark.parametrize("loader", ["load_wine", "load_breast_cancer"])
def test_the_default_mlp_matches_a_logistic_regression_on_a_public_table(tmp_path, loader):
    """Same split, standardised on the training split alike; the MLP at every default setting."""
    import sklearn.datasets
    from sklearn.linear_model import LogisticRegression

    from lab.train import train

    d = getattr(sklearn.datasets, loader)()
    np.savez(tmp_path / "t.npz", x=d.data, y=d.target)
    cfg = validate(RunConfig(data="arrays", data_params={"path": str(tmp_path / "t.npz")}))
    data = prepare(cfg.data, cfg.data_params)
    logistic = LogisticRegression(max_iter=5000).fit(data.train.x.numpy(), data.train.y.numpy())
    reference = logistic.score(data.test.x.numpy(), data.test.y.numpy())
    assert train(cfg).history[-1]["test_acc"] >= reference - 0.03


def test_a_two_column_table_and_the_blobs_toy_save_a_decision_boundary(tmp_path):
    from lab.train import train

    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    path = _table(tmp_path / "p.csv", [[*(rng.normal(size=2) + 3 * c), f"c{c}"] for c in y], ["u", "v", "label"])
    for cfg in (RunConfig(data="table", data_params={"path": str(path)}, epochs=1),
                RunConfig(data="blobs", data_params={"classes": 6, "n_samples": 120}, epochs=1)):
        run = load_run(train(validate(cfg), runs=tmp_path / "runs").path)
        snap = load_snapshot(run, 1)
        assert snap["grid_logits"].shape[-1] == len(class_names(run)) == (3 if cfg.data == "table" else 6)
    assert json.loads((run.path / "config.json").read_text())["data_source"] is None


def test_a_lesson_runs_on_your_file_untuned_and_says_so(tmp_path, capsys):
    x, labels = _labelled(90)
    path = _table(tmp_path / "pets.csv", [[*r, c] for r, c in zip(x.tolist(), labels)])
    assert main(["lesson", "mhe", "--data", str(path), "--seeds", "0", "--runs", str(tmp_path / "runs")]) in (0, 1)
    out = capsys.readouterr().out
    runs = {r.config.method: r for r in list_runs(tmp_path / "runs")}
    assert set(runs) == {"ce", "mhe"} and all(r.config.data_label == "pets.csv" for r in runs.values())
    assert all(r.config.train_size == 0 and list(r.config.model_params["widths"]) == [64, 64] for r in runs.values())
    assert "Not a tuned lesson on pets.csv" in out and "seed 0: " in out
