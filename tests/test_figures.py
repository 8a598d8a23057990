"""Every figure builder: title, axis titles with units, expected traces, uirevision; the grid."""
import numpy as np
import plotly.graph_objects as go
import pytest

from lab.figures import (accuracy_curves, angle_histogram, embedding_scatter, energy_curves, gap_curves, information_plane,
                         loss_curves, mi_curves, nn_angle_curves, similarity_heatmap, similarity_histograms,
                         sphere_figure, training_curves)
from lab.figures.curves import STREAM
from lab.figures.grid import grid
from lab.measure import pairwise_angles, sample_pair_similarities, similarity_stats, sphere_points

HISTORY = [{"epoch": 1, "task_loss": 1.2, "reg_loss": 0.1, "penalty/hidden_energy": 0.5, "penalty/output_energy": 0.2,
            "train_acc": 0.6, "test_loss": 1.1, "test_acc": 0.55},
           {"epoch": 2, "task_loss": 0.8, "reg_loss": 0.05, "penalty/hidden_energy": 0.4, "penalty/output_energy": 0.1,
            "train_acc": 0.8, "test_loss": None, "test_acc": 0.7}]  # a diverged value is stored as None
EPOCHS = np.arange(4)
LAYERS = {f"layer {i} (linear 8->8)": {"epoch": EPOCHS, "energy": 1 + np.exp(-EPOCHS - i), "min_nn": 0.5 + 0 * EPOCHS,
                                       "mean_nn": 1.2 + 0 * EPOCHS} for i in range(3)}
MI = {f"hidden_{i}": {"epoch": EPOCHS, "ixt": EPOCHS + 1.0 + i, "ity": EPOCHS / 4} for i in range(2)}
SIM = {"epoch": EPOCHS, "intra": 0.5 + EPOCHS / 10, "inter": 0.4 - EPOCHS / 10, "gap": 0.1 + EPOCHS / 5}


def check(fig: go.Figure, n_traces: int, x: str, y: str) -> None:
    assert isinstance(fig, go.Figure) and len(fig.data) == n_traces
    assert fig.layout.title.text and fig.layout.uirevision == "keep"
    assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white (plotly's own default: "#E5ECF6")
    assert x in fig.layout.xaxis.title.text and y in fig.layout.yaxis.title.text


def test_training_curves_full_live_and_empty_history():
    check(loss_curves(HISTORY), 5, "epoch", "nats")  # task, lambda x penalty, test, 2 penalty terms
    check(accuracy_curves(HISTORY), 2, "epoch", "fraction")
    check(loss_curves([{"epoch": 1, "task_loss": 2.0, "reg_loss": 0.0}]), 2, "epoch", "loss")  # a live first epoch
    both = training_curves(HISTORY)
    assert len(both.data) == 7 and both.layout.xaxis2.title.text == "epoch" and "accuracy" in both.layout.yaxis2.title.text
    assert len(training_curves([]).data) == 0


def test_live_points_draw_before_the_first_epoch_and_a_far_scale_gets_its_own_log_axis():
    points = [{"x": 0.25, "task_loss": 2.2, "reg_loss": 0.0, "train_loss": 2.2}]
    fig = loss_curves([], points=points)
    assert [t.name for t in fig.data] == [STREAM] and list(fig.data[0].x) == [0.25]
    racecar = [{"epoch": e, "task_loss": 2.0 / e, "reg_loss": 80.0 / e, "test_loss": 2.1 / e,
                "penalty/reverse": 80.0 / e} for e in (1, 2, 3)]
    fig = loss_curves(racecar)
    right = {t.name for t in fig.data if t.yaxis == "y2"}
    assert right == {"lambda x penalty (train) (right axis)", "penalty: reverse (right axis)"}
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis2.tickmode == "auto"  # 80 to 26.7: under 2 decades
    diverged = [{"epoch": e, "task_loss": 2.0 * 10 ** e, "reg_loss": 0.02 * e, "test_loss": 2.0} for e in (1, 2, 3, 4)]
    axis = loss_curves(diverged).layout.yaxis2  # lines 0.02 to 2: powers of ten as ticks, not synced ones
    assert (axis.type, axis.tickmode, axis.dtick) == ("log", "linear", 1)
    assert all(t.yaxis in (None, "y") for t in loss_curves(HISTORY[:1]).data if t.name == "task loss (train)")


def test_angle_histogram_has_the_uniform_reference():
    fig = angle_histogram(pairwise_angles(np.eye(6)), d=6)
    check(fig, 2, "degrees", "density")
    hist, ref = fig.data
    assert hist.x[np.argmax(hist.y)] == pytest.approx(91.5) and np.count_nonzero(hist.y) == 1 and "d = 6" in ref.name
    assert np.sum(hist.y) * 3 == pytest.approx(1)  # bars of 3 degrees: a density per degree
    assert np.trapezoid(ref.y, ref.x) == pytest.approx(1, abs=1e-3)  # a density per degree


def test_energy_and_nearest_neighbour_curves():
    check(energy_curves(LAYERS), 3, "epoch", "energy")
    assert energy_curves(LAYERS).layout.yaxis.type == "log" and energy_curves(LAYERS, s=0).layout.yaxis.type == "linear"
    fig = nn_angle_curves(LAYERS)
    check(fig, 6, "epoch", "degrees")
    assert fig.data[0].y[0] == pytest.approx(np.degrees(1.2))


@pytest.mark.parametrize("half_space, n_traces", [(False, 2), (True, 3)])
def test_sphere_figure(half_space, n_traces):
    points, note = sphere_points(np.random.default_rng(0).normal(size=(10, 7)))
    fig = sphere_figure(points, note, half_space)
    assert len(fig.data) == n_traces and fig.layout.title.text and fig.layout.uirevision == "keep"
    assert "projected" in fig.layout.title.subtitle.text and "unit" in fig.layout.scene.xaxis.title.text
    if half_space:
        assert np.allclose(fig.data[2].x, -fig.data[1].x)


def test_hammer_projection_by_hand_and_its_map_of_the_sphere():
    from lab.figures.sphere import hammer, sphere_map_figure

    r2 = np.sqrt(2)
    expected = [[0, 0], [0, r2], [0, -r2], [2 * r2 * np.sin(np.pi / 4) / np.sqrt(1 + np.cos(np.pi / 4)), 0]]
    np.testing.assert_allclose(hammer(np.array([[1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0]])), expected, atol=1e-12)
    u = np.random.default_rng(0).normal(size=(4000, 3))
    xy = hammer(u / np.linalg.norm(u, axis=1, keepdims=True))
    radius = (xy[:, 0] / (2 * r2)) ** 2 + (xy[:, 1] / r2) ** 2
    assert (radius <= 1 + 1e-9).all()  # the whole sphere inside the ellipse
    assert abs((radius <= 0.5).mean() - 0.5) < 0.03  # equal area: the inner ellipse of half the area holds half
    points, note = sphere_points(np.random.default_rng(1).normal(size=(10, 7)))
    for half_space, n in ((False, 1), (True, 2)):
        fig = sphere_map_figure(points, note, half_space)
        drawn = [t for t in fig.data if t.mode == "markers"]
        assert len(drawn) == n and all(t.type == "scatter" for t in fig.data)  # flat: no WebGL scene
        np.testing.assert_allclose(np.c_[drawn[0].x, drawn[0].y], hammer(points))
        assert "projected" in fig.layout.title.subtitle.text


def test_similarity_figures_label_classes():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 5)), np.arange(40) % 3
    stats = similarity_stats(x, y)
    fig = similarity_heatmap(stats["matrix"], ["cat", "dog", "eel"])
    check(fig, 1, "class", "class")
    assert list(fig.data[0].x) == ["cat", "dog", "eel"] and (fig.data[0].zmin, fig.data[0].zmax) == (-1, 1)
    pairs = sample_pair_similarities(x, y, 100)
    hist = similarity_histograms(pairs, stats)
    check(hist, 2, "cosine", "density")
    for trace, k in zip(hist.data, ("intra", "inter")):  # binned here: densities of 0.02-wide bins on [-1, 1]
        assert len(trace.y) == 100 and sum(trace.y) * 0.02 == pytest.approx(1)
        np.testing.assert_allclose(trace.y, np.histogram(pairs[k], np.linspace(-1, 1, 101), density=True)[0])
    assert len(hist.layout.shapes) == 2  # the exact means
    check(gap_curves(SIM), 3, "epoch", "cosine")


def test_information_plane_and_curves():
    fig = information_plane(MI, note="binning caveat")
    check(fig, 2, "bits", "bits")
    assert [t.marker.showscale for t in fig.data] == [True, False]  # one colour bar, epochs
    assert list(fig.data[1].marker.color) == list(EPOCHS) and fig.layout.title.subtitle.text == "binning caveat"
    check(mi_curves(MI), 4, "epoch", "bits")
    assert len(information_plane(MI, ceilings=(6.6, 3.3)).layout.shapes) == 2


def test_grid_copies_traces_shares_axes_and_groups_legends():
    short = {"hidden_0": {"epoch": np.arange(9), "ixt": np.arange(9.0), "ity": np.arange(9.0)}}
    fig = grid([information_plane(MI), information_plane(short)], ["run a", "run b"], cols=2, title="two runs")
    assert len(fig.data) == 3 and fig.layout.title.text == "two runs" and fig.layout.uirevision == "keep"
    assert [a.text for a in fig.layout.annotations] == ["run a", "run b"]
    assert fig.layout.xaxis2.matches == "x" and fig.layout.xaxis.title.text == "I(X;T) (bits)"
    assert {(t.marker.cmin, t.marker.cmax) for t in fig.data} == {(0, 8)}  # one epoch scale for all panels
    assert [t.marker.showscale for t in fig.data] == [True, False, False]
    assert [t.showlegend is not False for t in fig.data] == [True, True, False]  # hidden_0 listed once, toggles both
    three = grid([sphere_figure(*sphere_points(np.eye(3))), gap_curves(SIM), gap_curves(SIM)], cols=2)
    assert len(three.data) == 8 and three.layout.scene.xaxis.title.text and three.layout.height > 360 * 2
    heat = grid([similarity_heatmap(np.eye(2)), similarity_heatmap(-np.eye(2))])
    assert [t.showscale for t in heat.data] == [True, False]


def test_grid_shows_shared_axis_titles_once_per_column_and_row():
    fig = grid([gap_curves(SIM)] * 5, cols=2)  # 3 rows, the last one half full
    x_titles = [fig.layout[f"xaxis{i if i > 1 else ''}"].title.text for i in range(1, 6)]
    y_titles = [fig.layout[f"yaxis{i if i > 1 else ''}"].title.text for i in range(1, 6)]
    assert x_titles == [None, None, None, "epoch", "epoch"]  # the lowest cell of each column
    assert y_titles == ["mean cosine similarity", None] * 2 + ["mean cosine similarity"]


def test_shared_small_multiples_fit_every_panel():
    """Shared axes span every panel's data: no panel is clipped by the first one's range, and the
    angle densities set the y axis (not a foreign scale); each map keeps its own aspect anchor."""
    rng = np.random.default_rng(0)
    small, large = rng.normal(size=(40, 2)), 10 * rng.normal(size=(40, 2))
    maps = grid([embedding_scatter(small, np.arange(40) % 2), embedding_scatter(large, np.arange(40) % 2)], cols=2)
    lo, hi = maps.layout.xaxis2.range
    assert lo <= large[:, 0].min() and hi >= large[:, 0].max() and maps.layout.yaxis2.scaleanchor == "x2"
    angles = grid([angle_histogram(pairwise_angles(rng.normal(size=(20, 8))), 8),
                   angle_histogram(pairwise_angles(rng.normal(size=(20, 8))), 8)], cols=2)
    top = max(max(t.y) for t in angles.data)
    assert angles.layout.yaxis.range[0] <= 0 and top <= angles.layout.yaxis.range[1] < 1.2 * top


def test_side_by_side_figures_share_one_range_per_axis_and_bars_start_at_zero():
    from lab.figures.grid import side_by_side

    a = go.Figure(go.Bar(x=["a", "b"], y=[0.2, 0.3])).update_layout(yaxis_title="spread")
    b = go.Figure(go.Bar(x=["a", "b"], y=[0.05, 0.1]))
    a2, b2 = (go.Figure(f) for f in side_by_side([a, b]))
    assert a2.layout.yaxis.range == b2.layout.yaxis.range == pytest.approx((-0.015, 0.315))
    assert a2.layout.yaxis.title.text == "spread" and a2.layout.legend.orientation == "h"
    assert a.layout.yaxis.range is None and a.layout.legend.orientation is None  # new layouts: the cached views stay as built
    c, d = go.Figure(go.Scatter(x=[0, 1], y=[1, 2])), go.Figure(go.Scatter(x=[0, 3], y=[1, 5]))
    c2, d2 = side_by_side([c, d], shared=False)
    assert "range" not in c2["layout"].get("xaxis", {}) and "range" not in d2["layout"].get("yaxis", {})


def test_the_pair_histograms_mean_labels_sit_one_under_the_other_in_their_lines_colours_and_the_legend_under_the_plot():
    from lab.figures.similarity import similarity_histograms

    rng = np.random.default_rng(0)
    fig = similarity_histograms({"intra": rng.uniform(0.8, 1, 50), "inter": rng.uniform(0.5, 0.7, 50)},
                                {"intra": 0.9, "inter": 0.57})
    labels = [a for a in fig.layout.annotations if a.text.startswith("mean")]
    assert [a.text for a in labels] == ["mean 0.90", "mean 0.57"] and labels[0].y > labels[1].y
    assert labels[0].font.color != labels[1].font.color and fig.layout.legend.orientation == "h"


def test_in_projector_mode_a_side_by_side_class_legend_goes_under_the_plot_in_columns_and_the_figure_grows():
    """Beside a half-width plot a class legend left it no width (the phantom lesson); under it, the
    plot keeps its height: the figure grows by what the legend and the x labels take."""
    from lab.figures.grid import side_by_side
    from lab.figures.theme import styled_spec

    traces = [go.Scatter(x=[0, 1], y=[c, c], name=str(c)) for c in range(10)]
    fig = go.Figure([*traces, go.Scatter(x=[0], y=[0], name="samples averaged into a phantom")])
    one, _ = side_by_side([fig, fig])
    plain, big = styled_spec(fig, projector=True), styled_spec(one, projector=True)
    legend = big["layout"]["legend"]
    assert plain["layout"].get("legend", {}).get("orientation") != "h"  # a full-width figure keeps it aside
    assert legend["orientation"] == "h" and legend["y"] < 0 and legend["entrywidthmode"] == "fraction"
    assert 1 / legend["entrywidth"] in (2, 3) and "<br>" in big["data"][-1]["name"]
    plot = lambda spec: spec["layout"]["height"] - spec["layout"]["margin"]["t"] - spec["layout"]["margin"].get("b", 80)
    assert plot(big) >= plot(plain) - 5 and big["layout"]["height"] > plain["layout"]["height"]
