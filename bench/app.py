"""App timings in a real browser (Debian chromium driven by Playwright), CPU training.

    python -m bench.app [--quick]

- `app_start_s`: a fresh browser tab opens the app until the Home page is drawn (its title
  visible and the script idle), on a server that was just started (so the first session
  pays the server's imports); `app_start_warm_s`: the same for a second tab. Goal <= 2 s.
- `first_point_s`: press Train on the Train page (digits, MLP, defaults) until a point of the
  live curves is drawn inside the 1400x1000 viewport (`tests.serve.press_train`). Goal <= 1 s.
- `view_first_draw_s`: {view page: seconds from clicking its link in the sidebar until all its
  charts are drawn and the script idle}, the run not viewed before on that server; the pages in
  the order of `VIEWS`. Goal <= 1 s each. The tab opened the app's Home with a finished default
  digits run on a server just started, and the click waits until that Home is settled as it is
  for a reader: the chart library preloaded (`ui.plot.preload`'s hidden figure drawn) and the server's
  start-up warm-ups done (its CPU idle). Those are the app's start, timed by `app_start_s` (a new
  tab also pays Streamlit's own start in the browser: `app_start_warm_s`), not a view's draw.
- `lesson_fps`, `lesson_painted`: a lesson's page (`LESSON`, its two saved runs) opened as a
  student would, Play pressed once: epochs per second of its first view, and the share of the
  epochs painted. Goal >= 4 epochs/s, every epoch painted.
- `player_fps`: epochs drawn per second while the Similarity page's player plays (cached);
  goal >= 4. `epoch_step_s`: one step of its slider until the figure shows it; goal <= 0.3 s.
- `umap_cold_s`: on a freshly started app, Home then Embeddings (PCA), press UMAP: seconds
  until the UMAP map is drawn, import included, numba's machine code read from its disk cache
  (written by any earlier UMAP on the machine, as here by the embedding benchmark). Goal <= 3 s.
  `umap_first_ever_s`: the same with an empty numba cache (the first UMAP after installing). Each
  of these maps a run of its own (a run keeps its maps: a second UMAP of it is read back).
Each number is the median over repetitions (quick: 1 start, 2 clicks; else 3 and 5), each server
started on a quiet machine (`tests.serve.machine_quiet`).
The server and browser come from tests/serve.py (shared with tests/test_browser.py).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from tests.serve import PLOT, browser, idle, machine_quiet, press_train, served, settled
from ui.nav import EVERY_RUN, PAGES


def open_home(b, url: str) -> float:
    """Seconds from opening a new tab on the app until the Home page is drawn."""
    page = b.new_page(viewport={"width": 1400, "height": 900})
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name="RegLab").wait_for(timeout=60_000)
    idle(page, 60_000)
    seconds = time.perf_counter() - t0
    page.close()
    return seconds


LESSON = "mhe"  # the lesson whose first Play is timed (two runs' figures side by side per view)
VIEWS = {k: PAGES[k].charts for k in EVERY_RUN if PAGES[k].charts}  # page: the charts it draws for a finished run


def titled(page, text: str, timeout: float = 60_000) -> None:
    """Wait until a figure title on the page contains `text`."""
    page.wait_for_function(f"() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes({text!r}))",
                           timeout=timeout, polling="raf")


def first_draws(b, url, run: str, errors: dict[str, str]) -> dict[str, float | None]:
    """{view: seconds from clicking its sidebar link until all its charts are drawn and the script
    idle}, each view in turn in one tab opened on Home with `run`, once that Home has settled (the
    chart library preloaded, the server `url.pid` idle)."""
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/?run={run}")
    page.get_by_role("heading", name="RegLab").wait_for(timeout=60_000)
    page.wait_for_function("() => window.reglabPreloaded", timeout=60_000)
    idle(page, 60_000)
    settled(url.pid)

    def draw(view: str) -> float:
        t0 = time.perf_counter()
        page.locator('[data-testid="stSidebarNav"] a', has_text=PAGES[view].title).click()
        page.wait_for_url(f"**/{view}?**")
        page.wait_for_function(f"() => document.querySelectorAll('{PLOT}').length >= {VIEWS[view]}", timeout=300_000)
        idle(page, 300_000)
        return time.perf_counter() - t0

    out = {view: measured(errors, f"view_first_draw_s.{view}", draw, view) for view in VIEWS}
    page.close()
    return out


def player(b, url: str, run: str, epochs: int, steps: int) -> tuple[float, list[float]]:
    """On the Similarity page of `run`: frames per second while playing (from the epoch-2 frame
    to the epoch-12 one) the second time through (cached views), then the seconds of each of `steps`
    single steps back from the last epoch (arrow key on the slider until its figure shows it)."""
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/similarity?run={run}")
    titled(page, f"epoch {epochs}:")
    idle(page)
    for _ in range(2):  # the first pass builds every epoch's figures (cached); the second is timed
        page.locator(".st-key-similarity-play button").click()  # from the last epoch, Play starts over
        titled(page, "epoch 2:")
        t0 = time.perf_counter()
        titled(page, "epoch 12:")
        fps = 10 / (time.perf_counter() - t0)
        titled(page, f"epoch {epochs}:")
        page.locator(".st-key-similarity-play button", has_text="Play").wait_for(timeout=60_000)
        idle(page)
    times = []
    for e in range(epochs - 1, epochs - 1 - steps, -1):
        page.locator('.st-key-similarity-slider input[type="range"]').focus()
        t0 = time.perf_counter()
        page.keyboard.press("ArrowLeft")
        titled(page, f"epoch {e}:")
        times.append(time.perf_counter() - t0)
        idle(page)
    page.close()
    return fps, times


PLAYED = """async ([key, last]) => {
  const seen = [], t0 = performance.now();
  while (performance.now() - t0 < 300000) {
    const t = [...document.querySelectorAll(`.st-key-${key} .gtitle`)].map(e => e.textContent).find(s => /epoch \\d+/.test(s));
    if (t) {
      const e = +t.match(/epoch (\\d+)/)[1];
      if (!seen.length || seen[seen.length - 1][1] !== e) seen.push([performance.now(), e]);
      if (e === last && seen.length > 1) break;
    }
    await new Promise(r => requestAnimationFrame(r));
  }
  return seen;
}"""


def play(page, button: str, figure: str, epochs: int) -> tuple[float, float]:
    """Press Play (`button`, a player's key) on a page showing the last of `epochs`, and follow the
    epoch in the title of the figure of key `figure` at every animation frame until it shows the
    last again: (epochs per second from the first epoch drawn to the last, share of the epochs painted)."""
    page.locator(f".st-key-{button} button").click()  # from the last epoch, Play starts over
    seen = page.evaluate(PLAYED, [figure, epochs])[1:]  # the first entry: the last epoch, before the restart
    fps = (len(seen) - 1) / ((seen[-1][0] - seen[0][0]) / 1000) if len(seen) > 1 else 0.0
    return fps, len({e for _, e in seen}) / (epochs + 1)


def lesson_play(b, url: str, name: str, epochs: int) -> tuple[float, float]:
    """On lesson `name`'s page with its two saved runs (opened as a student would, its figures
    drawn, the page idle): press Play once; (epochs per second of its first view's CE figure, from
    the first epoch drawn to the last, share of the epochs painted)."""
    from lab.lessons import LESSONS

    view = LESSONS[name].views[0]
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lessons?lesson={name}")
    page.wait_for_selector(f".st-key-lesson-{view}-ce .js-plotly-plot", timeout=120_000)
    idle(page, 120_000)
    played = play(page, f"lesson-{name}-play", f"lesson-{view}-ce", epochs)
    page.close()
    return played


def umap_cold(b, url: str, run: str) -> float:
    """On a freshly started app: open Home, then the Embeddings page of `run` (PCA), press UMAP:
    seconds until the UMAP map is drawn (import and numba compilation included)."""
    open_home(b, url)
    page = b.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/embeddings?run={run}")
    titled(page, "PCA of")
    idle(page)
    t0 = time.perf_counter()
    page.locator(".st-key-embed-algorithm").get_by_text("UMAP").click()
    titled(page, "UMAP of", timeout=300_000)
    seconds = time.perf_counter() - t0
    page.close()
    return seconds


@contextmanager
def numba_cache(folder: str) -> Iterator[None]:
    """Servers started inside use `folder` as numba's cache folder (an empty one: nothing compiled yet)."""
    old = os.environ.get("NUMBA_CACHE_DIR")
    os.environ["NUMBA_CACHE_DIR"] = folder
    try:
        yield
    finally:
        if old is None:
            del os.environ["NUMBA_CACHE_DIR"]
        else:
            os.environ["NUMBA_CACHE_DIR"] = old


def measured(errors: dict[str, str], key: str, f, *args):
    """`f(*args)`, or None with the reason kept in `errors[key]` (one stuck page loses one number),
    and where the evidence went (`evidence`) when `args` start with the browser and the server."""
    try:
        return f(*args)
    except Exception as e:
        errors[key] = f"{type(e).__name__}: {str(e).splitlines()[0]}{evidence(key, *args[:2])}"
        return None


def evidence(key: str, b=None, url=None) -> str:
    """Keep what a failed scenario left: a screenshot and the script state of each page still open
    (then closed), and the server's log, in a new temporary folder; " (evidence in FOLDER)"."""
    pages = [p for c in getattr(b, "contexts", []) for p in c.pages]
    if not pages and getattr(url, "log", None) is None:
        return ""
    folder = Path(tempfile.mkdtemp(prefix=f"reglab-bench-{key}-"))
    for i, page in enumerate(pages):
        try:
            page.screenshot(path=str(folder / f"page-{i}.png"), full_page=True)
            state = page.evaluate("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState")
            (folder / f"page-{i}.txt").write_text(f"{page.url}\nscript state: {state}\n")
        finally:
            page.close()
    if getattr(url, "log", None) is not None and url.log.exists():
        shutil.copyfile(url.log, folder / "server.log")
    return f" (evidence in {folder})"


def app_bench(quick: bool = False) -> dict:
    """{"app_start_s", "app_start_warm_s", "first_point_s", "umap_cold_s", "umap_first_ever_s", "view_first_draw_s"
    {page: s}, "epoch_step_s", "player_fps"} (medians) on a runs folder holding one finished
    default digits run; "app_errors" {key: reason} for any that could not be measured."""
    from lab.config import RunConfig
    from lab.lessons import LESSONS
    from lab.train import train

    starts, clicks = (1, 2) if quick else (3, 5)
    cold, warm, umap, errors = [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp, browser() as b:
        runs = Path(tmp) / "runs"
        cfg = RunConfig(data="digits", name="digits")
        for name in ["digits", *(f"umap-{i}" for i in range(starts + 1))]:  # a UMAP is cached in its run: one each
            train(replace(cfg, name=name), runs=runs)
        lesson = LESSONS[LESSON]
        for method in ("ce", lesson.method):
            train(lesson.config(method, lesson.seeds[0], name=f"lesson-{method}"), runs=runs)
        for i in range(starts):
            machine_quiet()  # what the runs above left (torch's threads) is not the app's start
            with served(runs) as url:
                cold.append(open_home(b, url))
                warm.append(open_home(b, url))
            machine_quiet()
            with served(runs) as url:
                umap.append(measured(errors, "umap_cold_s", umap_cold, b, url, f"umap-{i}"))
        with numba_cache(tempfile.mkdtemp()), served(runs) as url:
            first_ever = measured(errors, "umap_first_ever_s", umap_cold, b, url, f"umap-{starts}")
        with served(runs) as url:
            open_home(b, url)  # the server's imports are not a view's first draw
            views = first_draws(b, url, "digits", errors)
            fps, steps = measured(errors, "player_fps", player, b, url, "digits", cfg.epochs, 3) or (None, [None])
            played = measured(errors, "lesson_fps", lesson_play, b, url, LESSON, lesson.config("ce", 0).epochs)
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            press_train(page, url)  # not counted: the first run pays torch's first use
            first = [press_train(page, url) for _ in range(clicks)]
            page.close()

    def median(values: list) -> float | None:
        return None if None in values else statistics.median(values)

    return {"app_start_s": median(cold), "app_start_warm_s": median(warm), "first_point_s": median(first),
            "first_point_all_s": first, "umap_cold_s": median(umap), "umap_first_ever_s": first_ever, "view_first_draw_s": views,
            "epoch_step_s": median(steps), "player_fps": fps, "lesson_fps": played and played[0],
            "lesson_painted": played and played[1], **({"app_errors": errors} if errors else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    result = app_bench(parser.parse_args().quick)
    for key, value in result.items():
        print(f"{key:<20} {value}")


if __name__ == "__main__":
    main()
