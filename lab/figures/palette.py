"""The lab's one palette: a method keeps its colour in every chart (app, report, study), a seed
keeps its dash, and classes or layers cycle through the same colours."""
from __future__ import annotations

import colorsys
import hashlib

from plotly.colors import qualitative

COLORS = qualitative.Plotly  # 10 colours
MORE = ("#8C564B", "#E377C2", "#7F7F7F", "#BCBD22", "#17BECF", "#393B79", "#637939", "#8C6D31", "#843C39",
        "#7B4173")  # methods 11-20 (plotly's D3 and Vega darks), none of them one of COLORS
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
MATPLOTLIB_DASHES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-.", "longdash": (0, (8, 3)),
                     "longdashdot": (0, (8, 3, 1, 3))}


def color(i: int) -> str:
    """The i-th colour of the palette (cycles): classes, layers, curves of one run."""
    return COLORS[i % len(COLORS)]


def method_color(method: str) -> str:
    """The colour of `method` everywhere: the built-ins by their place in the registry (ce first),
    through `COLORS` then `MORE`; any other method (a plug-in, loaded in any order) a hue of its
    own from its name's hash, the same in every chart and session."""
    from lab.regularizers import REGISTRY

    built_in = [name for name, reg in REGISTRY.items() if reg.source is None]
    fixed = (*COLORS, *MORE)
    if method in built_in and built_in.index(method) < len(fixed):
        return fixed[built_in.index(method)]
    hue = int(hashlib.sha256(method.encode()).hexdigest()[:8], 16) / 2**32
    r, g, b = colorsys.hls_to_rgb(hue, 0.42, 0.75)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def dash(i: int) -> str:
    """The i-th dash style (solid first): one per seed, or per variant of one method."""
    return DASHES[i % len(DASHES)]


def seed_dashes(seeds) -> dict[int, str]:
    """{seed: dash}: the seeds of a chart in ascending order get the dashes in order, so a seed
    keeps its dash in every curve of that chart, whatever the method."""
    return {s: dash(i) for i, s in enumerate(sorted(set(seeds)))}
