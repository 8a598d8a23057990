"""App timings in a real browser (Debian chromium driven by Playwright), CPU training.

    python -m bench.app [--quick]

- `app_start_s`: a fresh browser tab opens the app until the Home page is drawn (its title
  visible and the script idle), on a server that was just started (so the first session
  pays the server's imports); `app_start_warm_s`: the same for a second tab. Goal < 3 s.
- `first_point_s`: press Train on the Train page (digits, MLP, defaults) until the live
  curve's first point (a marker of the first epoch) is drawn in the page. Goal < 1 s.
Each number is the median over repetitions (quick: 1 start, 2 clicks; else 3 and 5).
`served` and `browser` are shared with tests/test_browser.py.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                  "--disable-extensions", "--disable-sync", "--disable-default-apps", "--disable-component-update",
                  "--no-first-run", "--mute-audio"]
PLOT = ".js-plotly-plot"
POINT = ".js-plotly-plot .scatterlayer path.point"  # a drawn marker of a curve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(runs: Path, timeout: float = 60.0) -> Iterator[str]:
    """`streamlit run app.py` on a free localhost port with `runs` as the runs folder; yields its URL."""
    port = free_port()
    env = {**os.environ, "REGLAB_RUNS": str(runs)}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                             "--server.address=127.0.0.1", f"--server.port={port}",
                             "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"streamlit did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def browser() -> Iterator[object]:
    """Debian's chromium, headless, through Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError("chromium is not installed: bash scripts/install-browser.sh")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def idle(page, timeout: float = 30_000) -> None:
    """Wait until the script has finished and the status widget is gone."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


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
