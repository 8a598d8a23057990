"""The app in a real browser, for tests and benchmarks: `served` starts `streamlit run app.py` on
a free localhost port, `browser` opens Debian's chromium through Playwright (no browser download),
`idle` waits until a page's script has finished. Used by tests/test_browser.py and bench/app.py."""
from __future__ import annotations

import os
import shutil
import signal
import socket
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
PLOT = '[data-testid="stMain"] .js-plotly-plot'  # a page's chart
POINT = f"{PLOT} .scatterlayer path.point"  # a drawn marker of a curve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(str):
    """The URL of a served app, with its process id `pid` and the file its server log goes to (`log`)."""

    pid: int
    log: Path


def settled(pid: int, busy: float = 0.05, timeout: float = 120.0) -> None:
    """Wait until process `pid` uses under `busy` CPU seconds per second over half a second (its
    start-up work done: the app's warm-ups import torch and UMAP in background threads)."""
    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    end, last = time.monotonic() + timeout, cpu()
    while time.monotonic() < end:
        time.sleep(0.5)
        now = cpu()
        if now - last < busy * 0.5:
            return
        last = now
    raise TimeoutError(f"process {pid} still busy after {timeout} s")


def machine_quiet(busy: float = 0.15, timeout: float = 30.0) -> None:
    """Wait until the machine's CPUs are under `busy` of their time busy over half a second (what an
    earlier step left running, such as a server's low-priority UMAP compilation, is not the app's
    start), at most `timeout` seconds."""
    def ticks() -> tuple[int, int]:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(cpu), cpu[3] + cpu[4]  # all, idle + iowait

    end, last = time.monotonic() + timeout, ticks()
    while time.monotonic() < end:
        time.sleep(0.5)
        now = ticks()
        total = now[0] - last[0]
        if total and 1 - (now[1] - last[1]) / total < busy:
            return
        last = now


@contextmanager
def served(runs: Path, timeout: float = 60.0, app: Path = ROOT / "app.py") -> Iterator[Server]:
    """`streamlit run app.py` (or another `app`, run in its folder) on a free localhost port with
    `runs` as the runs folder; yields its URL (a `Server`)."""
    port = free_port()
    env = {**os.environ, "REGLAB_RUNS": str(runs)}
    log = Path(tempfile.mkdtemp(prefix="reglab-serve-")) / "server.log"  # a file: a pipe nobody reads fills up
    with open(log, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", app.name, "--server.headless=true",
                                 "--server.address=127.0.0.1", f"--server.port={port}",
                                 "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
                                cwd=app.parent, env=env, stdout=sink, stderr=subprocess.STDOUT)
    url = Server(f"http://127.0.0.1:{port}")
    url.pid, url.log = proc.pid, log
    try:
        end = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
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


IN_VIEW = f"""() => window.scrollY === 0 && [...document.querySelectorAll('{POINT}')].some(p => {{
    const r = p.getBoundingClientRect();
    return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }})"""


def press_train(page, url: str, timeout: float = 60_000) -> float:
    """Seconds from pressing Train (a fresh Train page, default settings: digits, MLP) until a drawn
    point of a live curve is inside the viewport, the page not scrolled. Presses Stop after."""
    from playwright.sync_api import Error

    page.goto(f"{url}/train")
    idle(page, timeout)
    page.wait_for_selector(PLOT, timeout=timeout)  # the empty curves: the chart library is loaded
    assert page.locator(POINT).count() == 0
    button = page.locator(".st-key-train button")
    t0 = time.perf_counter()
    button.click()
    page.wait_for_function(IN_VIEW, timeout=timeout, polling="raf")
    seconds = time.perf_counter() - t0
    try:
        page.locator(".st-key-stop button").first.click(force=True, timeout=3_000)
    except Error:
        pass  # it had already finished (the button gone, or hidden as the run ended)
    return seconds
