"""`pip install .` from the checkout (into a fresh virtual environment that sees the installed
dependencies): `reglab` and `python -m lab` work from any folder, with the lab's own files
(lessons, notes, the own-data examples) installed beside them."""
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pip_install_gives_a_reglab_command_that_works_from_any_folder(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside pyproject.toml
    skipped = {".git", "runs", "data", "tests", "docs", "bench", "build", "reglab.egg-info"}
    shutil.copytree(ROOT, source, ignore=lambda folder, names: [n for n in names if Path(folder) == ROOT and n in skipped
                                                                or n == "__pycache__"])
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py, reglab = env_dir / "bin" / "python", env_dir / "bin" / "reglab"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(source)], check=True, capture_output=True,
                   timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*cmd: str) -> str:
        return subprocess.run(cmd, cwd=elsewhere, check=True, capture_output=True, text=True, timeout=300).stdout

    assert "commands:" in run(str(reglab), "--help") and "lesson" in run(str(py), "-m", "lab", "--help")
    assert "Phantom embeddings push the classes apart" in run(str(reglab), "lesson")  # assets/lessons.toml
    out = run(str(reglab), "train", "--data", "table", "--epochs", "1", "--runs", "runs")  # examples/data/wine.csv
    assert "runs/wine-mlp-ce-s0-" in out
    located = run(str(py), "-c", "import lab, lab.paths; print(lab.__file__); print(lab.paths.ROOT)").split()
    assert not located[0].startswith(str(ROOT)) and located[1] == str(env_dir / "share" / "reglab")
