"""The Runs page (AppTest): rename and delete with confirmation, a run another process trains is
left alone with the reason, each run's size on disk, a bad new name refused."""
import os

import pytest
from test_app import TINY, app, runs  # noqa: F401  (the fixtures: a runs folder of two tiny runs, the app on it)

import ui
from lab.config import RunConfig
from lab.store import RunWriter
from lab.train import train


def test_runs_page_renames_and_deletes_with_confirmation(app, runs):
    train(RunConfig(name="scratch", **{**TINY, "epochs": 1}), runs=runs)
    at = app("scratch").switch_page(ui.nav.path("runs")).run()
    at.text_input(key="runs.rename").set_value("scratch-2").run()
    at.button(key="runs.rename.go").click().run()
    assert not at.exception and (runs / "scratch-2").is_dir() and not (runs / "scratch").exists()
    assert at.button(key="runs.delete").disabled
    at.checkbox(key="runs.sure.scratch-2").check().run()
    at.button(key="runs.delete").click().run()
    assert not at.exception and not (runs / "scratch-2").exists()


def test_runs_page_says_why_a_run_another_process_trains_cannot_be_renamed_or_deleted(app, runs):
    writer = RunWriter(runs, RunConfig(name="held", **TINY))  # status running, this pid, the lock held
    try:
        at = app("held").switch_page(ui.nav.path("runs")).run()
        assert not at.exception
        assert f"Run held is being trained by process {os.getpid()}" in " ".join(i.value for i in at.info).replace("\\", "")
        assert at.button(key="runs.rename.go").disabled and at.button(key="runs.delete").disabled
    finally:
        writer.status("stopped")


def test_runs_table_shows_each_runs_size_on_disk(app, runs):
    table = app("tiny-ce").switch_page(ui.nav.path("runs")).run().dataframe[0].value
    size = table.set_index("run").loc["tiny-ce", "size"]
    assert size == pytest.approx(sum(f.stat().st_size for f in (runs / "tiny-ce").rglob("*") if f.is_file()) / 2**20)


def test_runs_page_refuses_a_bad_new_name_and_keeps_the_run(app, runs):
    at = app("tiny-wd").switch_page(ui.nav.path("runs")).run()
    at.text_input(key="runs.rename").set_value("../escape").run()
    at.button(key="runs.rename.go").click().run()
    assert not at.exception and "Invalid run name '../escape'" in at.error[0].value.replace("\\", "")
    assert (runs / "tiny-wd").is_dir() and not (runs.parent / "escape").exists()
