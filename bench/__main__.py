"""`python -m bench [--quick]`: every benchmark in one process, one table of ratios.

Writes bench/results.md (the table, pasted into the README's performance section) and
bench/results.json (keys engine_overhead, engine_overhead_app, epoch_with_measurement_ratio,
step_ratio{method: ratio}, first_point_s, app_start_s, view_first_draw_s{page: s}, epoch_step_s,
player_fps, lesson_fps, lesson_painted, umap_cold_s, umap_first_ever_s, umap_compiled_s, tsne_cold_ratio, tsne_warm_ratio, tsne_threads,
tsne_quality, cached_view_s, geometry_s, geometry_probe_s, machine). With a GPU present
the training figures (engine, step ratios) are measured on it as well, under "cuda".
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from bench.app import app_bench
from bench.cold import cold_bench
from bench.embed import embed_bench
from bench.engine import engine_overhead
from bench.geometry import GOAL_S as GEOMETRY_GOAL_S, geometry_bench
from bench.steps import GOALS, step_ratios

HERE = Path(__file__).parent


def python_loop_s() -> float:
    """Seconds this machine takes for 10^7 additions in a plain Python loop (best of 3): how fast
    one core runs Python, so that seconds measured on different machines can be told apart."""
    best = float("inf")
    for _ in range(3):
        t0, total = time.perf_counter(), 0
        for i in range(10**7):
            total += i
        best = min(best, time.perf_counter() - t0)
    return best


def collect(quick: bool) -> dict:
    """Run every benchmark; a benchmark that cannot run here records its reason instead of a number."""
    res: dict = {"machine": {"cores": os.cpu_count(), "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                             "python": platform.python_version(), "torch": torch.__version__,
                             "python_loop_s": python_loop_s()},
                 "quick": quick, "date": time.strftime("%Y-%m-%d %H:%M"), "load_average": [os.getloadavg()[0]]}
    res.update(engine_overhead(quick))
    res["step_ratio"] = step_ratios(quick)
    if torch.cuda.is_available():
        res["cuda"] = {"step_ratio": step_ratios(quick, device="cuda")}
    res.update(embed_bench(quick))
    res.update(geometry_bench(quick), geometry_date=res["date"])
    try:
        res.update(app_bench(quick))
        res.update(cold_bench(quick))
    except Exception as e:  # no browser on this machine: say so in the table
        res["app_error"] = f"{type(e).__name__}: {e}"
    res["load_average"].append(os.getloadavg()[0])  # other work on the machine, at the start and the end
    return res


def _row(name: str, value, bound: float | None = None, least: bool = False) -> str:
    """One table row: the value, the goal (value <= bound, or >= with `least`) and whether it is met."""
    v = "n/a" if value is None else f"{value:.3f}"
    goal = "" if bound is None else f"{'>=' if least else '<='} {bound:g}"
    met = "" if value is None or bound is None else ("yes" if (value >= bound if least else value <= bound) else "no")
    return f"| {name} | {v} | {goal} | {met} |"


def table(r: dict) -> str:
    m = r["machine"]
    lines = [f"Measured {r['date']} on {m['cores']} cores, {m['gpu'] or 'no GPU'}, torch {m['torch']}"
             + (f", a Python loop of 10^7 additions in {m['python_loop_s']:.2f} s" if "python_loop_s" in m else "")
             + (" (quick)" if r["quick"] else "")
             + (", load average {:.1f} at the start and {:.1f} at the end".format(*r["load_average"])
                if len(r.get("load_average", ())) == 2 else "") + ".", "",
             "| measurement | value | goal | met |", "| --- | --- | --- | --- |",
             _row("lab epoch / bare PyTorch loop (training span)", r["engine_overhead"], 1.15),
             _row("the same on the app's path (progress callback, stop check)", r["engine_overhead_app"], 1.15),
             _row("lab epoch incl. eval + snapshot + writes / bare (epoch_with_measurement_ratio)",
                  r["epoch_with_measurement_ratio"], 3.0)]
    for method, ratio in r["step_ratio"].items():
        lines.append(_row(f"step time {method} / ce", ratio, GOALS.get(method)))
    lines += [_row("t-SNE cold / scikit-learn TSNE (2,000 points, 1 thread each)", r.get("tsne_cold_ratio"), 0.5),
              _row("t-SNE warm-started per epoch / scikit-learn TSNE (1 thread each)", r.get("tsne_warm_ratio"), 0.15),
              _row("UMAP, numba already compiled (s)", r.get("umap_compiled_s")),
              _row("UMAP warm-started (s)", r.get("umap_warm_s")),
              _row("cached embedding re-view (s)", r.get("cached_view_s"), 0.2),
              _row("geometry of one snapshot, 2,000 points, MLP 256-256 (s, geometry_s"
                   + (f", measured {r['geometry_date']}" if r.get("geometry_date", r["date"]) != r["date"] else "") + ")",
                   r.get("geometry_s"), GEOMETRY_GOAL_S),
              _row("the same with the linear probe per layer (s, geometry_probe_s)", r.get("geometry_probe_s")),
              _row("Train click to first curve point in view (s, first_point_s)", r.get("first_point_s"), 1.0),
              _row("app open to first page drawn (s, app_start_s)", r.get("app_start_s"), 2.0),
              _row("first UMAP on a freshly started app, in the browser (s, umap_cold_s)", r.get("umap_cold_s"), 3.0),
              _row("the same with an empty numba cache: first UMAP after installing (s)", r.get("umap_first_ever_s")),
              _row("one epoch-player step (s, epoch_step_s)", r.get("epoch_step_s"), 0.3),
              _row("epoch player, frames per second (player_fps)", r.get("player_fps"), 4, least=True),
              _row("a lesson's first Play, epochs per second (lesson_fps)", r.get("lesson_fps"), 4, least=True),
              _row("share of the lesson's epochs that Play painted (lesson_painted)", r.get("lesson_painted"), 1,
                   least=True)]
    lines += [_row(f"first draw of {view} on a finished digits run, from its sidebar link (s)", seconds, 1.0)
              for view, seconds in r.get("view_first_draw_s", {}).items()]
    lines += ["", "The cold path, as a new user meets it (bench/cold.py: a fresh server each, the first press counted):",
              "", "| measurement | value | goal | met |", "| --- | --- | --- | --- |",
              _row("`streamlit run` to the first page drawn (s, cold_first_page_s)", r.get("cold_first_page_s"), 2.5),
              _row("the same for a Streamlit app that only draws the title: the floor (s, cold_first_page_bare_s)",
                   r.get("cold_first_page_bare_s")),
              _row("first Train press, as soon as Train is drawn, to a curve point (s, cold_first_point_s)",
                   r.get("cold_first_point_s"), 1.0),
              _row("`streamlit run` to the first UMAP map, empty numba cache (s, cold_first_umap_s)",
                   r.get("cold_first_umap_s"), 20.0),
              _row("first Play of a run nobody viewed, epochs per second (first_play_fps)", r.get("first_play_fps"), 4,
                   least=True),
              _row("share of that run's epochs the first Play painted (first_play_painted)", r.get("first_play_painted"), 1,
                   least=True)]
    if "class_tabs" in r:
        lines.append(f"\nA class at once: {r['class_tabs']} tabs on one server pressed the same lesson within "
                     f"{r['class_pressed_within_s']:.1f} s; every tab reached its verdict: "
                     f"{'yes' if r['class_all_verdicts'] else 'no'}; median {r['class_median_s']:.1f} s, slowest "
                     f"{r['class_slowest_s']:.1f} s; tabs showing an error: {r['class_tabs_with_error']}; the server's "
                     f"peak memory {r['class_peak_rss_mb']:.0f} MB. "
                     + (f"So one 2-core server serves a class of {r['class_tabs']} pressing at once, each waiting at most "
                        f"{r['class_slowest_s']:.0f} s for the verdict (larger classes were not measured)."
                        if r["class_all_verdicts"] and not r["class_tabs_with_error"] else
                        f"So one 2-core server did not serve {r['class_tabs']} students pressing at once."))
    if "tsne_quality" in r:
        q = r["tsne_quality"]
        lines.append("\nt-SNE map quality (2-D k-NN accuracy / trustworthiness): scikit-learn "
                     + ", lab cold ".join(f"{q[k]['knn']:.3f} / {q[k]['trustworthiness']:.4f}" for k in ("sklearn", "lab_cold"))
                     + f", lab warm-started {q['lab_warm']['knn']:.3f} / {q['lab_warm']['trustworthiness']:.4f}.")
    for key, reason in r.get("app_errors", {}).items():
        lines.append(f"\n{key} not measured: {reason}")
    if "app_error" in r:
        lines.append(f"\nApp timings not measured: {r['app_error']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about 12 minutes on 2 cores)")
    r = collect(parser.parse_args().quick)
    md = table(r)
    (HERE / "results.md").write_text(md)
    (HERE / "results.json").write_text(json.dumps(r, indent=1))
    print(md)


if __name__ == "__main__":
    main()
