"""Runs you can carry (lab/store/bundle.py, `python -m lab runs export/import`): a run exported and
imported into an empty runs folder has the same files and opens in every view; a clash gets a
free name; every unsafe, tampered or foreign bundle is refused in one line and adds nothing."""
import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui
from lab.cli import main
from lab.config import RunConfig
from lab.store import RunWriter, list_runs, load_run
from lab.train import train

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(data="digits", train_size=100, probe_size=100, epochs=2, model_params={"widths": (16, 16)})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, Path]:
    """(a runs folder with an mhe run, the zip `runs export` wrote of it)."""
    folder = tmp_path_factory.mktemp("carry")
    train(RunConfig(method="mhe", name="mine", **TINY), runs=folder / "runs")
    assert main(["runs", "export", "mine", "-o", str(folder / "b.zip"), "--runs", str(folder / "runs")]) == 0
    return folder / "runs", folder / "b.zip"


def _travelled(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*")
            if p.is_file() and p.name != ".lock" and "cache" not in p.parts}


def test_an_exported_run_imports_into_an_empty_folder_with_identical_files_and_opens_in_every_view(
        bundle, tmp_path, monkeypatch, capsys):
    runs, archive = bundle
    assert main(["runs", "import", str(archive), "--runs", str(tmp_path / "new")]) == 0
    assert "imported 1 run into" in capsys.readouterr().out
    assert _travelled(tmp_path / "new" / "mine") == _travelled(runs / "mine")
    assert {"config.json", "metrics.jsonl", "status.json", "probe.npz", "model.pt"} <= set(_travelled(runs / "mine"))
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path / "new"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "mine"
    at.run()
    for key in ui.nav.VIEWS:
        at.switch_page(ui.nav.path(key)).run()
        assert not at.exception, key


def test_an_import_whose_names_are_taken_gets_free_names(bundle, tmp_path):
    runs, archive = bundle
    for _ in range(2):
        assert main(["runs", "import", str(archive), "--runs", str(tmp_path)]) == 0
    assert sorted(r.id for r in list_runs(tmp_path)) == ["mine", "mine-2"]
    assert load_run(tmp_path / "mine-2").config.name == "mine-2"


def test_a_running_run_is_not_exported(tmp_path, capsys):
    writer = RunWriter(tmp_path, RunConfig(name="live", **TINY))
    assert main(["runs", "export", "live", "-o", str(tmp_path / "x.zip"), "--runs", str(tmp_path)]) == 2
    assert "Run live is running; export it once it has ended." in capsys.readouterr().err
    writer.status("stopped")


def _rebuilt(archive: Path, change) -> bytes:
    """The bundle with `change(members, manifest)` applied ({name: bytes}, the manifest dict)."""
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    change(members, manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if name.startswith("LINK:"):
                info = zipfile.ZipInfo(name[5:])
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, data)
            else:
                z.writestr(name, data)
        z.writestr("manifest.json", json.dumps(manifest))
    return buf.getvalue()


def _pickled(members, manifest):
    buf = io.BytesIO()
    np.savez(buf, x=np.array([{}, {}], dtype=object))
    members["mine/probe.npz"] = buf.getvalue()
    manifest["runs"]["mine"]["probe.npz"] = hashlib.sha256(buf.getvalue()).hexdigest()


def _foreign(members, manifest):
    members["mine/run.py"] = b"import os"
    manifest["runs"]["mine"]["run.py"] = hashlib.sha256(b"import os").hexdigest()


BAD = {
    "climbs out": (lambda m, f: m.update({"../evil.txt": b"x"}), "'../evil.txt' points outside its folder"),
    "absolute": (lambda m, f: m.update({"/tmp/evil.txt": b"x"}), "'/tmp/evil.txt' points outside its folder"),
    "link": (lambda m, f: m.update({"LINK:mine/evil": b"/etc/passwd"}), "'mine/evil' is a link"),
    "bomb": (lambda m, f: m.update({"mine/zeros": bytes(3 << 20)}), "The zip unpacks to more than 1 MB"),
    "tampered": (lambda m, f: m.update({"mine/metrics.jsonl": m["mine/metrics.jsonl"] + b"\n"}),
                 "mine/metrics.jsonl in the bundle is not the file its manifest names"),
    "pickle": (_pickled, "mine/probe.npz in the bundle is not a plain array file"),
    "foreign file": (_foreign, "Run mine in the bundle holds 'run.py', which no run folder has"),
    "unlisted": (lambda m, f: m.update({"other/config.json": b"{}"}), "holds 'other', which its manifest does not name"),
    "no manifest": (lambda m, f: f.clear(), "is not a bundle of runs"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_bundle_is_refused_in_one_line_and_adds_nothing(bundle, tmp_path, monkeypatch, capsys, case):
    _, archive = bundle
    change, needle = BAD[case]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_rebuilt(archive, change))
    monkeypatch.setenv("REGLAB_IMPORT_MB", "1")
    runs = tmp_path / "runs"
    assert main(["runs", "import", str(bad), "--runs", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
    assert list(runs.iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_the_runs_page_exports_renames_and_deletes_and_says_what_it_did(bundle, tmp_path, monkeypatch):
    import shutil

    runs, _ = bundle
    shutil.copytree(runs / "mine", tmp_path / "mine", ignore=shutil.ignore_patterns(".lock"))
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "mine"
    at.run().switch_page(ui.nav.path("runs")).run()
    at.button(key="runs.export.go").click().run()
    assert not at.exception and at.session_state["_runs_zip"][0] == ("mine",)
    with zipfile.ZipFile(io.BytesIO(at.session_state["_runs_zip"][1])) as z:
        assert "manifest.json" in z.namelist() and "mine/config.json" in z.namelist()
    at.text_input(key="runs.rename").set_value("yours").run()
    at.button(key="runs.rename.go").click().run()
    assert [s.value.replace("\\", "") for s in at.success] == ["Renamed mine to yours."] and (tmp_path / "yours").is_dir()
    at.checkbox(key="runs.sure.yours").check().run()
    at.button(key="runs.delete").click().run()
    assert [s.value.replace("\\", "") for s in at.success] == ["Deleted yours and all its files."] and not (tmp_path / "yours").exists()
