"""Projector mode in a real browser (Debian chromium, 1400x1000, projector + dark): every view page
(`ui.nav.VIEWS`) for a tiny saved run whose comparable CE run is drawn beside it where the page
offers a reference, a view page that draws nothing for it (a 2-D-only view) for a tiny run on 2-D
data, and every lesson with its two saved runs. No text of a figure runs into another: for
every plotly figure the boxes of its titles, subtitles, axis titles, annotations, tick labels and
legend texts are collected, and any two that overlap by more than `SLACK` px both ways fail (tick
labels of one axis included), as does a text outside its figure (cut off). On a lesson's page the
two runs' figures of each view stand side by side. Screenshots go to tests/artifacts/projector-*.png."""
import json
import shutil
from pathlib import Path

import pytest

from lab.config import RunConfig, settings_key, validate
from lab.lessons import LESSONS
from lab.train import train
from serve import PLOT, browser, idle, served
from ui.nav import PAGES, VIEWS

ARTIFACTS = Path(__file__).resolve().parents[1] / "tests" / "artifacts"
SLACK = 2  # px two text boxes may share, each way (anti-aliasing, glyph overhang)
METHOD = "racecar"  # a method whose views are image grids and subplot labels: the hardest case

OVERLAPS = r"""([slack, where]) => {
  const found = [];
  for (const plot of document.querySelectorAll(where)) {
    const svg = plot.querySelector('.main-svg').getBoundingClientRect();
    const key = (plot.closest('[class*="st-key-"]')?.className.match(/st-key-(\S+)/) || [, '?'])[1];
    const boxes = [];
    const add = (el, group, self) => {
      const r = el.getBoundingClientRect(), text = el.textContent.trim();
      if (r.width > 0 && r.height > 0 && text && getComputedStyle(el).visibility !== 'hidden')
        boxes.push({r, group, self, text: text.slice(0, 30)});
    };
    plot.querySelectorAll('text.gtitle, text.gtitle-subtitle').forEach((el, i) => add(el, 'title' + i));
    plot.querySelectorAll('[class^="g-x"][class$="title"] text, [class^="g-y"][class$="title"] text')
      .forEach((el, i) => add(el, 'axis-title' + i));
    plot.querySelectorAll('.annotation-text').forEach((el, i) => add(el, 'annotation' + i));
    plot.querySelectorAll('.legendtext').forEach((el, i) => add(el, 'legend' + i));
    plot.querySelectorAll('g.xaxislayer-above > g, g.yaxislayer-above > g').forEach(tick => {
      const axis = tick.getAttribute('class').split(' ')[0];  // "xtick", "x2tick", ...
      tick.querySelectorAll('text').forEach(el => add(el, axis, true));
    });
    const cut = b => b.r.left < svg.left - slack || b.r.top < svg.top - slack ||
                     b.r.right > svg.right + slack || b.r.bottom > svg.bottom + slack;
    for (const b of boxes) if (cut(b)) found.push(`${key}: cut off: "${b.text}"`);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.group === b.group && !a.self) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > slack && h > slack) found.push(`${key}: "${a.text}" overlaps "${b.text}" (${Math.round(w)}x${Math.round(h)} px)`);
    }
  }
  return found;
}"""
DRAWN = f"""() => [...document.querySelectorAll('{PLOT}')].every(p => p.querySelector('.main-svg'))"""


def _tiny(tmp: Path) -> Path:
    """Tiny CE and racecar runs on digits and on moons, and every lesson's two runs with its
    settings exactly (the Lessons page shows only runs of its settings: 20-60 epochs of a small MLP,
    seconds each; lessons of the same settings share their CE run)."""
    runs = tmp / "runs"
    tiny = dict(train_size=200, probe_size=100, epochs=3, model_params={"widths": (16, 16)})
    for data in ("digits", "moons"):
        for method in ("ce", METHOD):
            train(RunConfig(data=data, method=method, name=f"{data}-{method}", **tiny), runs=runs)
    trained = set()
    for name, lesson in LESSONS.items():
        for method in ("ce", lesson.method):
            cfg = validate(lesson.config(method, lesson.seeds[0], name=f"lesson-{name}-{method}"))
            if settings_key(cfg) not in trained:
                trained.add(settings_key(cfg))
                train(cfg, runs=runs)
    return runs


def _present(page, url: str) -> None:
    """Open `url` and switch on the dark theme and projector mode (a new session starts without)."""
    page.goto(url)
    idle(page, 90_000)
    for label in ("Dark theme", "Projector mode"):
        page.get_by_text(label, exact=True).click()
        idle(page, 90_000)


def _measure(page, name: str, found: dict) -> int:
    """Wait for the page's figures, screenshot it, record its text overlaps; the number of figures."""
    idle(page, 120_000)
    try:
        page.wait_for_selector(PLOT, timeout=10_000)
    except Exception:  # noqa: BLE001 (playwright's TimeoutError): a page that draws nothing for this run
        return 0
    page.wait_for_function(DRAWN, timeout=30_000)
    page.wait_for_timeout(1_000)  # plotly's first paint and its automargin pass
    found[name] = page.evaluate(OVERLAPS, [SLACK, PLOT])
    tall = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(tall, 9000)})  # the page scrolls inside: show it all
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"projector-{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    return page.locator(PLOT).count()


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_no_figure_text_overlaps_in_projector_mode_and_every_lessons_runs_stand_side_by_side(tmp_path):
    runs = _tiny(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    found: dict[str, list[str]] = {}
    nav = '[data-testid="stSidebarNav"] a'
    with served(runs) as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        _present(page, f"{url}/{VIEWS[0]}?run=digits-{METHOD}")
        empty = []
        for key in VIEWS:  # through the sidebar: the session keeps its presentation and its run
            page.locator(nav, has_text=PAGES[key].title).first.click()
            if not _measure(page, key, found):
                empty.append(key)
            if key == "hypersphere":  # the 3-D sphere too (its ticks are drawn in WebGL: screenshot only)
                page.get_by_test_id("stRadioGroup").get_by_text("3-D", exact=True).click()
                _measure(page, "hypersphere-3d", found)
        for key in empty:  # a view of 2-D inputs only (the decision boundary): the moons run
            _present(page, f"{url}/{key}?run=moons-{METHOD}")
            assert _measure(page, f"{key}-moons", found), key
        stacked = []
        _present(page, f"{url}/lessons?lesson={next(iter(LESSONS))}")
        for name, lesson in LESSONS.items():  # picked on the page: the session keeps its presentation
            page.get_by_test_id("stSelectbox").filter(has_text="Lesson").click()
            page.get_by_role("option", name=f"{name}: {lesson.title}").click()
            page.wait_for_selector(f".st-key-lesson-{lesson.views[0]}-ce {PLOT.split()[-1]}", timeout=120_000)
            _measure(page, f"lesson-{name}", found)
            for view in lesson.views:  # the two runs' figures of one view: same top, one left of the other
                ce, other = (page.locator(f".st-key-lesson-{view}-{m} .js-plotly-plot").bounding_box()
                             for m in ("ce", lesson.method))
                if abs(ce["y"] - other["y"]) > 20 or ce["x"] + ce["width"] > other["x"] + SLACK:
                    stacked.append((name, view, ce, other))
    (ARTIFACTS / "projector-overlaps.json").write_text(json.dumps(found, indent=1))
    print({name: len(v) for name, v in found.items()}, "stacked:", stacked)
    assert not any(found.values()), json.dumps({k: v for k, v in found.items() if v}, indent=1)
    assert not stacked, stacked
