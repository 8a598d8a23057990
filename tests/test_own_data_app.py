"""Your own data in the app (AppTest): Train trains a table named by its path and says what it
read; a 2-D table's and an image folder's runs open in every view page (the table's with its
decision boundary); a bad file is refused in one line and trains nothing."""
import csv
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig
from lab.store import list_runs
from lab.train import train
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A 2-D table with string labels and a small image folder, and a runs folder with a run of each."""
    folder = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)
    with open(folder / "points.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["u", "v", "colour"])
        w.writerows([*(rng.normal(size=2) + 2 * c), ("red", "green", "blue")[c]] for c in np.arange(120) % 3)
    for c in ("ant", "bee"):
        (folder / "imgs" / c).mkdir(parents=True)
        for i in range(10):
            Image.fromarray((rng.random((12, 12)) * 255 * (1 + (c == "bee")) / 2).astype(np.uint8)).save(
                folder / "imgs" / c / f"{i}.png")
    np.savez(folder / "signals.npz", x=rng.normal(size=(60, 16)) + np.arange(60)[:, None] % 2, y=np.arange(60) % 2)
    runs = folder / "runs"
    train(RunConfig(data="arrays", data_params={"path": str(folder / "signals.npz")}, epochs=2, name="signals"),
          runs=runs)
    train(RunConfig(data="table", data_params={"path": str(folder / "points.csv")}, epochs=2, name="points"), runs=runs)
    train(RunConfig(data="images", data_params={"path": str(folder / "imgs"), "size": 8}, model="cnn",
                    model_params={"channels": (4,)}, epochs=2, name="imgs"), runs=runs)
    return {"table": folder / "points.csv", "images": folder / "imgs", "arrays": folder / "signals.npz", "runs": runs}


def _app(runs: Path, monkeypatch, run: str | None = None) -> AppTest:
    monkeypatch.setenv("REGLAB_RUNS", str(runs))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if run:
        at.query_params["run"] = run
    return at.run()


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "info", "caption", "error", "warning") for e in at.get(kind)).replace("\\", "")


@pytest.mark.parametrize("run", ["points", "imgs", "signals"])
def test_a_run_on_your_own_data_opens_in_every_view_page(files, monkeypatch, run):
    at = _app(files["runs"], monkeypatch, run)
    for key in ui.nav.VIEWS:
        at.switch_page(ui.nav.path(key)).run()
        assert not at.exception, (key, at.exception)
        if key == "boundary":  # a 2-D table has one; 8x8 images have none, and the page says so
            assert bool(plots(at)) == (run == "points") != ("There is no boundary" in _texts(at))
        elif key != "method":  # ce has no method views of its own
            assert plots(at), key


@pytest.mark.parametrize("kind, says", [
    ("table", "points.csv: 120 rows, 2 feature columns, label column 'colour' (3 classes)."),
    ("arrays", "signals.npz: 60 samples of shape (16,), 2 classes."),
    ("images", "imgs: 20 images, 2 classes, 28x28 grey.")])
def test_train_takes_your_file_by_its_path_says_what_it_read_and_trains_it(files, tmp_path, monkeypatch, kind, says):
    at = _app(tmp_path, monkeypatch).switch_page(ui.nav.path("train")).run()
    at.selectbox(key="data").set_value(kind).run()
    at.text_input(key=f"data.{kind}.path").set_value(str(files[kind])).run()
    assert says in _texts(at)
    at.number_input(key="train.epochs").set_value(2)
    at.button(key="train").click().run()
    end = time.monotonic() + 60
    while "done" not in " ".join(p.text for p in at.get("progress")):
        assert time.monotonic() < end and not at.exception
        time.sleep(0.2)
        at.run()
    (run,) = list_runs(tmp_path)
    assert run.id.startswith(f"{files[kind].stem}-mlp-ce-s0-") and run.config.data_source["path"] == str(files[kind])


def test_a_bad_file_on_the_train_page_is_one_line_and_trains_nothing(tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,y\n1,2,x\noops,3,y\n")
    runs = tmp_path / "runs"
    at = _app(runs, monkeypatch).switch_page(ui.nav.path("train")).run()
    at.selectbox(key="data").set_value("table").run()
    at.text_input(key="data.table.path").set_value(str(bad)).run()
    assert "bad.csv, row 3, column 'a': 'oops' is not a number" in _texts(at)
    at.button(key="train").click().run()
    assert not at.exception and "bad.csv, row 3, column 'a'" in _texts(at)
    assert not runs.exists() or not list(runs.iterdir())


def test_a_run_whose_file_changed_says_so_in_one_line_and_its_views_still_draw(files, tmp_path, monkeypatch):
    import shutil

    table = tmp_path / "moved.csv"
    shutil.copy(files["table"], table)
    runs = tmp_path / "runs"
    train(RunConfig(data="table", data_params={"path": str(table)}, epochs=1, name="moved"), runs=runs)
    table.write_text(table.read_text().replace("red", "pink"))
    at = _app(runs, monkeypatch, "moved")
    for key in ("embeddings", "boundary"):
        at.switch_page(ui.nav.path(key)).run()
        warnings = [w.value for w in at.warning]
        assert not at.exception and plots(at), key
        assert warnings == [f"{table} changed since this run was trained; restore that version to re-run it, or train "
                            "a new run on the file as it is. Its snapshots stay viewable."], key
