"""A user's own regularizer in one file (README, "Your own regularizer"): the example plug-in
loaded from its path as an outsider's file, trained from the CLI, measured, compared with CE and
opened in every page; an installed entry point; and every bad plug-in refused in one line that
names the file, with no run folder written."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.cli import main
from lab.config import RunConfig, validate
from lab.readout.quantities import quantity_series
from lab.regularizers import REGISTRY, PluginError, resolve
from lab.regularizers.plugins import BUILT_IN, discover, for_run
from lab.store import load_run
from lab.train import train
from conftest import plots

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugins" / "activity_l1.py"
SPEC = f"{EXAMPLE}:ActivityL1"
SMALL = ["--train-size", "300", "--probe-size", "200", "--epochs", "8", "--widths", "64,64"]
GOOD = """
from lab.regularizers import Regularizer

class Tiny(Regularizer):
    name = "{name}"
    summary = "a test plug-in"

    def penalty(self, ctx):
        return {{"size": {term}}}
"""


@pytest.fixture(autouse=True)
def registry():
    """Each test leaves the registry as it found it (plug-ins it loaded are dropped)."""
    before = dict(REGISTRY)
    yield REGISTRY
    REGISTRY.clear()
    REGISTRY.update(before)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A runs folder with CE and the example plug-in (λ 0.01), trained by `python -m lab compare`."""
    runs = tmp_path_factory.mktemp("plugin-runs")
    assert main(["compare", "--methods", f"ce,{SPEC}", "--seeds", "0", "--lambda", "0.01", "--runs", str(runs),
                 *SMALL]) == 0
    for name in [k for k, r in REGISTRY.items() if r.source is not None]:
        REGISTRY.pop(name)  # each test loads what it uses
    return runs


def _run(runs: Path, method: str):
    return next(load_run(p) for p in runs.iterdir() if p.is_dir() and load_run(p).config.method == method)


def test_the_example_plugin_trains_records_its_file_and_lowers_its_own_quantity(trained):
    plug, ce = _run(trained, "activity_l1"), _run(trained, "ce")
    assert plug.state == "done" and plug.config.plugin["file"] == str(EXAMPLE)
    assert plug.config.plugin["class"] == "ActivityL1" and len(plug.config.plugin["sha256"]) == 64
    assert ce.config.plugin is None and (plug.final("steps"), plug.config.seed) == (ce.final("steps"), 0)
    mine = quantity_series(plug, epochs=[8])["active"][0]
    theirs = quantity_series(ce, "activity_l1", epochs=[8])["active"][0]
    assert mine < 0.7 * theirs, (mine, theirs)  # L1 switches features off; CE's stay on


def test_the_cli_train_command_takes_a_plugin_file_and_lists_its_options(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--method", SPEC, "--help"])
    assert "method activity_l1 options" in capsys.readouterr().out
    assert main(["train", "--method", SPEC, "--runs", str(tmp_path), "--epochs", "1", "--train-size", "100",
                 "--probe-size", "50", "--layers", "all"]) == 0
    (run,) = tmp_path.iterdir()
    assert json.loads((run / "config.json").read_text())["method_params"] == {"layers": "all"}


@pytest.mark.parametrize("key", [k for k, p in ui.nav.PAGES.items() if p.section == "Views"])
def test_every_view_page_opens_a_plugin_run_and_its_own_view(trained, monkeypatch, key):
    monkeypatch.setenv("REGLAB_RUNS", str(trained))
    monkeypatch.delenv("REGLAB_PLUGINS", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = _run(trained, "activity_l1").id
    at.run().switch_page(ui.nav.path(key)).run()
    assert not at.exception, (key, at.exception)
    if key == "method":  # its own view, beside the CE run of the same setting
        assert at.selectbox(key="method.reference").value == _run(trained, "ce").id
        assert len(plots(at)) == 2 and "### Active features per sample" in [m.value for m in at.markdown]


def test_a_run_whose_plugin_file_is_gone_or_changed_stays_viewable_and_says_so(trained, tmp_path, monkeypatch):
    copy = tmp_path / "mine.py"
    copy.write_text(EXAMPLE.read_text().replace('"activity_l1"', '"activity_mine"'))
    runs = tmp_path / "runs"
    cfg = RunConfig(method=f"{copy}:ActivityL1", epochs=1, train_size=100, probe_size=50, name="gone")
    train(cfg, runs=runs)
    config = load_run(runs / "gone").config
    copy.write_text(copy.read_text() + "\n# edited\n")
    assert "changed since the run" in for_run(config.plugin, config.method)[1]
    with pytest.raises(PluginError, match="changed since the run"):
        validate(config)  # re-running it needs the same file
    copy.unlink()
    assert "which is missing; restore the file" in for_run(config.plugin, config.method)[1]
    from lab.report import report  # the report says so too, and draws the rest

    assert "which is missing; restore the file" in report(str(runs / "gone"), out=tmp_path / "gone.html").read_text()
    monkeypatch.setenv("REGLAB_RUNS", str(runs))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "gone"
    at.run().switch_page(ui.nav.path("similarity")).run()
    assert not at.exception and plots(at)
    assert any("which is missing" in str(w.value) and "stay viewable" in str(w.value) for w in at.warning)


def test_the_app_lists_the_plugins_it_was_started_with_and_marks_them(tmp_path, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken.py").write_text("def oops(:\n")
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("REGLAB_PLUGINS", str(EXAMPLE))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page(ui.nav.path("train")).run()
    assert not at.exception
    box = at.selectbox(key="method")
    assert "activity_l1 (plug-in)" in box.options and "decov" in box.options  # built-ins are not marked
    assert any("broken.py, line 1: syntax error" in str(w.value) for w in at.warning)


def test_an_installed_entry_point_is_a_method_name(tmp_path, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text(GOOD.format(name="from_ep", term="ctx.out.logits.square().mean()"))
    info = tmp_path / "mypkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[reglab.regularizers]\nfrom_ep = mypkg:Tiny\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve("from_ep").name == "from_ep" and REGISTRY["from_ep"].source.cls == "Tiny"
    assert train(RunConfig(method="from_ep", epochs=1, train_size=100, probe_size=50)).status == "done"


BAD = {
    "syntax": ("x = (\n", "Tiny", r"bad\.py, line 1: syntax error"),
    "missing class": (GOOD.format(name="fine", term="ctx.y.sum()"), "Nope", r"has no class Nope; its Regularizer "
                                                                            r"classes: Tiny"),
    "not a regularizer": ("class Tiny:\n    name = 'x'\n", "Tiny", r"Tiny is not a lab\.regularizers\.Regularizer"),
    "built-in name": (GOOD.format(name="mhe", term="ctx.y.sum()"), "Tiny", r"'mhe' is a built-in method's"),
    "non-scalar": (GOOD.format(name="vec", term="ctx.out.logits.mean(0)"), "Tiny", r"term 'size' has shape \(10,\)"),
    "non-tensor": (GOOD.format(name="num", term="1.5"), "Tiny", r"term 'size' is a float"),
    "raises": (GOOD.format(name="boom", term="1 / 0"), "Tiny", r"penalty raised ZeroDivisionError"),
    "unknown view": (GOOD.format(name="nov", term="ctx.y.sum()").replace("plug-in\"", "plug-in\"\n    views = ('nope',)"),
                     "Tiny", r"views must be a tuple of lab\.declare\.View or keys of lab\.views\.VIEWS"),
    "unknown measurement": ("from lab.declare import Quantity\n" + GOOD.format(name="noq", term="ctx.y.sum()").replace(
        "plug-in\"", "plug-in\"\n    quantity = Quantity('nope', 'x', 'x (unitless)')"), "Tiny", r"a key of lab\.measure"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_plugin_is_refused_in_one_line_naming_its_file_and_writes_nothing(case, tmp_path, capsys):
    source, cls, message = BAD[case]
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    runs = tmp_path / "runs"
    before = dict(REGISTRY)
    code = main(["train", "--method", f"{bad}:{cls}", "--runs", str(runs), "--epochs", "1", "--train-size", "100"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and str(bad) in err, err
    assert re.search(message, err), err
    assert not runs.exists() or not any(runs.iterdir())  # no run folder
    assert {k: v for k, v in REGISTRY.items() if k in before} == before  # no built-in replaced


@pytest.mark.parametrize("command", ["compare", "lesson", "study"])
def test_a_bad_penalty_is_refused_before_compare_a_lesson_or_a_study_trains_ce(command, tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text(BAD["non-scalar"][0])
    runs = tmp_path / "runs"
    (tmp_path / "s.toml").write_text(f'seeds = [0]\nepochs = 1\ntrain_size = 100\n[data.digits]\n[models.mlp]\n'
                                     f'[methods.ce]\n[methods."{bad}:Tiny"]\n')
    argv = {"compare": ["--methods", f"ce,{bad}:Tiny", "--epochs", "1", "--train-size", "100", "--seeds", "0"],
            "lesson": ["mhe", "--method", f"{bad}:Tiny", "--seeds", "0"], "study": [str(tmp_path / "s.toml")]}[command]
    assert main([command, *argv, "--runs", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "has shape (10,)" in err, err
    assert not runs.exists() or not any(runs.iterdir())  # CE was not trained first


LATER = GOOD.format(name="later", term="ctx.model.head.weight.sum() * 0 + self.bump()") + """
    calls = 0

    def bump(self):
        self.calls += 1
        if self.calls > 3:
            raise RuntimeError("my bug at step 3")
        return 0.0
"""


def test_an_exception_or_nan_later_in_training_ends_the_run_and_says_why(tmp_path):
    later = tmp_path / "later.py"
    later.write_text(LATER)
    with pytest.raises(RuntimeError, match="my bug"):
        train(RunConfig(method=f"{later}:Tiny", epochs=2, train_size=200, batch_size=32), runs=tmp_path / "runs")
    (run,) = (tmp_path / "runs").iterdir()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and "my bug at step 3" in status["error"]
    nan = tmp_path / "nan.py"
    nan.write_text(GOOD.format(name="nan_pen", term="ctx.out.features.sum() * float('nan')"))
    # the first-batch check passes a NaN (a value, not a type error): the run ends `diverged`, saying why
    result = train(RunConfig(method=f"{nan}:Tiny", epochs=2, train_size=200), runs=tmp_path / "nan-runs")
    assert result.status == "diverged" and "lower the learning rate" in result.error


def test_a_plugin_failing_in_the_apps_pool_ends_its_own_run_and_the_others_go_on(tmp_path):
    from lab.live import LiveRuns

    (tmp_path / "later.py").write_text(LATER)
    live, runs = LiveRuns(tmp_path / "runs"), tmp_path / "runs"
    small = dict(epochs=3, train_size=200, batch_size=32, probe_size=50)
    bad = live.start(RunConfig(method=f"{tmp_path / 'later.py'}:Tiny", **small), "me")
    good = live.start(RunConfig(**small), "someone else")
    live.wait(timeout=120)
    failed = load_run(bad, runs)
    assert failed.state == "failed" and "my bug at step 3" in failed.status["error"]
    assert load_run(good, runs).state == "done" and len(load_run(good, runs).metrics) == 3


@pytest.mark.parametrize("module", ["center", "decov"])
def test_a_plugin_copy_of_a_builtin_is_accepted_and_trains_exactly_as_the_builtin(module, tmp_path):
    """A built-in written through the contract loads as a user's file (its views by key too), and
    the plug-in's first-batch check leaves the run untouched (center's centres start on the run's batch)."""
    source = (ROOT / "lab" / "regularizers" / f"{module}.py").read_text()
    (tmp_path / "twin.py").write_text(source.replace(f'name = "{module}"', f'name = "{module}_twin"'))
    cls = REGISTRY[module]
    twin = resolve(f"{tmp_path / 'twin.py'}:{cls.__name__}")
    assert twin.views and all(isinstance(a, str) == isinstance(b, str) for a, b in zip(twin.views, cls.views))
    mine, theirs = (train(RunConfig(method=m, model_params={"widths": [32]}, epochs=2, train_size=200, probe_size=50))
                    for m in (twin.name, module))
    assert [h["test_loss"] for h in mine.history] == [h["test_loss"] for h in theirs.history]


def test_a_study_names_a_plugin_by_its_file(tmp_path):
    (tmp_path / "s.toml").write_text(f"""description = "a plug-in in a study"
seeds = [0]
epochs = 2
train_size = 120
probe_size = 60
[data.digits]
[models.mlp]
widths = [16]
[methods.ce]
[methods."{SPEC}"]
lam = [0.01]
""")
    assert main(["study", str(tmp_path / "s.toml"), "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    rows = {r["method"]: r for r in csv.DictReader((tmp_path / "out" / "results.csv").open())}
    assert set(rows) == {"ce", "activity_l1"} and rows["activity_l1"]["quantity"] == "active"
    assert float(rows["ce"]["final_active"]) > 0 and float(rows["activity_l1"]["final_active"]) > 0
    assert load_run(tmp_path / "runs" / rows["activity_l1"]["run"]).config.plugin["class"] == "ActivityL1"


def test_discover_loads_a_folder_and_reports_each_refusal(tmp_path):
    (tmp_path / "ok.py").write_text(GOOD.format(name="found_me", term="ctx.y.float().mean() * 0"))
    (tmp_path / "clash.py").write_text(GOOD.format(name="ce", term="ctx.y.float().mean() * 0"))
    names, errors = discover([tmp_path])
    assert "found_me" in names and REGISTRY["found_me"].source.file == str(tmp_path / "ok.py")
    assert len(errors) == 1 and "clash.py" in errors[0] and "'ce' is a built-in" in errors[0]
    assert "ce" in BUILT_IN and REGISTRY["ce"].source is None


def test_no_module_outside_the_regularizers_branches_on_a_builtin_methods_name():
    """A comparison with a built-in method's name (`method == "racecar"`, `m in ("mhe", "comhe")`)
    anywhere but lab/regularizers/ would give a plug-in less than a built-in: read its declaration."""
    import ast

    names = set(BUILT_IN)
    found = []
    files = [p for d in ("lab", "ui", "pages", "bench", "scripts") for p in (ROOT / d).rglob("*.py")]
    for path in [*files, ROOT / "app.py"]:
        if "regularizers" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                consts = [c.value for s in sides for c in ([s] if isinstance(s, ast.Constant) else
                          s.elts if isinstance(s, (ast.Tuple, ast.List, ast.Set)) else []) if isinstance(c, ast.Constant)]
                if names & set(consts):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_the_palette_gives_every_method_its_own_stable_colour():
    from lab.figures.palette import method_color

    colours = [method_color(m) for m in [*REGISTRY, "a_plugin", "another_plugin"]]
    assert len(set(colours)) == len(colours) and method_color("a_plugin") == method_color("a_plugin")
    assert all(c.startswith("#") and len(c) == 7 for c in colours)
    assert np.unique([method_color(m) for m in BUILT_IN]).size == len(BUILT_IN)
