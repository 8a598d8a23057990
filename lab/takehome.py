"""Take a lesson home: one standalone HTML page (`lab.html.Page`, plotly.js inlined: it opens
offline) of a lesson's CE and method runs: the claim, how its settings were chosen, the lines
`python -m lab lesson` prints (passed in, so the page and the terminal read the same), the
lesson's quantity over epochs for every run, and its views of both runs of each seed animated
over epochs (plotly frames, a slider and Play), with as many epochs as keep the page under
`MAX_BYTES`."""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Sequence

import plotly.graph_objects as go

from lab import views
from lab.declare import View
from lab.errors import LabError
from lab.figures.animate import animated
from lab.figures.grid import side_by_side
from lab.figures.method import quantity_curves
from lab.figures.overlay import Line
from lab.html import Page, table
from lab.lessons import Lesson, provenance
from lab.readout.quantities import quantity_series, run_probe
from lab.readout.series import readable_epochs, spaced
from lab.store import RunRecord, atomic_write, load_snapshot

MAX_BYTES = 8_000_000  # the most a written page may weigh
MOST_FRAMES = 31  # epochs animated per view at most; fewer when the page would pass MAX_BYTES
FEWEST_FRAMES = 2  # below this a view is no longer animated: the page is refused instead
Pair = tuple[RunRecord, RunRecord]  # a lesson's CE run and its method's run with the same seed


def common_epochs(pair: Pair) -> list[int]:
    """The snapshot epochs that both runs of `pair` can draw (`readable_epochs`), ascending."""
    first, second = (set(readable_epochs(r).epochs) for r in pair)
    return sorted(first & second)


def label(run: RunRecord) -> str:
    """A run as the page's legends name it: "mhe s0"."""
    return f"{run.config.method} s{run.config.seed}"


def quantity_title(lesson: Lesson) -> str:
    """The title of the lesson's quantity curves: "Mean nearest-neighbour angle…: ce and mhe"."""
    q = lesson.quantity.title
    return f"{q[:1].upper()}{q[1:]}: ce and {lesson.method}"


def quantity_figure(lesson: Lesson, pairs: Sequence[Pair]) -> go.Figure:
    """The lesson's quantity at every epoch both runs of a seed can draw, one line per run."""
    q = lesson.quantity
    lines = [Line(label(r), r.config.method, r.config.seed, quantity_series(r, r.config.method, epochs, q))
             for pair in pairs for epochs in [common_epochs(pair)] for r in pair]
    return quantity_curves(lines, q.key, q.label, title=quantity_title(lesson))


def view_figures(lesson: Lesson, pair: Pair, epochs: Sequence[int]) -> list[tuple[View, list[list[go.Figure]]]]:
    """Each of the lesson's views that both runs can draw: its figures of CE's run and of the
    method's run at `epochs` (a view's panels share axis ranges over both runs and every epoch
    when `View.shared`, so a difference between two pictures is one between runs or epochs)."""
    probes = [run_probe(r) for r in pair]
    snapshots = [[load_snapshot(r, e) for e in epochs] for r in pair]
    out = []
    for key in lesson.views:
        view = views.view(key, lesson.method)
        if not all(views.available(view, p) for p in probes):
            continue
        figs = side_by_side([views.build(view, s, p, e) for p, snaps in zip(probes, snapshots)
                             for s, e in zip(snaps, epochs)], shared=view.shared)
        out.append((view, [figs[:len(epochs)], figs[len(epochs):]]))
    return out


def _head(lesson: Lesson, pairs: Sequence[Pair], lines: Sequence[str], tuned: bool) -> Page:
    """The page up to the verdict: title, where it comes from, claim, settings, the printed lines."""
    ids = ", ".join(r.id for pair in pairs for r in pair)
    page = Page(f"RegLab lesson: {lesson.title}").add(
        f"<h1>{escape(lesson.title)}</h1>",
        f'<p class="note">Exported from RegLab. Runs: {escape(ids)}. Every number on this page is measured on '
        "these runs.</p>",
        f"<h2>The paper's claim</h2><p>{escape(lesson.claim)}</p>",
        f"<p><b>What to look at.</b> {escape(lesson.look)}</p>")
    if tuned:
        page.add("<h2>How the settings were chosen</h2>", *(f"<p>{escape(p)}</p>" for p in provenance(lesson)))
    first, second = (r.config.to_dict() for r in pairs[0])
    rows = [[k, str(first[k]), str(second[k])] for k in first if k not in ("name", "seed")]
    seeds = ", ".join(str(pair[0].config.seed) for pair in pairs)
    page.add(f"<h2>Settings of both runs</h2><p>Seeds: {seeds}.</p>",
             table(["setting", "ce", lesson.method], rows),
             "<h2>Verdict</h2>", f'<pre class="lines">{escape(chr(10).join(lines))}</pre>')
    return page


def _html(head: Page, lesson: Lesson, quantity: go.Figure, shown: list[tuple[Pair, list[int], list]],
          frames: int) -> str:
    """`head`'s page (copied) with the quantity curves, then each seed's views at `frames` of the
    built epochs, evenly spaced."""
    page = Page(head.title, list(head.parts), list(head.figures))
    page.add(f"<h2>{escape(quantity_title(lesson))}</h2>").figure(quantity)
    for pair, epochs, built in shown:
        seed = pair[0].config.seed
        if not built:
            page.add(f"<h2>Views, seed {seed}</h2><p>None of the lesson's views can be drawn for both runs.</p>")
            continue
        index = spaced(list(range(len(epochs))), frames)
        page.add(f"<h2>Views, seed {seed}</h2><p class=\"note\">Each view at {len(index)} of the {len(epochs)} "
                 "epochs both runs saved, evenly spaced: press Play, or drag the slider.</p>")
        for view, per_run in built:
            page.add(f"<h3>{escape(view.title)}</h3>", '<div class="pair">')
            for run, figs in zip(pair, per_run):
                page.add(f'<div class="run"><p class="note">{escape(label(run))} ({escape(run.id)})</p>')
                page.figure(animated([figs[i] for i in index], [epochs[i] for i in index])).add("</div>")
            page.add("</div>")
    return page.html()


def lesson_page(lesson: Lesson, pairs: Sequence[Pair], lines: Sequence[str], tuned: bool = True,
                max_bytes: int = MAX_BYTES) -> str:
    """The take-home page of `pairs` (CE and method runs, one pair per seed) quoting `lines`;
    `tuned`: the lesson's own settings, so the page says how they were chosen. Each view is
    animated over at most `MOST_FRAMES` epochs, fewer (down to `FEWEST_FRAMES`) while the page
    weighs more than `max_bytes`; past that it is refused with a `LabError`."""
    if not pairs:
        raise LabError("A lesson's page needs at least one pair of runs.")
    shown: list[tuple[Pair, list[int], Any]] = []
    for pair in pairs:
        epochs = spaced(common_epochs(pair), MOST_FRAMES)
        shown.append((pair, epochs, view_figures(lesson, pair, epochs) if epochs else []))
    head, quantity = _head(lesson, pairs, lines, tuned), quantity_figure(lesson, pairs)
    frames = max(len(epochs) for _, epochs, _ in shown)
    while True:
        html = _html(head, lesson, quantity, shown, frames)
        size = len(html.encode())
        if size <= max_bytes:
            return html
        if frames <= FEWEST_FRAMES:
            raise LabError(f"The lesson's page would weigh {size / 1e6:.1f} MB with {frames} epochs per view, "
                           f"more than {max_bytes / 1e6:.1f} MB.")
        frames = max(FEWEST_FRAMES, min(frames - 1, int(frames * max_bytes / size)))


def write(path: Path, html: str) -> int:
    """Write `html` to `path` (atomically, folders made) and return its bytes."""
    data = html.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
    return len(data)
