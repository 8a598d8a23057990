"""A link carries the whole setting (Train page, `lab.config.to_query`/`from_query`): opening it fills
the form, the form's own link says the same settings back, and one press trains a run whose metrics
are the ones the same settings give outside the app, bit for bit (wall time aside)."""
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

import ui
from lab.config import RunConfig, from_query, to_query, validate
from lab.store import list_runs, load_run
from lab.train import train
from conftest import links

ROOT = Path(__file__).resolve().parents[1]


def test_the_query_round_trips_every_setting():
    for cfg in (RunConfig(method="mhe", lam=10, epochs=30, train_size=300, model_params={"widths": (64, 64)}),
                RunConfig(data="moons", data_params={"noise": 0.2}, method="dropout", method_params={"p": 0.3}),
                RunConfig(model="cnn", model_params={"channels": (8,)}, optimizer="adam", lr=0.01, seed=7)):
        assert from_query(to_query(validate(cfg))) == validate(cfg)


def test_a_train_link_fills_the_form_and_one_press_reproduces_the_run(tmp_path, monkeypatch):
    settings = {"method": "mhe", "lam": "3", "epochs": "2", "train_size": "100", "seed": "5",
                "model.widths": "16", "method.s": "1"}
    monkeypatch.setenv("REGLAB_RUNS", str(tmp_path / "app"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(settings)
    at.run().switch_page(ui.nav.path("train"))
    at.query_params.update(settings)  # a page switch drops the query: the link opens Train itself
    at.run()
    assert not at.exception and at.selectbox(key="method").value == "mhe"
    assert (at.number_input(key="lam.mhe").value, at.number_input(key="train.seed").value) == (3.0, 5)
    assert at.text_input(key="model.mlp.widths").value == "16"
    link = next(link for link in links(at) if "method=mhe" in link)
    assert all(f"{k}={v}" in link for k, v in {"lam": "3", "epochs": "2", "seed": "5", "model.widths": "16"}.items())
    at.button(key="train").click().run()
    end = time.monotonic() + 60
    while not [r for r in list_runs(tmp_path / "app") if r.state == "done"]:
        assert time.monotonic() < end and not at.exception
        time.sleep(0.2)
    (run,) = list_runs(tmp_path / "app")
    alone = load_run(train(from_query(settings), runs=tmp_path / "cli").path)
    assert run.config.to_dict() | {"name": None} == alone.config.to_dict() | {"name": None}

    def metrics(r):
        return [{k: v for k, v in m.items() if k != "seconds"} for m in r.metrics]

    assert metrics(run) == metrics(alone)
