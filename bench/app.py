"""App timings in a real browser (Debian chromium driven by Playwright), CPU training.

    python -m bench.app [--quick]

- `app_start_s`: a fresh browser tab opens the app until the Home page is drawn (its title
  visible and the script idle), on a server that was just started (so the first session
  pays the server's imports); `app_start_warm_s`: the same for a second tab. Goal < 3 s.
- `first_point_s`: press Train on the Train page (digits, MLP, defaults) until the live
  curve's first point (a marker of the first epoch) is drawn in the page. Goal < 1 s.
Each number is the median over repetitions (quick: 1 start, 2 clicks; else 3 and 5).
The server and browser come from tests/serve.py (shared with tests/test_browser.py).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.serve import POINT, browser, idle, served


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


def press_train(page, url: str, timeout: float = 60_000) -> float:
    """Seconds from pressing Train (fresh Train page, default settings) to the live curve's first point."""
    page.goto(f"{url}/train")
    idle(page, timeout)
    assert page.locator(POINT).count() == 0
    button = page.locator(".st-key-train button")
    t0 = time.perf_counter()
    button.click()
    page.wait_for_selector(POINT, timeout=timeout)
    return time.perf_counter() - t0


def stop(page) -> None:
    """Press Stop if the run is still training (frees the worker for the next click)."""
    from playwright.sync_api import TimeoutError

    try:
        page.locator(".st-key-stop button").first.click(force=True, timeout=3_000)
    except TimeoutError:
        pass  # it had already finished


def app_bench(quick: bool = False) -> dict:
    """{"app_start_s", "app_start_warm_s", "first_point_s"} (medians, seconds) on a fresh runs folder."""
    starts, clicks = (1, 2) if quick else (3, 5)
    cold, warm, first = [], [], []
    with tempfile.TemporaryDirectory() as tmp, browser() as b:
        for _ in range(starts):
            with served(Path(tmp) / "runs") as url:
                cold.append(open_home(b, url))
                warm.append(open_home(b, url))
        with served(Path(tmp) / "runs") as url:
            page = b.new_page(viewport={"width": 1400, "height": 900})
            for _ in range(clicks):
                first.append(press_train(page, url))
                stop(page)
            page.close()
    return {"app_start_s": statistics.median(cold), "app_start_warm_s": statistics.median(warm),
            "first_point_s": statistics.median(first)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    result = app_bench(parser.parse_args().quick)
    print(f"{'measure':<36} {'seconds':>8}  goal")
    print(f"{'open app -> Home drawn (cold server)':<36} {result['app_start_s']:>8.2f}  < 3")
    print(f"{'open app -> Home drawn (warm server)':<36} {result['app_start_warm_s']:>8.2f}  < 3")
    print(f"{'press Train -> first curve point':<36} {result['first_point_s']:>8.2f}  < 1")


if __name__ == "__main__":
    main()
