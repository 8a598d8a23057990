"""Teaching notes per method and view, read from `assets/notes.toml` (data, not code): what a
method is expected to do on the Train page, on each view page and in each of its own views.
Adding a method needs one table in that file and no page edit; a plug-in may declare its notes
instead (`Regularizer.notes`, and a `View`'s own `note`), read first."""
from __future__ import annotations

import functools
import math
import tomllib
from typing import Sequence

from lab.paths import ASSETS

@functools.cache
def notes() -> dict[str, dict[str, str]]:
    """{method or "default": {view: markdown}} from assets/notes.toml (read once)."""
    return tomllib.loads((ASSETS / "notes.toml").read_text())


def note(method: str, view: str) -> str:
    """What `method` is expected to do on `view`: its own note (a loaded method's declared `notes`
    or a view's `note`, then its table in notes.toml), else the default note of the view, else the
    general default ("{method}" replaced by the method's name)."""
    import sys

    registry = getattr(sys.modules.get("lab.regularizers"), "REGISTRY", {})  # loaded: a plug-in's own notes
    reg = registry.get(method)
    declared = {**{v.key: v.note for v in (reg.views if reg else ()) if not isinstance(v, str) and v.note},
                **(reg.notes if reg else {})}
    own, default = {**notes().get(method, {}), **declared}, notes()["default"]
    return own.get(view) or default.get(view, default["any"]).replace("{method}", method)


def in_this_run(what: str, epochs: Sequence[int], values: Sequence[float], radians: bool = False) -> str:
    """"In this run the <what> rose from A (epoch a) to B (epoch b)." from the first and last
    finite values of the series drawn beside it (`radians`: angles, written in degrees), so an
    expectation note never stands alone against what the run on screen did ("stayed at" when
    both read the same)."""
    shown = [(e, float(v)) for e, v in zip(epochs, values) if math.isfinite(v)]
    if not shown:
        return f"In this run the {what} has no finite value to show."
    (e0, a), (e1, b) = shown[0], shown[-1]
    fa, fb = (f"{math.degrees(x):.1f}°" if radians else f"{x:.3g}" for x in (a, b))
    if fa == fb:
        return f"In this run the {what} stayed at {fa} from epoch {e0} to epoch {e1}."
    return f"In this run the {what} {'rose' if b > a else 'fell'} from {fa} (epoch {e0}) to {fb} (epoch {e1})."
