"""The app in a real browser: `streamlit run app.py` on a free localhost port, Debian's
chromium driven by Playwright; press Train, wait for the live chart, no exception shown, the
page icons drawn from the bundled Material Symbols font; every box of the Train form fuzzed
with invalid values, then every view of a diverged run, without an exception.
A screenshot of the page goes to tests/artifacts/ (git-ignored)."""
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from serve import IN_VIEW, PLOT, POINT, browser, idle, press_train, served
from ui.nav import EVERY_RUN, PAGES

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


def test_the_server_binds_to_localhost_by_default():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1" and config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_train_in_a_real_browser_draws_live_curves_and_a_reload_keeps_the_stop_button(tmp_path):
    from playwright.sync_api import expect

    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        away: list[str] = []  # an offline lab asks nothing of other hosts (a material favicon came from Google's)
        page.on("request", lambda r: r.url.removeprefix("blob:").startswith((url, "data:")) or away.append(r.url))
        page.goto(f"{url}/train")
        idle(page)
        for key, value in (("train-epochs", "300"), ("train-train_size", "300")):
            field = page.locator(f".st-key-{key} input")
            field.fill(value)
            field.press("Enter")
            idle(page)
        page.locator(".st-key-train button").click()
        page.wait_for_url(re.compile(r"run=digits-mlp-ce-s0-"), timeout=30_000)
        page.wait_for_selector(POINT, timeout=45_000)  # the live curve has its first epoch
        page.reload()  # same browser: the run reopens from the URL, still under this browser's control
        page.locator(".st-key-stop button").first.click(timeout=30_000)
        expect(page.get_by_text(re.compile(r"stopped: \d+ of 300 epochs")).first).to_be_visible(timeout=45_000)
        idle(page)
        page.wait_for_selector(PLOT, timeout=15_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "train.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        # the page icons are Material Symbols from the font Streamlit bundles (nothing needs an emoji font)
        drawn = page.locator('[data-testid="stSidebarNavLink"] [data-testid="stIconMaterial"]').all_inner_texts()
        assert drawn == [p.icon.split("/")[1].strip(":") for p in PAGES.values()]
        assert page.evaluate("Array.from(document.fonts).some(f => f.family.includes('Material Symbols')"
                             " && f.status === 'loaded')")
        assert page.locator(POINT).count() >= 1 and not errors and not away, away
        assert [p.name for p in (tmp_path / "runs").iterdir()] == [page.url.split("run=")[1]]


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_after_pressing_train_a_curve_point_is_drawn_in_view_without_scrolling(tmp_path, capsys):
    """After Train, a point of a live curve is drawn inside the 1400x1000 viewport with the page
    not scrolled (the curves sit under the button). How soon is `bench`'s `first_point_s` (goal
    1 s; the same `press_train`): a timed assert here failed at 1.08 s on a quiet machine."""
    from playwright.sync_api import Error

    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/train")  # pressed as soon as it is drawn, before the settings below it are:
        page.locator(".st-key-train button").click()  # that press failed ("st.session_state has no key 'data'")
        page.wait_for_function(IN_VIEW, timeout=60_000, polling="raf")
        assert page.locator(EXCEPTION).count() == 0
        try:
            page.locator(".st-key-stop button").first.click(force=True, timeout=3_000)
        except Error:
            pass  # it had already finished
        seconds = [press_train(page, url) for _ in range(2)]  # the first press pays the server's imports
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "train-first-point.png"))  # viewport only: what is in view
        assert page.locator(EXCEPTION).count() == 0
        assert page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
    with capsys.disabled():
        print(f"\npress Train -> a curve point in view: {', '.join(f'{s:.2f}' for s in seconds)} s")


EXCEPTION = '[data-testid="stException"]'
FUZZ = {"number": ("", "-1", "99999999999"), "text": ("", "-1", "99999999999", "abc,;x")}  # invalid for every field


def _inputs(page, kind: str) -> list[str]:
    """The keys (st-key-... classes) of the page's visible number or text inputs."""
    widget = {"number": "stNumberInput", "text": "stTextInput"}[kind]
    return page.eval_on_selector_all(
        f'[class*="st-key-"]:has(> [data-testid="{widget}"]), [class*="st-key-"]:has([data-testid="{widget}"])',
        "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-'))).filter(Boolean)")


def _expand(page, label: str) -> None:
    """Open the expander called `label` unless it is open."""
    summary = page.locator("details > summary", has_text=label).first  # not the same words in a note
    if summary.locator("xpath=..").get_attribute("open") is None:
        summary.click()
        idle(page)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_fuzzing_the_train_form_and_opening_every_view_of_a_diverged_run_shows_no_exception(tmp_path, diverged_run):
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    for name in ("diverged", "diverged-b"):
        shutil.copytree(diverged_run.path, runs / name)
    with served(runs) as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/train")
        idle(page)
        for method in ("ce", "mhe"):
            choice = page.locator(".st-key-method input")
            choice.click()
            choice.fill(method)
            choice.press("Enter")
            idle(page)
            expect(page.locator(".st-key-lam-mhe")).to_have_count(int(method == "mhe"))  # its own widgets shown
            idle(page)
            _expand(page, "More training settings")
            for kind, values in FUZZ.items():
                for key in dict.fromkeys(k for k in _inputs(page, kind) if k != "st-key-pace"):  # not a run
                    # setting: Streamlit clamps it to [0, 60], so Train would rightly train with the rest valid
                    for value in values:
                        _expand(page, "More training settings")  # a rerun that changes the form may close it
                        field = page.locator(f".{key} input").first
                        field.fill(value)
                        field.press("Enter")
                        idle(page)
                        if kind == "number" and not value:  # an emptied number box shows its default again:
                            assert field.input_value()      # what the box shows is what would train
                            continue
                        page.locator(".st-key-train button").click()
                        idle(page)
                        assert page.locator(EXCEPTION).count() == 0, (method, key, value)
        page.locator(".st-key-train-lr input").fill("1e9")
        page.locator(".st-key-train-lr input").press("Enter")
        page.locator(".st-key-train button").click()
        idle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "train-refuses.png"))
        assert sorted(p.name for p in runs.iterdir()) == ["diverged", "diverged-b"]  # nothing trained
        for view in (*EVERY_RUN, "compare"):
            page.goto(f"{url}/{view}?run=diverged&runs=diverged,diverged-b")
            idle(page, timeout=60_000)
            page.wait_for_selector(PLOT, timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / f"diverged-{view}.png"))
            assert page.locator(EXCEPTION).count() == 0, view
            assert page.get_by_text(re.compile("Showing epochs up to 0")).count() >= 1, view


PLAYED = """async (last) => {
  const seen = [], t0 = performance.now(), drawn = () =>
    [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')].filter(p => p.querySelector('.main-svg')).length;
  const figures = drawn();
  let blank = 0, samples = 0;
  while (performance.now() - t0 < 15000) {
    samples++;
    if (drawn() < figures) blank++;  // a figure without its picture, or gone for a moment
    const title = [...document.querySelectorAll('.gtitle')].map(e => e.textContent).find(s => /epoch \\d+:/.test(s));
    const slider = document.querySelector('.st-key-similarity-slider input[type="range"]');  // value: the index
    if (title) {
      const e = +title.match(/epoch (\\d+):/)[1];
      if (!seen.length || seen[seen.length - 1][0] !== e) seen.push([e, slider && +slider.value]);
      if (e === last && seen.length > 2) break;
    }
    await new Promise(r => requestAnimationFrame(r));
  }
  return {seen, blank, samples, figures};
}"""


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_playing_redraws_each_figure_in_place_without_a_blank_moment(tmp_path, tiny_config):
    """Each frame is drawn over the previous one (`ui.plot`): sampled at every animation frame
    while playing, no figure is ever without its picture (st.plotly_chart's new element per frame
    was blank for 0.1-0.2 s: 1-3 blank samples in each of 3 plays here), and each figure is still the
    element it was before Play (st.plotly_chart's were new ones). Which epochs are painted,
    and the player's end, are checked by bench (`first_play_painted`) and tests/test_watch.py."""
    from lab.train import train

    train(tiny_config(name="played", epochs=6), runs=tmp_path / "runs")
    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/similarity?run=played")
        idle(page)
        page.wait_for_selector(PLOT, timeout=60_000)
        page.evaluate(f"() => document.querySelectorAll('{PLOT}').forEach(p => {{ p.reglabBefore = true; }})")
        page.locator(".st-key-similarity-play button").click()  # on the last epoch: Play starts over
        played = page.evaluate(PLAYED, 6)
        kept = page.evaluate(f"() => [...document.querySelectorAll('{PLOT}')].map(p => p.reglabBefore === true)")
    epochs = [e for e, _ in played["seen"]]
    assert played["figures"] >= 2 and len(set(epochs)) >= 2, played  # it started over
    assert kept == [True] * played["figures"], kept  # the same elements, redrawn (not new ones)
    assert played["blank"] == 0, played
