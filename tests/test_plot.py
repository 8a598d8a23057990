"""`ui.plot`: the plotly.js bundles it serves."""
import re

import ui.plot


def test_the_cartesian_bundle_is_the_plotly_packages_plotly_js_version_and_both_are_served():
    def version(path) -> str:
        return re.search(r"plotly\.js(?: \(cartesian - minified\))? v(\S+)", path.read_text()[:300]).group(1)

    full, cartesian = (ui.plot.SOURCES[n] for n in ("plotly.min.js", "plotly-cartesian.min.js"))
    assert version(full) == version(cartesian)
    ui.plot.install_scripts()
    assert all((ui.plot.STATIC / name).stat().st_size == source.stat().st_size for name, source in ui.plot.SOURCES.items())
    assert set(ui.plot.URLS.values()) == {f"app/static/{name}" for name in ui.plot.SOURCES}


def test_a_2d_figure_loads_only_the_cartesian_bundle_and_a_3d_one_the_full_bundle_in_a_real_browser(tmp_path):
    from serve import browser, idle, served

    from lab.config import RunConfig
    from lab.train import train

    train(RunConfig(data="digits", epochs=2, train_size=200, probe_size=100, name="tiny"), runs=tmp_path / "runs")
    types = "(document.querySelector('.st-key-sphere-points .reglab-plot')._fullData || []).map(t => t.type).join()"
    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        fetched = []
        page.on("request", lambda r: fetched.append(r.url.rsplit("/", 1)[-1]) if "plotly" in r.url else None)
        page.goto(f"{url}/hypersphere?run=tiny")
        page.wait_for_selector('[data-testid="stMain"] .js-plotly-plot', timeout=60_000)
        idle(page, 60_000)
        assert fetched == ["plotly-cartesian.min.js"] and page.evaluate(types) == "scatter,scatter"  # the flat map
        page.locator(".st-key-sphere-shape").get_by_text("3-D").click()
        page.wait_for_selector('[data-testid="stMain"] .gl-container canvas', timeout=60_000)
        idle(page, 60_000)
        assert fetched == ["plotly-cartesian.min.js", "plotly.min.js"] and page.evaluate(types) == "surface,scatter3d"
        page.locator(".st-key-sphere-shape").get_by_text("map").click()  # the same element, redrawn by the other
        page.wait_for_function(f"() => ({types}) === 'scatter,scatter'", timeout=60_000)
        assert "did not load" not in page.inner_text("body")


def test_home_preloads_the_cartesian_bundle_and_its_tick_starts_the_servers_warm_ups_in_a_real_browser(tmp_path):
    from pathlib import Path

    from serve import PLOT, browser, served

    def torch_loaded(pid: int) -> bool:
        return "libtorch_cpu" in Path(f"/proc/{pid}/maps").read_text()

    with served(tmp_path / "runs") as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        fetched = []
        page.on("request", lambda r: fetched.append(r.url.rsplit("/", 1)[-1]) if "plotly" in r.url else None)
        page.goto(url)
        page.get_by_role("heading", name="RegLab").wait_for(timeout=60_000)
        assert not torch_loaded(url.pid)  # Home's own run imports no torch; the tick comes 1 s later, then 1 s quiet
        page.wait_for_function("() => window.reglabPreloaded === true", timeout=60_000)
        assert fetched == ["plotly-cartesian.min.js"] and page.locator(PLOT).count() == 0  # no figure asked for it
        for _ in range(600):  # the training warm-up, started by the sidebar's tick, imports torch in the server
            if torch_loaded(url.pid):
                break
            page.wait_for_timeout(100)
        assert torch_loaded(url.pid)
