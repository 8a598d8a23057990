"""The lab's one palette: a method keeps its colour in every chart (app, report, study), a seed
keeps its dash, and classes or layers cycle through the same colours."""
from __future__ import annotations

from plotly.colors import qualitative

COLORS = qualitative.Plotly  # 10 colours
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
MATPLOTLIB_DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-.", "longdash": (0, (8, 3)),
                     "longdashdot": (0, (8, 3, 1, 3))}


def color(i: int) -> str:
    """The i-th colour of the palette (cycles): classes, layers, curves of one run."""
    return COLORS[i % len(COLORS)]


def method_color(method: str) -> str:
    """The colour of `method` everywhere: its place in the registry (ce first), cycling."""
    from lab.regularizers import REGISTRY

    names = list(REGISTRY)
    return color(names.index(method) if method in names else len(names))


def dash(i: int) -> str:
    """The i-th dash style (solid first): one per seed, or per variant of one method."""
    return DASHES[i % len(DASHES)]


def seed_dashes(seeds) -> dict[int, str]:
    """{seed: dash}: the seeds of a chart in ascending order get the dashes in order, so a seed
    keeps its dash in every curve of that chart, whatever the method."""
    return {s: dash(i) for i, s in enumerate(sorted(set(seeds)))}
