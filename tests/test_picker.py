"""The sidebar's run picker: labels tell runs apart in the width of the sidebar, and the link in
the sidebar always names what is on screen (one run on its pages, the pair on Lessons)."""
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig
from lab.train import train
from ui.picker import picker_labels
from conftest import links

ROOT = Path(__file__).resolve().parents[1]


def test_labels_are_unique_and_short_with_the_time_the_day_or_a_chosen_name():
    ce = RunConfig()
    same_day = {"digits-mlp-ce-s0-261206-143135-415d": ce, "digits-mlp-ce-s0-261206-150101-aaaa": ce, "mine": ce}
    assert picker_labels(same_day) == {"digits-mlp-ce-s0-261206-143135-415d": "ce s0 · 14:31:35",
                                       "digits-mlp-ce-s0-261206-150101-aaaa": "ce s0 · 15:01:01", "mine": "ce s0 · mine"}
    days = {"digits-mlp-ce-s0-261205-143135-415d": ce, "digits-mlp-ce-s0-261206-143135-aaaa": ce}
    assert sorted(picker_labels(days).values()) == ["ce s0 · 05/12 14:31:35", "ce s0 · 06/12 14:31:35"]
    same_second = {"a-mlp-ce-s0-261206-143135-415d": ce, "a-mlp-ce-s0-261206-143135-aaaa": ce}
    assert sorted(picker_labels(same_second).values()) == ["ce s0 · 14:31:35 · 415d", "ce s0 · 14:31:35 · aaaa"]
    table = RunConfig(data="table", data_params={"path": "/x/wine.csv"})
    labels = picker_labels({"wine-mlp-ce-s0-261206-143135-415d": table, "digits-mlp-ce-s0-261206-143136-aaaa": ce})
    assert set(labels.values()) == {"ce s0 · wine.csv · 14:31:35", "ce s0 · digits · 14:31:36"}


def test_labels_show_the_options_that_tell_a_method_s_runs_apart_without_importing_torch():
    """The picker labels Home's sidebar: it must not wait for torch (the registry's option defaults)."""
    code = """
import sys
from lab.config import RunConfig
from ui.picker import picker_labels
mhe = dict(method="mhe", lam=10.0)
shown = {"a": RunConfig(**mhe, method_params={"s": 2, "half_space": True}),
         "b": RunConfig(**mhe, method_params={"s": 0, "half_space": True}),
         "c": RunConfig(method="gini", lam=1.0, method_params={"temperature": 1.0}), "d": RunConfig()}
print(sorted(picker_labels(shown).values()))
assert "torch" not in sys.modules
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == str(["ce s0 · d", "gini λ=1 s0 · c", "mhe λ=10 s=0 s0 · b", "mhe λ=10 s=2 s0 · a"])


def test_the_sidebar_link_names_the_run_on_screen_and_on_lessons_the_pair(tmp_path, monkeypatch):
    tiny = dict(train_size=100, probe_size=100, epochs=1, model_params={"widths": (8,)})
    for name in ("one", "two"):
        train(RunConfig(name=name, **tiny), runs=tmp_path)
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["run"] = "one"
    at.run().switch_page(ui.nav.path("embeddings")).run()
    shown = links(at.sidebar)
    assert len(shown) == 1 and shown[0].endswith("?run=one")
    at.switch_page(ui.nav.path("compare")).run()
    assert not links(at.sidebar)  # several runs on screen: no single run's link
    at.switch_page(ui.nav.path("lessons")).run()
    assert not any(link.endswith("?run=one") for link in links(at.sidebar))
