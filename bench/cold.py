"""The app as a brand-new user meets it, in a real browser (Debian chromium through Playwright)
already open, each on a server started for it (tests/serve.py):

- `cold_first_page_s`: `streamlit run` until the Home page's title is drawn (the server's start
  and imports included). Goal <= 2.5 s. `cold_first_page_bare_s`: the same for a Streamlit app that
  only draws that title (`BARE`), the floor on this machine: Streamlit's own server start, its
  frontend's download and start in the browser, and one script run.
- `cold_first_point_s`: on a fresh server, the issue's clicks straight through: Home, its Train link as
  soon as Home's title is drawn, then Train as soon as the button is drawn (the first press counted,
  the chart library and torch not waited for), until a point of the live curve is drawn in the
  viewport. Goal <= 1 s.
- `cold_first_umap_s`: with an empty numba cache (`NUMBA_CACHE_DIR` pointed at a new folder: a new
  install), `streamlit run`, Home, the Embeddings page of a run (its PCA map drawn), press UMAP,
  until the UMAP map is drawn (`bench.app.umap_cold`'s clicks). Goal <= 20 s.
- `first_play_fps`: on a fresh server, the Similarity page of a run nobody has viewed: press Play,
  and count the distinct epochs its figure title shows (polled at every animation frame) and the
  epochs per second from the first to the last; `first_play_painted` is the share of the run's
  epochs painted. Goal >= 4 frames/s, every epoch painted.
- `class_*`: a class at once: N tabs (default 8) on one server open Lessons and press the same
  lesson within a second; per tab the seconds until its verdict is shown (median and slowest),
  whether every tab got there and showed no error, and the server's peak resident memory.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.app import numba_cache, play, titled, umap_cold
from tests.serve import IN_VIEW, ROOT, browser, idle, machine_quiet, served

VIEWPORT = {"width": 1400, "height": 1000}
EXCEPTION = '[data-testid="stException"]'


BARE = 'import streamlit as st\n\nst.title("RegLab")\n'  # the floor: Streamlit's own start and page, nothing else


def cold_first_page(b, runs: Path, app: Path = ROOT / "app.py") -> float:
    machine_quiet()
    t0 = time.perf_counter()
    with served(runs, app=app) as url:
        page = b.new_page(viewport=VIEWPORT)
        page.goto(url)
        page.get_by_role("heading", name="RegLab").wait_for(timeout=120_000)
        seconds = time.perf_counter() - t0
        page.close()
    return seconds


def cold_first_point(b, runs: Path) -> float:
    machine_quiet()
    with served(runs) as url:
        page = b.new_page(viewport=VIEWPORT)
        page.goto(url)
        page.get_by_role("heading", name="RegLab").wait_for(timeout=120_000)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Train").click()
        button = page.locator(".st-key-train button")
        button.wait_for(timeout=120_000)
        t0 = time.perf_counter()
        button.click()
        page.wait_for_function(IN_VIEW, timeout=120_000, polling="raf")
        seconds = time.perf_counter() - t0
        page.close()
    return seconds


def cold_first_umap(b, runs: Path, run: str) -> float:
    """`bench.app.umap_cold`'s clicks (Home, Embeddings, UMAP), timed from before `streamlit run`,
    with an empty numba cache."""
    with numba_cache(tempfile.mkdtemp()):
        t0 = time.perf_counter()
        with served(runs) as url:
            umap_cold(b, url, run)
            return time.perf_counter() - t0


def first_play(b, runs: Path, run: str, epochs: int) -> tuple[float, float]:
    """(epochs painted per second, share of the run's epochs painted) of the first Play."""
    machine_quiet()
    with served(runs) as url:
        page = b.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/similarity?run={run}")
        titled(page, f"epoch {epochs}:", timeout=120_000)
        idle(page, 120_000)
        played = play(page, "similarity-play", "similarity-matrix", epochs)
        page.close()
    return played


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def class_at_once(b, runs: Path, tabs: int = 8, lesson: str = "mhe", timeout_s: float = 900) -> dict:
    """`tabs` tabs press the same lesson within a second; seconds from the first press to each tab's verdict."""
    verdict = re.compile(r"Verdict: (clear|no clear) effect")
    with served(runs) as url:
        pages = [b.new_page(viewport=VIEWPORT) for _ in range(tabs)]
        for page in pages:
            page.goto(f"{url}/lessons?lesson={lesson}")
            page.locator(".st-key-lesson-train button").wait_for(timeout=120_000)
        at_ms = time.time() * 1000 + 1500 + 150 * tabs  # every tab's click set for one moment, in its own page
        for page in pages:
            page.evaluate("at => setTimeout(() => { window.pressedAt = Date.now(); "
                          "document.querySelector('.st-key-lesson-train button').click(); }, at - Date.now())", at_ms)
        t0 = time.perf_counter() + (at_ms / 1000 - time.time())
        while time.perf_counter() < t0 + 0.5:
            time.sleep(0.05)
        at = [page.evaluate("window.pressedAt") for page in pages]
        pressed = (max(at) - min(at)) / 1000
        done: dict[int, float] = {}
        while len(done) < tabs and time.perf_counter() - t0 < timeout_s:
            for i, page in enumerate(pages):
                if i not in done and page.get_by_text(verdict).count():
                    done[i] = time.perf_counter() - t0
            time.sleep(0.5)
        errors = sum(page.locator(EXCEPTION).count() > 0 for page in pages)
        peak = _peak_rss_mb(url.pid)
        for page in pages:
            page.close()
    times = sorted(done.values())
    return {"class_tabs": tabs, "class_pressed_within_s": pressed, "class_all_verdicts": len(done) == tabs,
            "class_median_s": statistics.median(times) if times else None, "class_slowest_s": times[-1] if times else None,
            "class_tabs_with_error": errors, "class_peak_rss_mb": peak}


def cold_bench(quick: bool = False, tabs: int = 8) -> dict:
    """Every key of this module's docstring, each start on a quiet machine (`machine_quiet`): the first
    page's medians over 5 starts of the app and 5 of the bare one, taken in turns (single starts of either
    ranged 2.0-3.5 s here), the first press's over 3 (they ranged 0.6-1.3 s), the first Play's over 1
    start when quick, else 3."""
    from dataclasses import replace

    from lab.config import RunConfig
    from lab.train import train

    starts = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp, browser() as b:
        runs = Path(tmp) / "runs"
        cfg = RunConfig(data="digits", name="digits")
        for name in ("digits", "umap", *(f"play-{i}" for i in range(starts))):
            train(replace(cfg, name=name), runs=runs)
        bare = Path(tmp) / "bare" / "app.py"
        bare.parent.mkdir()
        bare.write_text(BARE)
        pages = [(cold_first_page(b, runs), cold_first_page(b, runs, bare)) for _ in range(5)]
        out = {"cold_first_page_s": statistics.median(p[0] for p in pages),
               "cold_first_page_bare_s": statistics.median(p[1] for p in pages),
               "cold_first_point_s": statistics.median(cold_first_point(b, runs) for _ in range(3)),
               "cold_first_umap_s": cold_first_umap(b, runs, "umap")}
        plays = [first_play(b, runs, f"play-{i}", cfg.epochs) for i in range(starts)]
        out.update(first_play_fps=statistics.median(p[0] for p in plays), first_play_painted=min(p[1] for p in plays))
        out.update(class_at_once(b, Path(tmp) / "class", tabs))
    return out


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one start for the first Play instead of three")
    parser.add_argument("--tabs", type=int, default=8, help="tabs of the class scenario (default 8)")
    args = parser.parse_args()
    for key, value in cold_bench(args.quick, args.tabs).items():
        print(f"{key:<24} {value}")


if __name__ == "__main__":
    main()
