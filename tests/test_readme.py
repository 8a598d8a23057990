"""README.md's generated regions agree with the generated outputs (study CSVs, benchmark results),
and the check notices when a number changes."""
import json
import re
import shutil
from pathlib import Path

import pytest

from lab.cli import readme
from lab.cli import main
from lab.study.spec import load_study
from lab.study.summary import markdown, read_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the README is generated from: README.md, studies/, docs/study/, bench/results.*."""
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "studies", tmp_path / "studies")
    shutil.copytree(ROOT / "docs" / "study", tmp_path / "docs" / "study", ignore=shutil.ignore_patterns("report.html"))
    (tmp_path / "bench").mkdir()
    for name in ("results.md", "results.json"):
        shutil.copy(ROOT / "bench" / name, tmp_path / "bench" / name)
    return tmp_path


def test_readme_is_what_the_generated_outputs_say():
    text = (ROOT / "README.md").read_text()
    assert readme.render(text) == text, "README.md is out of date: run `python -m lab readme`"
    assert main(["readme", "--check"]) == 0


def test_every_region_is_filled_from_its_source():
    text = (ROOT / "README.md").read_text()
    regions = {m.group("name"): m.group("body") for m in readme.REGION.finditer(text)}
    assert set(regions) == set(readme.REGIONS)
    assert (ROOT / "bench" / "results.md").read_text().strip() in regions["bench"]
    assert re.search(r"chosen\s+on\s+validation\s+accuracy", regions["results"])  # says how λ was chosen
    assert "| racecar λ=0.001 | 5 |" in regions["results"]  # the variant chosen on validation accuracy
    for method in ("mhe", "comhe", "gini", "phantom", "racecar", "itra"):
        assert f"- **{method}**:" in regions["methods"]
    assert "weight_decay" not in regions["methods"].split("Among the baselines")[0]  # baselines are not seed methods


def test_check_fails_when_a_generated_number_changes(tree, capsys):
    argv = ["readme", "--check", "--root", str(tree)]
    assert main(argv) == 0
    csv = tree / "docs" / "study" / "digits_scarce" / "results.csv"
    lines = csv.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("digits,mlp,ce,ce,{},0.0,0,done,30,"))
    assert ",0.933184855233853," in lines[i]
    lines[i] = lines[i].replace(",0.933184855233853,", ",0.5,", 1)  # CE's seed-0 final test accuracy
    csv.write_text("\n".join(lines) + "\n")
    assert main(argv) == 1
    assert "out of date in: results, methods" in capsys.readouterr().err
    assert main(["readme", "--root", str(tree)]) == 0  # rewrite, then it agrees
    text = (tree / "README.md").read_text()
    assert "| ce | 5 | 0.848 ± " in text and main(argv) == 0
    assert text.split("<!-- generated")[0] == (ROOT / "README.md").read_text().split("<!-- generated")[0]


def test_check_fails_when_the_readme_is_edited_by_hand(tree):
    path = tree / "README.md"
    shown = f"| {json.loads((tree / 'bench' / 'results.json').read_text())['engine_overhead']:.3f} |"
    assert shown in path.read_text()
    path.write_text(path.read_text().replace(shown, "| 9.999 |"))
    assert main(["readme", "--check", "--root", str(tree)]) == 1


def test_a_missing_region_is_one_line(tree, capsys):
    path = tree / "README.md"
    path.write_text(path.read_text().replace("<!-- end: bench -->", ""))
    assert main(["readme", "--check", "--root", str(tree)]) == 2
    err = capsys.readouterr().err.strip()
    assert "README.md must hold the region 'bench' once" in err and "\n" not in err


@pytest.mark.parametrize("value,ce,working,verdict", [
    (0.5062, 0.5064, "lower", "barely moves"), (37.0, 8708.0, "lower", "moves as intended"),
    (0.0414, 0.0400, "lower", "moves against its aim"), (2.0, 1.0, "higher", "moves as intended"),
    (float("nan"), 1.0, "lower", "not measured (no finite value)"),
])
def test_quantity_verdicts(value, ce, working, verdict):
    assert readme.quantity_verdict(value, ce, working) == verdict


def test_accuracy_verdicts():
    from lab.stats import verdict

    assert verdict(0.008, 0.034, 5, readme.GAIN) == "significant gain"
    assert verdict(-0.007, 0.013, 3, readme.GAIN) == "significant loss"
    assert verdict(0.004, 0.129, 5, readme.GAIN) == "no significant difference"
    assert verdict(0.0, float("nan"), 5, readme.GAIN) == "no significant difference"
    assert verdict(0.5, 0.0001, 2, readme.GAIN) == "too few seeds to tell (2 paired; 3 at least)"


@pytest.mark.parametrize("name", readme.studies())
def test_committed_results_md_is_what_the_summary_writes_from_the_csv(name):
    """The README's tables come from results.csv; results.md, written at study time, must say the same."""
    md = (ROOT / "docs" / "study" / name / "results.md").read_text()
    timing = re.search(r"`python -m lab study \w+` \((.*?)\)\. ", md).group(1)
    rows = read_csv(ROOT / "docs" / "study" / name / "results.csv")
    assert markdown(name, load_study(name).description, rows, timing) + "\n" == md
