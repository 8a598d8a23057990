"""The app's plug-in methods (README, "Your own regularizer"): the files named by
`REGLAB_PLUGINS`, a `plugins/` folder beside the runs and installed entry points, loaded once per
server (and again when a file changes); a saved run's own plug-in file is loaded when the run is
opened. Only what the person who started the server named is ever imported."""
from __future__ import annotations

import functools
import importlib.metadata
import os

import streamlit as st

from lab.store import runs_root


def _stamp(paths) -> tuple:
    """What the loaded set depends on: each file's path and modification time."""
    files = [f for p in paths for f in (sorted(p.glob("*.py")) if p.is_dir() else [p])]
    return tuple((str(f), f.stat().st_mtime_ns if f.exists() else None) for f in files)


@st.cache_resource(max_entries=4, show_spinner=False)
def _discovered(stamp: tuple, paths: tuple) -> tuple[list[str], list[str]]:
    from lab.regularizers.plugins import discover

    return discover(paths)


def load() -> list[str]:
    """Load the app's plug-ins (once per change of their files) and show each refusal in one line;
    the names loaded."""
    from lab.regularizers.plugins import app_plugin_paths

    paths = tuple(app_plugin_paths(runs_root(None)))
    names, errors = _discovered(_stamp(paths), paths)
    for e in errors:
        st.warning(e, icon=":material/extension_off:")
    return names


@functools.cache
def _installed() -> bool:
    """Whether a package offers plug-ins (entry points of the group `reglab.regularizers`)."""
    return bool(importlib.metadata.entry_points(group="reglab.regularizers"))


def configured() -> bool:
    """Whether this server has plug-ins to load (so pages that list no method need not import torch
    otherwise): `REGLAB_PLUGINS`, a plugins/ folder beside the runs, or an installed entry point."""
    return (bool(os.environ.get("REGLAB_PLUGINS")) or (runs_root(None).resolve().parent / "plugins").is_dir()
            or _installed())


def for_run(config) -> None:
    """Load the plug-in a saved run was trained with; one line when its file is missing or changed."""
    if not config.plugin:
        return
    from lab.regularizers.plugins import for_run as load_for_run

    _, problem = load_for_run(config.plugin, config.method)
    if problem:
        st.warning(f"{problem} Its snapshots stay viewable.", icon=":material/extension_off:")
