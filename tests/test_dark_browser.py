"""Dark theme in a real browser (Debian chromium, 1400x1000): every visible piece of text (alerts
and the lesson's verdict, inputs and select boxes, the link box, captions, buttons) and every
drawn line of a figure (reference lines included) has a WCAG contrast of at least 4.5:1 against
what it is drawn on, measured on the computed colours (a reference line: a grey, black or white one;
data colours are the palette's). The pages are reached as a user does, through the sidebar, so the
session keeps its theme. Screenshots go to tests/artifacts/."""
import re
import shutil
from pathlib import Path

import pytest

from lab.config import RunConfig
from lab.train import train
from serve import PLOT, browser, idle, served

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
LEAST = 4.5

CONTRAST = r"""() => {
  const rgb = s => { const m = (s || '').match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat([1]);
  const behind = el => {  // the colour an element is drawn on: its and its ancestors' backgrounds, composed
    const layers = [];
    for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255, 1]);
  };
  const lum = c => 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
  const low = [];
  const text = 'p, span, label, code, summary, input:not([type=checkbox]):not([type=radio]), textarea, li, h1, h2, h3';
  for (const el of document.querySelectorAll(text)) {
    const words = (el.value || [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('')).trim();
    const r = el.getBoundingClientRect();
    if (!words || r.width === 0 || r.height === 0 || el.closest('.js-plotly-plot')) continue;
    const c = rgb(getComputedStyle(el).color); const on = behind(el);
    const x = ratio(over(c, on), on);
    if (x < 4.5) low.push(`${x.toFixed(2)} ${el.closest('[data-testid]')?.dataset.testid}: ${words.slice(0, 30)} (${c} on ${on.map(Math.round)})`);
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const paper = rgb(getComputedStyle(plot.querySelector('.main-svg rect.bg') || plot).fill) ||
                  rgb(plot.querySelector('.main-svg').style.background) || [17, 17, 17, 1];
    for (const line of plot.querySelectorAll('.shapelayer path, .scatterlayer path.js-line')) {
      const c = rgb(getComputedStyle(line).stroke);  // grey, black or white: a reference line, not a data colour
      const neutral = c && Math.max(c[0], c[1], c[2]) - Math.min(c[0], c[1], c[2]) < 12;
      if (neutral && c[3] > 0 && ratio(c, paper) < 4.5) low.push(`${ratio(c, paper).toFixed(2)} line ${line.getAttribute('style')}`);
    }
  }
  return low;
}"""


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_every_text_and_line_reads_in_dark_theme(tmp_path):
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    tiny = dict(train_size=100, batch_size=50, probe_size=100, epochs=2, model_params={"widths": (16, 16)})
    for method in ("ce", "itra"):
        train(RunConfig(method=method, name=method, **tiny), runs=runs)
    with served(runs) as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/method?run=itra")
        idle(page, 60_000)
        page.get_by_text("Dark theme").click()
        idle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        for title in ("Method views", "Similarity", "Geometry", "Train", "Runs", "Compare", "Lessons"):
            page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
            idle(page, 60_000)
            if title == "Lessons":
                page.locator(".st-key-lesson-train button").click()
                expect(page.get_by_text(re.compile(r"Verdict: "))).to_be_visible(timeout=90_000)
                idle(page, 60_000)
            if title not in ("Runs", "Compare"):
                page.wait_for_selector(PLOT, timeout=30_000)
            page.wait_for_timeout(700)  # plotly's first paint
            page.screenshot(path=str(ARTIFACTS / f"dark-{title.split()[0].lower()}.png"))
            low = page.evaluate(CONTRAST)
            assert low == [], (title, low)
