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


def _names(text: str) -> list[str]:
    """Distribution names of requirement lines (extras, versions and comments stripped), normalised."""
    lines = [l.split("#")[0].strip() for l in text.splitlines()]
    return [re.split(r"[\[<>=!~ ;]", l, maxsplit=1)[0].lower().replace("_", "-") for l in lines if l and not l.startswith("-")]


def _lock() -> dict[str, str]:
    pins = [l.split("==") for l in (ROOT / "requirements.lock").read_text().splitlines() if l and not l.startswith("#")]
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_torch_pins_are_exact():
    req = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in req and "torchvision==0.29.1" in req
    assert _lock()["torch"] == "2.14.1" and _lock()["torchvision"] == "0.29.1"


def test_the_lock_pins_every_requirement_and_is_what_is_installed():
    """Both README commands install through requirements.lock; the suite runs on exactly those versions."""
    from importlib.metadata import version

    lock = _lock()
    wanted = _names((ROOT / "requirements.txt").read_text()) + _names((ROOT / "requirements-dev.txt").read_text())
    assert wanted and set(wanted) <= set(lock), sorted(set(wanted) - set(lock))
    assert all("-c requirements.lock" in c for c in _readme_commands()[:2])
    assert {n: version(n) for n in wanted} == {n: lock[n] for n in wanted}


def test_engine_never_imports_streamlit_or_the_ui():
    offenders = [p for p in (ROOT / "lab").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+(streamlit|ui)\b", p.read_text(), re.M)]
    assert offenders == []


def test_no_python_file_of_the_lab_the_ui_or_the_pages_is_over_350_lines():
    files = [*ROOT.glob("lab/**/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]
    assert {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > 350} == {}
