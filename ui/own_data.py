"""Your own data on a page: an upload (checked, then stored once beside the runs) or an upload
stored before, either of which fills the data set's path box; and one line on what the file holds
(or why it cannot be read). Shared by Train and Compare."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lab.data import DATASETS, FILE_KINDS, read_file
from lab.data.uploads import KIND_SUFFIXES, store, stored, uploads_folder
from lab.errors import LabError
from ui import runs, widgets


def _options(prefix: str, kind: str) -> dict:
    """The kind's options as its widgets (keys `prefix.name`) hold them, but the path and the split."""
    return {p.name: st.session_state.get(f"{prefix}.{p.name}", p.default) for p in DATASETS[kind].params
            if p.name not in ("path", "test_fraction")}


def _stored(kind: str, prefix: str, cap: int) -> None:
    """The uploader's callback: store the new upload and point the path box at it."""
    s, upload = st.session_state, st.session_state.get(f"{prefix}.upload")
    if upload is None:
        return
    options = _options(prefix, kind)
    try:
        path = store(upload.name, upload.getvalue(), uploads_folder(runs.root()),
                     lambda k, p: read_file(k, str(p), **options), cap)
    except LabError as e:
        s[f"{prefix}._error"] = f"{e}"
    else:
        s[f"{prefix}.path"] = str(path)


def _picked(prefix: str) -> None:
    if (chosen := st.session_state.get(f"{prefix}.stored")) is not None:
        st.session_state[f"{prefix}.path"] = str(chosen)


def picker(kind: str, prefix: str) -> None:
    """Above the path box of `kind` (one of `FILE_KINDS`): the upload and the earlier uploads."""
    if kind not in FILE_KINDS:
        return
    cap = widgets.upload_cap_mb()
    types = [t.lstrip(".") for t in KIND_SUFFIXES[kind]]
    st.file_uploader(f"Upload a file ({', '.join(types)}{', an image folder zipped' if kind == 'images' else ''}; "
                     f"at most {cap} MB)", type=types, key=f"{prefix}.upload", on_change=_stored,
                     args=(kind, prefix, cap), help="checked as a training run would read it, then kept in "
                                                    f"{uploads_folder(runs.root())} under a name made of its content's "
                                                    "hash: the same file is stored once")
    earlier = stored(uploads_folder(runs.root()), kind)
    if earlier:
        st.selectbox("or a file uploaded before", earlier, index=None, key=f"{prefix}.stored", on_change=_picked,
                     args=(prefix,), format_func=lambda p: p.name, placeholder="pick one")
    if problem := st.session_state.pop(f"{prefix}._error", None):
        widgets.error(problem)


def what_was_read(kind: str, prefix: str) -> None:
    """Below the path box: one line on what the file holds, or why the lab cannot read it."""
    if kind not in FILE_KINDS:
        return
    path = str(st.session_state.get(f"{prefix}.path", ""))
    try:
        st.caption(read_file(kind, str(Path(path).expanduser()), **_options(prefix, kind))[1])
    except (LabError, ValueError, TypeError) as e:
        widgets.error(e)
