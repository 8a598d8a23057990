"""The app in a real browser: `streamlit run app.py` on a free localhost port, Debian's
chromium driven by Playwright; press Train, wait for the live chart, no exception shown, the
page icons drawn from the bundled Material Symbols font.
A screenshot of the page goes to tests/artifacts/ (git-ignored)."""
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from serve import PLOT, POINT, browser, idle, served
from ui.nav import PAGES

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
        assert page.locator(POINT).count() >= 1 and not errors
        assert [p.name for p in (tmp_path / "runs").iterdir()] == [page.url.split("run=")[1]]
