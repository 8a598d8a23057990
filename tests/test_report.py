"""`python -m lab report`: one standalone HTML file with every figure of a real (tiny) run."""
import re
import shutil

import pytest

from lab.cli import main
from lab.config import RunConfig
from lab.errors import LabError
from lab.notes import ASSETS
from lab.readout.series import spaced
from lab.report import report
from lab.train import train

TITLES = ("Training (base)", "PCA of the features (base)", "k-NN accuracy of each layer", "Angles between neurons",
          "Hyperspherical energy per layer", "Angle to the nearest neighbour", "epoch 2: intra ",
          "Cosine similarity of sampled pairs", "Intra- and inter-class similarity", "Information plane",
          "Mutual information per layer", "Method: ce", "over training")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for name, method in (("base", "ce"), ("wd", "weight_decay")):
        train(RunConfig(data="digits", method=method, epochs=2, lr=0.1, probe_size=200, name=name), runs=root)
    return root


def test_report_has_every_figure_and_the_config(runs, tmp_path):
    out = report("base", runs=runs, out=tmp_path / "sub" / "r.html")
    page = out.read_text()
    for title in TITLES:
        assert title in page, title
    # training, PCA, k-NN, angles (one grid), energy, nn angle, 3 similarity, 2 information, own quantity
    assert page.count('<div class="figure" id="fig-') == page.count('data-figure="fig-') == 12
    assert page.count('id="plotly-gz"') == 1 and len(re.findall(r"plotly\.js v\d", page)) == 0  # inlined once, gzipped
    assert (ASSETS / "report.js").read_text() in page and (ASSETS / "report.css").read_text() in page
    assert "<td>lr</td><td>0.1</td>" in page and "<td>method</td><td>ce</td>" in page
    assert '"frames":[{' in page and '"label":"Play"' in page  # the PCA map is animated
    assert "<td>model_params</td><td>{&quot;widths&quot;: [256, 256]" in page


def test_compare_side_by_side_with_final_accuracy_table(runs, tmp_path):
    page = report("base", ["wd"], runs=runs, out=tmp_path / "c.html").read_text()
    assert "test acc" in page and "<td>weight_decay</td>" in page and "<td>base</td>" in page
    assert "PCA of the features, epoch 2" in page and "Information plane (binning)" in page
    with pytest.raises(LabError, match="epoch 9"):
        report("base", ["wd"], runs=runs, out=tmp_path / "c.html", epoch=9)


def test_cli_errors_are_one_line(runs, tmp_path, capsys):
    assert main(["report", "nope", "--runs", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope" in err and "\n" not in err
    broken = tmp_path / "broken"
    (broken / "snapshots").mkdir(parents=True)
    (broken / "config.json").write_text((runs / "base" / "config.json").read_text())
    (broken / "snapshots" / "epoch_000.npz").write_bytes(b"not a zip")
    assert main(["report", str(broken), "--out", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert "corrupt" in err and "\n" not in err


def test_cli_writes_the_file(runs, tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert main(["report", "base", "--runs", str(runs), "--out", str(out)]) == 0
    assert out.exists() and str(out) in capsys.readouterr().out


def test_spaced_keeps_first_and_last():
    assert spaced(list(range(5)), 10) == [0, 1, 2, 3, 4]
    picked = spaced(list(range(101)), 5)
    assert picked == [0, 25, 50, 75, 100]


@pytest.mark.parametrize("method,titles", [
    ("racecar", ("Method: racecar", "Reverse-pass reconstruction error, part by part", "right singular vectors")),
    ("gini", ("Method: gini", "Class given feature, p(c|j)")),
])
def test_method_views_follow_the_runs_method(tmp_path, method, titles):
    train(RunConfig(data="digits", method=method, epochs=1, train_size=100, probe_size=100, name="m",
                    model_params={"widths": (16,)}), runs=tmp_path)
    page = report("m", runs=tmp_path, out=tmp_path / "m.html").read_text()
    for title in titles:
        assert title in page, title


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="Debian's chromium is not installed (bash scripts/install-browser.sh)")
def test_the_report_draws_offline_in_a_browser(runs, tmp_path):
    """plotly.js is decompressed from the page itself and every figure is drawn, animation frames included."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    out = report("base", runs=runs, out=tmp_path / "r.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page.goto(out.as_uri())
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            drawn = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map(d => d.id)")
            frames = page.evaluate("document.getElementById('fig-1')._transitionData._frames.length")
        finally:
            browser.close()
    assert errors == [] and drawn == [f"fig-{i}" for i in range(12)] and frames == 3  # epochs 0, 1, 2


def test_a_diverged_run_is_reported_up_to_its_last_finite_epoch(diverged_run, tmp_path):
    page = report(str(diverged_run.path), out=tmp_path / "d.html").read_text()
    assert "PCA of the features (diverged), epoch 0" in page and set(re.findall(r"epoch (\d+)", page)) == {"0"}
