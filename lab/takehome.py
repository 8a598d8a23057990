"""Take a lesson or a page home: one standalone HTML page (`lab.html.Page`, plotly.js inlined: it
opens offline). `lesson_page`: a lesson's CE and method runs: the claim, how its settings were
chosen, the lines `python -m lab lesson` prints (passed in, so the page and the terminal read the
same), the lesson's quantity over epochs for every run, and its views of both runs of each seed
animated over epochs (plotly frames, a slider and Play). `player_page`: a view page or Compare:
its text, its runs' settings, its figures over training and its player's panels animated over
epochs, all playing together. Each page keeps as many epochs as hold it under `MAX_BYTES`."""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import plotly.graph_objects as go

from lab.declare import View
from lab.errors import LabError
from lab.figures.animate import animated
from lab.figures.grid import side_by_side
from lab.figures.theme import copied
from lab.figures.method import quantity_curves
from lab.figures.overlay import Line
from lab.html import Page, table
from lab.lessons import Lesson, provenance
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
    from lab.readout.quantities import quantity_series  # torch: only when a lesson page is built

    q = lesson.quantity
    lines = [Line(label(r), r.config.method, r.config.seed, quantity_series(r, r.config.method, epochs, q))
             for pair in pairs for epochs in [common_epochs(pair)] for r in pair]
    return quantity_curves(lines, q.key, q.label, title=quantity_title(lesson))


def view_figures(lesson: Lesson, pair: Pair, epochs: Sequence[int]) -> list[tuple[View, list[list[go.Figure]]]]:
    """Each of the lesson's views that both runs can draw: its figures of CE's run and of the
    method's run at `epochs` (a view's panels share axis ranges over both runs and every epoch
    when `View.shared`, so a difference between two pictures is one between runs or epochs)."""
    from lab import views  # torch: only when a lesson page is built
    from lab.readout.quantities import run_probe

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


def settings_table(runs: Sequence[RunRecord], heads: Sequence[str], skip: Sequence[str] = ("name",)) -> str:
    """A table of `runs`' settings, one column per run headed by `heads`, one row per setting
    (those in `skip` left out)."""
    configs = [r.config.to_dict() for r in runs]
    keys = [k for k in dict.fromkeys(k for c in configs for k in c) if k not in skip]
    return table(["setting", *heads], [[k, *(str(c.get(k, "")) for c in configs)] for k in keys])


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
    seeds = ", ".join(str(pair[0].config.seed) for pair in pairs)
    page.add(f"<h2>Settings of both runs</h2><p>Seeds: {seeds}.</p>",
             settings_table(pairs[0], ["ce", lesson.method], skip=("name", "seed")),
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
    return fitted(lambda frames: _html(head, lesson, quantity, shown, frames),
                  max(len(epochs) for _, epochs, _ in shown), max_bytes, "The lesson's page")


def fitted(render: Callable[[int], str], frames: int, max_bytes: int, what: str) -> str:
    """`render(n)`: the page with each animation at n evenly spaced epochs, for the largest n up to
    `frames` that keeps it within `max_bytes`; below `FEWEST_FRAMES` it is refused with a `LabError`
    naming `what`."""
    while True:
        html = render(frames)
        size = len(html.encode())
        if size <= max_bytes:
            return html
        if frames <= FEWEST_FRAMES:
            raise LabError(f"{what} would weigh {size / 1e6:.1f} MB with {frames} epochs per view, "
                           f"more than {max_bytes / 1e6:.1f} MB.")
        frames = max(FEWEST_FRAMES, min(frames - 1, int(frames * max_bytes / size)))


Shot = tuple[str | None, go.Figure | None]  # a panel at one epoch: its caption, its figure (None: caption only)
Frame = Sequence[tuple[str | None, Sequence[Shot]]]  # a player's frame at one epoch: its rows (heading, panels)


@dataclass
class Slot:
    """One panel position of a player across epochs: its caption (the latest epoch's) and its
    figure at each epoch that has one."""

    caption: str | None = None
    figures: dict[int, go.Figure] = field(default_factory=dict)


def slots(frames: Mapping[int, Frame]) -> list[tuple[str | None, list[Slot]]]:
    """`frames` (epoch -> the player's rows of panels) regrouped by position: each row's heading
    (the latest epoch's) and its panels, each across the epochs."""
    headings: list[str | None] = []
    rows: list[list[Slot]] = []
    for epoch in sorted(frames):
        for i, (heading, shots) in enumerate(frames[epoch]):
            if i == len(rows):
                headings.append(None)
                rows.append([])
            headings[i] = heading or headings[i]
            rows[i].extend(Slot() for _ in range(len(shots) - len(rows[i])))
            for slot, (caption, fig) in zip(rows[i], shots):
                slot.caption = caption or slot.caption
                if fig is not None:
                    slot.figures[epoch] = fig
    return list(zip(headings, rows))


def _same_traces(figs: list[go.Figure]) -> list[go.Figure]:
    """`figs`, those with fewer traces than the most given empty ones (`animated` needs as many in each)."""
    most = max(len(f.data) for f in figs)
    return [f if len(f.data) == most else copied(f).add_traces(
        [go.Scatter(x=[], y=[], showlegend=False, hoverinfo="skip")] * (most - len(f.data))) for f in figs]


def player_page(title: str, lines: Sequence[str], runs: Sequence[RunRecord], figures: Mapping[str, Any],
                frames: Mapping[int, Frame], max_bytes: int = MAX_BYTES) -> str:
    """The take-home page of an app page called `title` showing `runs`: its `lines` (the run ids
    and the page's settings), the runs' settings, `figures` (heading -> figure: the page's figures
    over training), then the player's `frames` (epoch -> rows of panels) with each panel position
    animated over the epochs, every panel moving with the one played or slid (`assets/report.js`:
    the figures inside one `.player`). At most as many epochs as `frames` has, fewer (evenly
    spaced, down to `FEWEST_FRAMES`) while the page weighs more than `max_bytes`."""
    if not frames:
        raise LabError(f"The page {title} has no epoch to show.")
    epochs, rows = sorted(frames), slots(frames)
    ids = ", ".join(r.id for r in runs)
    head = Page(f"RegLab: {title}").add(
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Exported from RegLab\'s {escape(title)} page. Runs: {escape(ids)}. Every number on '
        "this page is measured on these runs.</p>", *(f"<p>{escape(line)}</p>" for line in lines),
        "<h2>Settings</h2>", settings_table(runs, [r.id for r in runs]))
    for name, fig in figures.items():
        head.add(f"<h2>{escape(name)}</h2>").figure(fig)

    def render(n: int) -> str:
        shown = [epochs[i] for i in spaced(list(range(len(epochs))), n)]
        page = Page(head.title, list(head.parts), list(head.figures))
        page.add("<h2>Over epochs</h2>", f'<p class="note">Each panel at {len(shown)} of the {len(epochs)} epochs, '
                 "evenly spaced: press Play, or drag a slider; every panel follows.</p>", '<div class="player">')
        for heading, row in rows:
            page.add(*([f"<h3>{escape(heading)}</h3>"] if heading else []), '<div class="pair">')
            for slot in row:
                page.add('<div class="run">', *([f'<p class="note">{escape(slot.caption)}</p>'] if slot.caption else []))
                drawn = [e for e in shown if e in slot.figures]
                if drawn:
                    page.figure(animated(_same_traces([slot.figures[e] for e in drawn]), drawn))
                page.add("</div>")
            page.add("</div>")
        return page.add("</div>").html()

    return fitted(render, len(epochs), max_bytes, f"The page {title}")


def write(path: Path, html: str) -> int:
    """Write `html` to `path` (atomically, folders made) and return its bytes."""
    data = html.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
    return len(data)
