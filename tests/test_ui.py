"""The app's layout rules: one table of pages with Material icons, no emoji, no per-method text or
maths in the pages, `lab` never importing `ui`; and the overlay builder's method colours."""
import ast
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from streamlit.string_util import validate_material_icon

import ui
from test_app import runs  # noqa: F401 (two tiny saved runs)
from lab.figures import Line, overlay_curves
from lab.figures.palette import dash, method_color
from lab.regularizers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))
APP_FILES = [ROOT / "app.py", *PAGE_FILES, *sorted((ROOT / "ui").glob("*.py"))]
# What a page may take from lab.measure: names of snapshot keys, a default, a caveat, the quantity to plot.
PAGE_MEASURE_NAMES = {"feature_layer", "feature_weight", "hidden_layers", "weight_labels", "KDE_NOISE",
                      "binning_caveat", "own_quantity"}
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u23E9-\u23FA\u25A0-\u25FF\uFE0F]")


def test_the_table_of_pages_lists_every_page_file_exactly_once():
    paths = [p.path for p in ui.nav.PAGES.values()]
    assert sorted(paths) == [f"pages/{f.name}" for f in PAGE_FILES]
    assert all(key == p.key and p.path == f"pages/{key}.py" for key, p in ui.nav.PAGES.items())
    assert list(ui.nav.PAGES)[0] == "home"  # the default page, first in the sidebar


def test_every_icon_is_a_bundled_material_icon_and_the_tab_s_a_bundled_image():
    icons = [p.icon for p in ui.nav.PAGES.values()]
    assert all(re.fullmatch(r":material/[a-z0-9_]+:", i) for i in icons), icons
    for icon in icons:
        validate_material_icon(icon)  # raises on a name Streamlit does not bundle
    assert Image.open(ui.nav.APP_ICON).size == (64, 64)  # a material favicon is fetched from fonts.gstatic.com


def test_no_emoji_anywhere_in_the_app():
    """A browser without an emoji font (Debian's chromium) shows them as empty boxes."""
    found = {f.relative_to(ROOT).as_posix(): EMOJI.findall(f.read_text()) for f in APP_FILES}
    assert {f: chars for f, chars in found.items() if chars} == {}


def _module_dicts(tree: ast.Module) -> list[tuple[str, ast.Dict]]:
    return [(t.id, node.value) for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            and isinstance(node.value, ast.Dict) for t in (node.targets if isinstance(node, ast.Assign) else
                                                           [node.target]) if isinstance(t, ast.Name)]


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_no_page_keeps_its_own_text_per_method(path):
    """Per-method notes live in assets/notes.toml (`lab.notes.note`), not in a dict of a page."""
    per_method = [name for name, d in _module_dicts(ast.parse(path.read_text()))
                  if any(isinstance(k, ast.Constant) and k.value in REGISTRY for k in d.keys)]
    assert per_method == []


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_take_no_measurement_from_lab_measure(path):
    """No maths in pages: what a page shows is measured by lab.figures.views, lab.readout or ui.cache."""
    imported = {a.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("lab.measure") for a in node.names}
    assert imported <= PAGE_MEASURE_NAMES


def test_lab_never_imports_ui():
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "lab").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+ui\b", p.read_text(), re.M)]
    assert offenders == []


def test_app_builds_its_navigation_from_the_table():
    app = (ROOT / "app.py").read_text()
    assert "ui.nav.navigation()" in app and "st.Page(" not in app


def test_overlaid_runs_take_their_method_colour_and_a_dash_per_seed():
    history = [{"epoch": 1, "test_acc": 0.5}, {"epoch": 2, "test_acc": 0.7}]
    fig = overlay_curves([Line("ce s3", "ce", 3, history), Line("mhe s7", "mhe", 7, history),
                          Line("ce s7", "ce", 7, history), Line("mhe s3", "mhe", 3, {"epoch": [1], "test_acc": [0.4]})],
                         "test_acc", "Test accuracy", "test accuracy")
    assert [(t.name, t.line.color, t.line.dash) for t in fig.data] == [
        ("ce s3", method_color("ce"), dash(0)), ("mhe s7", method_color("mhe"), dash(1)),
        ("ce s7", method_color("ce"), dash(1)), ("mhe s3", method_color("mhe"), dash(0))]
    assert list(fig.layout.yaxis.range) == [0, 1.02]


def test_names_shown_in_markdown_are_escaped():
    assert ui.widgets.esc("my_run_1") == r"my\_run\_1"
    assert ui.widgets.esc("**x** <b>[a](javascript:1)</b>") == r"\*\*x\*\* \<b\>\[a\]\(javascript:1\)\</b\>"


def test_the_owner_is_the_browser_whatever_the_cookie_mask():
    page1 = "2|dc39f110|653fdfee77778f8ac39a8d2db8b0fb69|1795641466"  # one browser, two page loads
    page2 = "2|018b54ec|b88d7a12aac52a761e2828d165025e95|1795641466"
    other = "2|018b54ec|b88d7a12aac52a761e2828d165025e96|1795641466"
    assert ui.runs.browser_id(page1) == ui.runs.browser_id(page2) != ui.runs.browser_id(other)
    assert ui.runs.browser_id(None) is None and ui.runs.browser_id("garbage") is None
    assert ui.runs.browser_id("2|zz|00|1") is None



def test_the_app_frame_and_home_import_no_torch_nor_numpy():
    """App start to the first page must not wait for torch's import (seconds), nor numpy's (0.1 s in
    a fresh server, before the title was drawn): the frame, the run picker and Home need only the
    config, the store and the live-run manager."""
    home = [ast.unparse(n) for n in ast.parse((ROOT / "pages" / "home.py").read_text()).body
            if isinstance(n, (ast.Import, ast.ImportFrom))]
    code = "; ".join(["import sys", "import ui.runs", *home, "heavy = {'torch', 'numpy', 'PIL.Image'} & set(sys.modules)",
                      "assert not heavy, (heavy, [m for m in sys.modules if m.startswith(('lab', 'ui'))])"])
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_views_that_need_no_torch_draw_a_run_without_importing_it(runs):
    """Embeddings, Similarity and Information draw every chart of a saved run in a fresh process
    without torch's import (1.3 s here; a first view waited for it, or for the warm-up importing it)."""
    code = f"""
import sys
from streamlit.testing.v1 import AppTest
import ui.warm
ui.warm.warm_ups = ui.warm.umap_compiled = ui.warm.umap_wanted = lambda: None  # threads that import torch (training) or UMAP
at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=60)
at.query_params["run"] = "tiny-ce"
at.run()
for page, charts in (("embeddings", 2), ("similarity", 3), ("information", 2)):
    at.switch_page(f"pages/{{page}}.py").run()
    shown = [e for e in at.main.get("bidi_component") if e.proto.component_name == "reglab_plot"]
    assert not at.exception and len(shown) == charts, (page, at.exception)
assert "torch" not in sys.modules, [m for m in sys.modules if m.startswith(("lab", "ui"))]
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "REGLAB_RUNS": str(runs)})
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.parametrize("call", ["ui.warm.umap_compiled()",
                                  'ui.runs.start([RunConfig(data="digits", train_size=60, probe_size=40, epochs=1)])'])
def test_pandas_is_imported_before_a_warm_up_or_a_run_starts_its_thread(tmp_path, call):
    """A thread importing pandas (through scikit-learn) while a script draws a plotly figure leaves
    plotly a half-initialised pandas: a figure failed so on a fresh app. Each thread must find it imported."""
    code = f"""
import sys, threading
import ui.runs, ui.warm
from lab.config import RunConfig
assert "pandas" not in sys.modules
seen, start = [], threading.Thread.start
threading.Thread.start = lambda self: (seen.append((self.name, "pandas" in sys.modules)), start(self))[1]
{call}
assert seen and all(imported for _, imported in seen), seen
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "REGLAB_RUNS": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_training_warm_up_waits_for_the_warm_ups_before_it_and_for_the_pages_to_be_quiet(monkeypatch):
    from concurrent.futures import Future

    monkeypatch.setattr(ui.warm, "QUIET_S", 0.3)
    umap, done = Future(), threading.Event()
    with ui.warm.page_running():
        threading.Thread(target=lambda: (ui.warm.quiet([umap]), done.set()), daemon=True).start()
        umap.set_result(None)
        assert not done.wait(0.6)  # a page script is running
    t0 = time.monotonic()
    assert done.wait(5) and time.monotonic() - t0 >= 0.25  # quiet for QUIET_S after it ended


def test_the_background_umap_warm_up_waits_while_a_run_trains_unless_a_page_asks_for_umap(monkeypatch):
    """Beside UMAP's import (scikit-learn's, seconds of CPU), a fresh app's first run took 2.6 s to its first point."""
    from concurrent.futures import Future
    from types import SimpleNamespace

    import lab.measure.embed as E

    live, after = [1], Future()
    after.set_result(None)  # the training warm-up, done
    monkeypatch.setattr(ui.warm, "manager", lambda: SimpleNamespace(live=lambda: live[0]))
    monkeypatch.setattr(ui.warm, "_ASKED", threading.Event())
    monkeypatch.setattr(ui.warm, "UMAP_QUIET_S", 0.0)  # the pages' part: `quiet`'s test
    monkeypatch.setattr(E, "compile_umap_elsewhere", lambda: None)
    monkeypatch.setattr(E, "warm_umap", lambda: "warm")
    ui.warm.umap_compiled.clear()
    try:
        future = ui.warm.umap_compiled(after)
        time.sleep(0.6)
        assert not future.done()  # a run trains
        live[0] = 0
        assert future.result(timeout=5) == "warm"
        ui.warm.umap_compiled.clear()
        live[0] = 1
        future = ui.warm.umap_compiled(after)
        time.sleep(0.3)
        assert not future.done() and ui.warm.umap_wanted() is future  # the Embeddings page: the same warm-up,
        assert future.result(timeout=5) == "warm"  # which waits for the run no more
    finally:
        ui.warm.umap_compiled.clear()


def test_umaps_warm_up_imports_no_torch():
    """UMAP needs no torch: importing it first made a fresh app's first UMAP 1.9 s slower."""
    code = """
import sys
import ui.warm
assert ui.warm.umap_wanted().result(timeout=600) is None
assert "torch" not in sys.modules, [m for m in sys.modules if m.startswith(("lab", "ui"))]
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]


def test_the_training_warm_up_imports_torch_only_when_no_umap_import_runs(monkeypatch):
    """scipy.stats, imported with UMAP, reads a torch another thread is importing (a warm-up failed so once)."""
    from types import SimpleNamespace

    monkeypatch.setattr(ui.warm, "manager", lambda: SimpleNamespace(warm=lambda wait: threading.Thread(target=wait)))
    ui.warm.training_warmed.clear()
    try:
        with ui.warm._IMPORTING:  # UMAP's warm-up, importing
            thread = ui.warm.training_warmed()
            thread.start()
            thread.join(0.5)
            assert thread.is_alive()
        thread.join(5)
        assert not thread.is_alive()
    finally:
        ui.warm.training_warmed.clear()


def test_a_page_waits_for_the_first_point_of_a_run_it_has_just_started_and_not_longer(monkeypatch):
    from types import SimpleNamespace

    def run(points: tuple) -> ui.runs.RunInfo:
        return ui.runs.RunInfo("r", "running", [], None, SimpleNamespace(points=points), None)

    states = [run(()), run(()), run(({"x": 0},))]
    monkeypatch.setattr(ui.runs, "find", lambda run_id, folder=True: states.pop(0) if len(states) > 1 else states[0])
    assert ui.runs.with_first_point("r").in_memory.points == ({"x": 0},) and len(states) == 1
    monkeypatch.setattr(ui.runs, "FIRST_POINT_S", 0.1)
    monkeypatch.setattr(ui.runs, "find", lambda run_id, folder=True: run(()))
    assert ui.runs.with_first_point("r").in_memory.points == ()  # no point yet: the page goes on
