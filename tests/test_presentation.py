"""Presentation: the light/dark and projector styling of every figure, the PNG and HTML exports,
the copyable run link, and every page rendering in the dark theme."""
import json
import time

import plotly.graph_objects as go
from test_app import app, runs  # noqa: F401 (the AppTest fixture over test_app's two tiny runs)

import ui
from lab.figures.theme import DARK_BACKGROUND, FONT, PROJECTOR, TITLE_FONT, TITLE_MARGIN, styled
from lab.html import figures_page
from conftest import links, plots


def _fig(title: str = "loss") -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1], y=[1, 0]), layout=dict(title=title, margin=dict(t=20)))


def test_styling_themes_a_copy_and_projector_mode_enlarges_fonts_and_the_title_margin():
    fig = _fig()
    dark = styled(fig, dark=True, projector=True)
    assert dark.layout.template.layout.paper_bgcolor == DARK_BACKGROUND
    assert dark.layout.font.size == round(FONT * PROJECTOR) and dark.layout.title.font.size > TITLE_FONT
    assert dark.layout.margin.t > TITLE_MARGIN
    light = styled(fig)
    assert light.layout.template.layout.paper_bgcolor == "white" and light.layout.font.size == FONT
    assert fig.layout.margin.t == 20 and fig.layout.template.layout.paper_bgcolor != DARK_BACKGROUND  # unchanged


def test_exported_html_holds_plotly_js_once_and_stays_far_below_plotlys_own_standalone_page():
    own = len(_fig().to_html(include_plotlyjs=True, full_html=True))
    one = len(figures_page("x", {"a": _fig()}))
    three = figures_page("x", {n: _fig(n) for n in "abc"})
    assert one < own / 2 and len(three) < one + 10_000 and three.count('id="plotly-gz"') == 1
    assert [f'data-figure="fig-{i}"' in three for i in range(3)] == [True] * 3


def test_every_page_renders_in_the_dark_theme_with_3x_png_export_and_a_link_to_the_run(app):
    at = app("tiny-ce")
    at.toggle(key=f"{ui.widgets.DARK_KEY}.toggle").set_value(True).run()
    at.toggle(key=f"{ui.widgets.PROJECTOR_KEY}.toggle").set_value(True).run()
    assert at.session_state[ui.widgets.DARK_KEY] and at.session_state[ui.widgets.PROJECTOR_KEY]
    for key in sorted(ui.nav.PAGES, key=lambda k: k == "runs"):  # Runs opens a run: last
        at.switch_page(ui.nav.path(key)).run()
        assert not at.exception, (key, at.exception)
        drawn = at.session_state[ui.widgets._FIGURES]  # what the sidebar's page export holds: each chart once
        charts = plots(at)
        assert sorted(drawn) == sorted(c.key for c in charts), key
        for chart in charts:
            spec, config = json.loads(chart.proto.spec), json.loads(chart.proto.config)
            assert spec["layout"]["template"]["layout"]["paper_bgcolor"] == DARK_BACKGROUND, key
            assert config["toImageButtonOptions"]["scale"] >= 3, key
    assert any(link.endswith("?run=tiny-ce") for link in links(at.sidebar))


def test_projector_mode_breaks_a_long_axis_title_in_two_at_the_space_nearest_its_middle():
    import plotly.graph_objects as go

    from lab.figures.theme import styled, wrapped

    assert wrapped("mean nearest-neighbour angle of the hidden neurons (degrees)") == \
        "mean nearest-neighbour angle of<br>the hidden neurons (degrees)"
    assert wrapped("epoch") == "epoch" and wrapped(None) is None
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1])).update_layout(yaxis_title="a" * 20 + " " + "b" * 20)
    assert styled(fig, projector=True).layout.yaxis.title.text == "a" * 20 + "<br>" + "b" * 20
    assert styled(fig).layout.yaxis.title.text == "a" * 20 + " " + "b" * 20 and fig.layout.yaxis.title.text.count(" ") == 1


def test_the_first_page_preloads_the_chart_library_out_of_sight_and_no_page_run_starts_the_warm_ups(app, monkeypatch):
    def preloads(node) -> list[str]:
        return [e.key for e in node.get("bidi_component") if e.proto.component_name == "reglab_plot_preload"]

    started = []
    monkeypatch.setattr(ui.warm, "warm_ups", lambda: started.append(1))  # the first page is drawn without them
    at = app()  # Home, the session's first run: no chart of its own; the browser starts the library when idle
    assert preloads(at.sidebar) == ["reglab-plot-preload"] and not plots(at) and not at.exception and not started
    time.sleep(ui.widgets.AFTER_FIRST_PAGE_S)
    at.switch_page(ui.nav.path("similarity")).run()  # AppTest fires no timers, and a page's own run (a Train
    assert preloads(at.sidebar) == ["reglab-plot-preload"] and not started  # press) never pays the warm-ups
    # (the tick's, started in a real browser: tests/test_browser.py)


def test_projector_mode_breaks_a_long_title_with_room_for_its_second_line_and_drops_a_legend_under_the_axis_title():
    from lab.figures.grid import BELOW
    from lab.figures.theme import TITLE_CHARS

    title = "hidden_1, epoch 20: intra 0.90, inter 0.57"
    assert len(title) > TITLE_CHARS
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]), layout=dict(title=title, legend=BELOW))
    big, short = styled(fig, projector=True), styled(go.Figure(fig).update_layout(title="loss"), projector=True)
    assert big.layout.title.text == "hidden_1, epoch 20:<br>intra 0.90, inter 0.57"
    assert big.layout.margin.t > short.layout.margin.t
    assert big.layout.legend.y == 2 * BELOW["y"] and styled(fig).layout.legend.y == BELOW["y"]
    assert styled(fig).layout.title.text == title
    assert big.layout.height > 450 and styled(fig).layout.height is None  # the larger text gets room


def test_projector_mode_draws_figures_otherwise_side_by_side_one_above_the_other(app):
    at = app("tiny-ce")
    pages = ("similarity", "hypersphere", "embeddings", "runs")
    for page in pages:
        at.switch_page(ui.nav.path(page)).run()
        side = [c for c in at.main.columns if plots(c)]  # columns that hold figures
        assert len(side) >= 2 and not at.exception, page
    at.toggle(key=f"{ui.widgets.PROJECTOR_KEY}.toggle").set_value(True).run()
    for page in pages:
        at.switch_page(ui.nav.path(page)).run()
        assert not [c for c in at.main.columns if plots(c)] and not at.exception, page
        assert len([c for c in plots(at.main)]) >= 2, page


def test_projector_mode_scales_subplot_titles_and_a_row_names_its_y_axis_once():
    from lab.figures.grid import grid

    def panel(y_title: str) -> go.Figure:
        return go.Figure(go.Scatter(x=[0, 1], y=[0, 1])).update_layout(xaxis_title="PC 1", yaxis_title=y_title)

    fig = grid([panel("PC 2"), panel("PC 2"), panel("other")], titles=["ce", "phantom", "x"], cols=3, shared=False)
    assert [fig.layout[f"yaxis{i}"].title.text for i in ("", "2", "3")] == ["PC 2", None, "other"]
    size = fig.layout.annotations[0].font.size
    big = [round(min(size, FONT) * PROJECTOR)] * 3  # never above the text: 26 px panel titles ran into each other
    assert [a.font.size for a in styled(fig, projector=True).layout.annotations] == big
    assert [a.font.size for a in styled(fig).layout.annotations] == [size] * 3
