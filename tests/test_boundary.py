"""The decision-boundary view: the figure builder's regions and points, and the page for a moons run
(beside a second run), for a digits run (nothing to draw, said in a sentence) and with no run."""
from pathlib import Path

import numpy as np
import pytest
from test_app import _texts, app  # noqa: F401 (the AppTest fixture, here over this module's runs)

import ui
from lab.config import RunConfig
from lab.figures.boundary import boundary_figure, region_values
from lab.train import train
from conftest import plots

MOONS = dict(data="moons", train_size=200, probe_size=100, epochs=2, model_params={"widths": (16, 16)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two finished moons runs (ce and phantom, same seed) and one digits run."""
    folder = tmp_path_factory.mktemp("runs")
    for method, name in (("ce", "moons-ce"), ("phantom", "moons-phantom")):
        train(RunConfig(method=method, name=name, **MOONS), runs=folder)
    train(RunConfig(name="digits-ce", **{**MOONS, "data": "digits"}), runs=folder)
    return folder


def test_regions_take_the_predicted_class_and_grow_stronger_with_confidence():
    logits = np.array([[[0.0, 0.0], [3.0, 0.0]], [[0.0, 1.0], [0.0, 9.0]]])
    z = region_values(logits)
    assert np.floor(z).tolist() == [[0, 0], [1, 1]]
    assert z[0, 0] == 0 and 0 < z[1, 0] - 1 < z[1, 1] - 1 < 1 and z[0, 1] > 0.5


def test_the_figure_draws_regions_under_one_point_trace_per_class():
    g = np.linspace(-1, 1, 4)
    x, y = np.array([[0.0, 0.0], [0.5, 0.5], [-0.5, 0.2]]), np.array([0, 1, 1])
    fig = boundary_figure(g, g, np.zeros((4, 4, 2)), x, y, ["a", "b"], "ce · epoch 3")
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter"]
    assert [len(t.x) for t in fig.data[1:]] == [1, 2] and fig.data[2].name == "b"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.title.text == "ce · epoch 3"


def test_the_boundary_view_renders_a_moons_run_beside_a_second_run(app):
    at = app("moons-phantom").switch_page(ui.nav.path("boundary")).run()
    assert not at.exception
    assert len(plots(at)) == 2  # ce picked by default beside the method
    assert "epoch 2" in str(plots(at)[1].proto.spec)
    at = app("moons-ce").switch_page(ui.nav.path("boundary")).run()  # ce: no second run unless picked
    assert not at.exception and len(plots(at)) == 1
    at.button(key="boundary.play").click().run()
    assert not at.exception and plots(at)


def test_a_run_without_2d_inputs_says_why_there_is_no_boundary(app):
    at = app("digits-ce").switch_page(ui.nav.path("boundary")).run()
    assert not at.exception and not plots(at)
    assert "There is no boundary to draw" in _texts(at)
