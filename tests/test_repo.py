"""The README's commands and CI agree, and the repository layout rules hold."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    start, tests = _readme_commands()[:2]
    assert "requirements.txt" in start and "streamlit run app.py" in start
    ci = [l for l in (ROOT / ".ci/run").read_text().splitlines() if l and not l.startswith(("#", "set ", "cd "))]
    assert ci == [tests]


def test_torch_pins_are_exact():
    req = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in req and "torchvision==0.29.1" in req


def test_engine_never_imports_streamlit():
    offenders = [p for p in (ROOT / "lab").rglob("*.py") if re.search(r"^\s*(import|from)\s+streamlit", p.read_text(), re.M)]
    assert offenders == []
