"""Take a view page or Compare home (`ui.takehome.page_button`, `lab.takehome.player_page`): the
button is on the page, and the page it builds on the press names the runs, animates every panel
of the player over every epoch, stays under its size limit, loads nothing from the network, and
draws and plays offline in a real browser."""
import shutil
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig
from lab.store import RunRecord, load_run
from lab.takehome import MAX_BYTES
from lab.train import train
from test_takehome import _figures, assert_offline, played_offline
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", train_size=200, epochs=3, model_params={"widths": (16,)})
LABEL = "Take this page home (one HTML page)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[RunRecord]:
    """A CE and an MHE run of the same tiny setting (3 epochs: snapshots at epochs 0 to 3)."""
    folder = tmp_path_factory.mktemp("runs")
    return [load_run(train(RunConfig(method=m, name=f"tiny-{m}", **TINY), runs=folder).path) for m in ("ce", "mhe")]


@pytest.fixture
def pressed(runs, monkeypatch):
    """`pressed(page, **query)`: the app on `page` (its runs folder: `runs`'), and the bytes its
    take-home button builds when pressed (the deferred callable the button registered)."""
    deferred: dict[str, object] = {}
    register = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        file_id = register(self, data_callable, *args, **kwargs)
        deferred[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.setenv("REGLAB_RUNS", str(runs[0].path.parent))

    def press(page: str, **query) -> tuple[AppTest, str]:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params.update(query)
        at.run().switch_page(ui.nav.path(page)).run()
        assert not at.exception, at.exception
        buttons = [b for b in at.get("download_button") if b.proto.label == LABEL]
        assert len(buttons) == 1, [b.proto.label for b in at.get("download_button")]
        return at, deferred[buttons[0].proto.deferred_file_id]().decode()

    return press


def _animated(text: str) -> list[dict]:
    return [f for f in _figures(text).values() if f.get("frames")]


def test_the_similarity_page_takes_home_both_panels_over_every_epoch(runs, pressed):
    ce = runs[0]
    _, text = pressed("similarity", run=ce.id)
    epochs = [str(e) for e in ce.snapshot_epochs]
    assert epochs == ["0", "1", "2", "3"]
    animated = _animated(text)
    assert len(animated) == 2  # the similarity matrix and the pair histograms
    for f in animated:
        assert [fr["name"] for fr in f["frames"]] == epochs
        assert [s["label"] for s in f["layout"]["sliders"][0]["steps"]] == epochs
    assert len(_figures(text)) == 3  # and the gap over training
    assert ce.id in text and "Layer: hidden_0" in text and '<div class="player">' in text
    assert len(text.encode()) < MAX_BYTES
    assert_offline(text)


def test_compare_takes_home_its_curves_judgement_and_small_multiples(runs, pressed):
    ids = [r.id for r in runs]
    at, text = pressed("compare", runs=",".join(ids))
    animated = _animated(text)
    assert len(animated) == 1  # the small multiples of both runs, one figure
    assert [fr["name"] for fr in animated[0]["frames"]] == [str(e) for e in runs[0].snapshot_epochs]
    # the accuracy curves, the judgement against CE, what mhe acts on and the CKA between the runs
    assert len(_figures(text)) == 1 + len([c for c in plots(at) if c.key != "compare.grid"]) == 5
    for heading in ("Test accuracy", "Against CE", "What mhe acts on", "CKA between the runs"):
        assert f"<h2>{heading}</h2>" in text
    assert all(i in text for i in ids) and len(text.encode()) < MAX_BYTES
    assert_offline(text)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_the_similarity_export_draws_and_plays_offline_in_a_real_browser(runs, pressed, tmp_path):
    """Opened from file:// with every other request refused: every figure is drawn (SVG), Play on the
    first panel runs to the last epoch, the other panel follows, and the console stays free of errors."""
    from serve import browser

    ce = runs[0]
    path = tmp_path / "similarity.html"
    path.write_text(pressed("similarity", run=ce.id)[1])
    epochs = [str(e) for e in ce.snapshot_epochs]
    with browser() as b:
        divs, panels, seen, active, errors = played_offline(b, path, ".player", len(epochs))
    assert len(divs) == 3 and all(n > 0 for _, n in divs), divs
    assert len(panels) == 2 and all(seen[p] == epochs for p in panels)  # played through; the other panel followed
    assert active == [len(epochs) - 1] * 2 and errors == []
