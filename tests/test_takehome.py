"""Take a lesson home (`python -m lab lesson NAME --html FILE`, `lab.takehome`): one offline page
that quotes the CLI's printed lines exactly, animates the lesson's views of both runs, stays
under its size limit, and draws and plays in a real browser with the network refused."""
import contextlib
import html
import io
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from lab.cli import main
from lab.errors import LabError
from lab.lessons import LESSONS, Lesson
from lab.store import list_runs
from lab.takehome import MAX_BYTES, lesson_page

FIGURE = re.compile(r'<script type="application/json" data-figure="(fig-\d+)">(.*?)</script>', re.S)


def _tiny() -> Lesson:
    """The mhe lesson with 3 epochs on 200 training samples (a second or two per run)."""
    mhe = LESSONS["mhe"]
    return replace(mhe, settings={**mhe.settings, "epochs": 3, "train_size": 200, "probe_size": 200})


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, str, list]:
    """The mhe lesson made tiny (3 epochs, 200 samples), trained and exported by the CLI with
    seed 0: the page's path, what the CLI printed, and the (ce, mhe) runs."""
    folder = tmp_path_factory.mktemp("takehome")
    out, page = io.StringIO(), folder / "page" / "mhe.html"
    with pytest.MonkeyPatch.context() as m, contextlib.redirect_stdout(out):
        m.setitem(LESSONS, "mhe", _tiny())
        main(["lesson", "mhe", "--seeds", "0", "--runs", str(folder / "runs"), "--html", str(page)])
    runs = sorted(list_runs(folder / "runs"), key=lambda r: r.config.method != "ce")
    return page, out.getvalue(), runs


def _figures(text: str) -> dict[str, dict]:
    return {div: json.loads(body) for div, body in FIGURE.findall(text)}


def assert_offline(text: str) -> None:
    """`text` (a page) loads no script, style sheet or link target from the network."""
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|@import|url\(", text, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)


def test_the_page_quotes_every_printed_line_and_names_its_runs(exported):
    page, printed, runs = exported
    text = page.read_text()
    assert page.stat().st_size < MAX_BYTES
    quoted = html.unescape(re.search(r'<pre class="lines">(.*?)</pre>', text, re.S).group(1))
    assert quoted == printed.rstrip("\n")  # the very lines, in order
    assert "seed 0: " in printed and any("°" in line for line in printed.splitlines())  # a verdict with its numbers
    assert "Exported from RegLab" in text and "Every number on this page is measured on these runs" in text
    assert [r.config.method for r in runs] == ["ce", "mhe"] and all(r.id in text for r in runs)


def test_the_views_of_both_runs_are_animated_over_their_epochs(exported):
    page, _, runs = exported
    figures = _figures(page.read_text())
    animated = {div: f for div, f in figures.items() if f.get("frames")}
    assert len(animated) == 2 * len(LESSONS["mhe"].views)  # each view, for ce and for mhe
    epochs = [str(e) for e in runs[0].snapshot_epochs]
    for f in animated.values():
        assert [fr["name"] for fr in f["frames"]] == epochs
        assert [s["label"] for s in f["layout"]["sliders"][0]["steps"]] == epochs
        assert [b["label"] for b in f["layout"]["updatemenus"][0]["buttons"]] == ["Play", "Pause"]
        assert all(fr["data"] for fr in f["frames"])  # each frame changes something: the run's own epoch


def test_the_page_loads_nothing_from_the_network(exported):
    assert_offline(exported[0].read_text())


def test_a_smaller_size_limit_thins_the_frames_and_an_impossible_one_is_refused(exported):
    page, printed, runs = exported
    full = page.stat().st_size
    lines = printed.rstrip("\n").split("\n")
    thinned = lesson_page(LESSONS["mhe"], [tuple(runs)], lines, max_bytes=full - 1000)
    assert len(thinned.encode()) <= full - 1000
    counts = {len(f["frames"]) for f in _figures(thinned).values() if f.get("frames")}
    assert counts and max(counts) < len(runs[0].snapshot_epochs)
    with pytest.raises(LabError, match="would weigh"):
        lesson_page(LESSONS["mhe"], [tuple(runs)], lines, max_bytes=100_000)


def played_offline(b, path: Path, group: str, n_epochs: int, then=None) -> tuple:
    """Open `path` from file:// with every other request refused, press Play on the first figure of
    the `group` element (a lesson's `.pair`, a page's `.player`) and wait until it has animated
    `n_epochs` frames: ([figure id, drawn SVGs] of every figure, the group's figure ids, the frames
    each showed, each one's slider position, console and page errors); `then(page)` runs before it closes."""
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    divs = page.evaluate("[...document.querySelectorAll('.figure')].map(d => [d.id, d.querySelectorAll('.main-svg').length])")
    ids = page.evaluate(f"[...document.querySelector('{group}').querySelectorAll('.figure')].map(d => d.id)")
    page.evaluate("ids => { window.seen = {}; for (const id of ids) { window.seen[id] = []; "
                  "document.getElementById(id).on('plotly_animatingframe', e => window.seen[id].push(e.name)); } }", ids)
    page.locator(f"#{ids[0]} .updatemenu-button").first.click()  # Play
    page.wait_for_function(f"window.seen['{ids[0]}'].length >= {n_epochs}", timeout=15_000)
    page.wait_for_timeout(500)
    seen = page.evaluate("window.seen")
    active = page.evaluate("ids => ids.map(id => document.getElementById(id)._fullLayout.sliders[0].active)", ids)
    if then is not None:
        then(page)
    page.close()
    return divs, ids, seen, active, errors


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_the_page_draws_and_plays_offline_in_a_real_browser(exported):
    """Opened from file:// with every other request refused: each figure is drawn (SVG), Play on
    CE's first view runs through every epoch to the last, the mhe run's view beside it follows,
    the verdict is visible, and the console stays free of errors."""
    from playwright.sync_api import expect

    from serve import browser

    page_path, printed, runs = exported
    verdict = next(line for line in printed.splitlines() if line.startswith("seed 0: "))
    epochs = [str(e) for e in runs[0].snapshot_epochs]
    def verdict_shown(page) -> None:
        expect(page.locator("pre.lines")).to_contain_text(verdict)
        assert page.locator("pre.lines").is_visible()

    with browser() as b:
        divs, pair, seen, active, errors = played_offline(b, page_path, ".pair", len(epochs), then=verdict_shown)
    assert len(divs) == 1 + 2 * len(LESSONS["mhe"].views) and all(n > 0 for _, n in divs), divs
    assert seen[pair[0]] == epochs and seen[pair[1]] == epochs  # played through, the other run's view followed
    assert active == [len(epochs) - 1] * 2 and errors == []


def test_the_lessons_page_offers_the_same_page_for_the_pair_on_screen(exported, monkeypatch):
    """The Lessons page, showing the saved pair, has the download button; the page it builds
    quotes `printed`'s lines for these runs (the time columns: the runs' recorded epoch seconds)."""
    from streamlit.testing.v1 import AppTest

    import ui
    import ui.takehome
    from lab.cli.lesson import printed

    page_path, _, runs = exported
    monkeypatch.setitem(LESSONS, "mhe", _tiny())
    monkeypatch.setenv("REGLAB_RUNS", str(runs[0].path.parent))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.query_params["lesson"] = "mhe"
    at.run().switch_page(ui.nav.path("lessons")).run()
    assert not at.exception
    assert [b.proto.label for b in at.get("download_button")
            if b.proto.id.endswith("lesson.home")] == ["Take this lesson home (one HTML page)"]
    built = ui.takehome.page("mhe", tuple((str(r.path), r.state, len(r.snapshot_epochs)) for r in runs)).decode()
    quoted = html.unescape(re.search(r'<pre class="lines">(.*?)</pre>', built, re.S).group(1))
    assert quoted == "\n".join(printed(LESSONS["mhe"], [tuple(runs)])[0])
    assert len(_figures(built)) == len(_figures(page_path.read_text()))
