"""One lesson in a real browser at 1400x1000 (Debian's chromium through Playwright, tests/serve.py):
open the mhe lesson from its link, press its button, and wait for both runs' views and the
verdict; no exception on the page. The screenshot goes to tests/artifacts/lesson.png."""
import re
import shutil
from pathlib import Path

import pytest

from lab.lessons import LESSONS
from serve import PLOT, browser, idle, served

ARTIFACTS = Path(__file__).resolve().parents[1] / "tests" / "artifacts"


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_a_lesson_trains_both_runs_and_shows_their_views_and_verdict_in_a_real_browser(tmp_path):
    from playwright.sync_api import expect

    views = LESSONS["mhe"].views
    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/lessons?lesson=mhe")
        idle(page)
        page.locator(".st-key-lesson-train button").click()
        expect(page.get_by_text(re.compile(r"Verdict: (clear|no clear) effect")).first).to_be_visible(timeout=90_000)
        idle(page)
        expect(page.locator(PLOT)).to_have_count(2 + 2 * len(views), timeout=30_000)  # accuracy, quantity, views
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lesson.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0 and not errors
        assert sorted(p.name.split("-")[2] for p in (tmp_path / "runs").iterdir()) == ["ce", "mhe"]
