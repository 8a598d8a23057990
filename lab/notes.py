"""Teaching notes per method and view, read from `assets/notes.toml` (data, not code): what a
method is expected to do on the Train page and on each view page. Adding a method needs one
table in that file and no page edit."""
from __future__ import annotations

import functools
import tomllib
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
VIEWS = ("train", "embeddings", "hypersphere", "similarity", "information")


@functools.cache
def notes() -> dict[str, dict[str, str]]:
    """{method or "default": {view: markdown}} from assets/notes.toml (read once)."""
    return tomllib.loads((ASSETS / "notes.toml").read_text())


def note(method: str, view: str) -> str:
    """What `method` is expected to do on `view`: its own note, else the default note of the view,
    else the general default ("{method}" replaced by the method's name)."""
    own, default = notes().get(method, {}), notes()["default"]
    return own.get(view) or default.get(view, default["any"]).replace("{method}", method)
