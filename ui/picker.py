"""The sidebar's run picker: this session's live runs, then the saved runs, each with a short label
that tells it apart; picking one opens it on every page. The link to the run shows on the pages that
show it."""
from __future__ import annotations

import re

import streamlit as st

from lab.config import RunConfig
from ui.runs import current_run, manager, open_run, owner, run_label, saved_runs
from ui.link import share_link


def picker_labels(shown: dict[str, RunConfig]) -> dict[str, str]:
    """Short labels that tell the runs apart: `run_label` with the options that differ between the
    shown runs of its method (no registry, so no torch, for the first page), the data set when the
    runs have several, then the time a generated id carries ("ce s0 · 14:31:05"; with the day when
    the runs span several) or a chosen name; the id's last 4 characters where two still agree."""
    stamps = {rid: m.groups() for rid in shown if (m := _ID_TIME.search(rid))}
    several_data = len({c.data_label for c in shown.values()}) > 1
    several_days = len({day for day, _ in stamps.values()}) > 1
    keys: dict[str, set[str]] = {}  # method: the options its shown runs record
    for cfg in shown.values():
        keys.setdefault(cfg.method, set()).update(cfg.method_params)
    values: dict[tuple[str, str], set[str]] = {}  # (method, option): the values its shown runs give it
    for cfg in shown.values():
        for k in keys[cfg.method]:
            values.setdefault((cfg.method, k), set()).add(repr(cfg.method_params.get(k, "unset")))
    out = {}
    for rid, cfg in shown.items():
        varying = [k for k in cfg.method_params if len(values[cfg.method, k]) > 1]
        parts = [run_label(cfg, options=varying)] + ([cfg.data_label] if several_data else [])
        if rid in stamps:
            day, clock = stamps[rid]
            parts.append(f"{day[4:]}/{day[2:4]} {clock[:2]}:{clock[2:4]}:{clock[4:]}" if several_days
                         else f"{clock[:2]}:{clock[2:4]}:{clock[4:]}")
        else:
            parts.append(rid)
        out[rid] = " · ".join(parts)
    twice = {label for label in out.values() if list(out.values()).count(label) > 1}
    return {rid: f"{label} · {rid[-4:]}" if label in twice else label for rid, label in out.items()}


_ID_TIME = re.compile(r"-(\d{6})-(\d{6})-[0-9a-f]{4}$")  # a generated id's yymmdd-hhmmss (lab.store.names)


def run_picker(link: bool = True) -> None:
    """Sidebar: this session's live runs, then the saved runs; picking one puts it in the URL.
    A page switch drops the URL's query, so the session's last run is put back. `link`: the link
    to the run, on pages that show it."""
    current = current_run() or st.session_state.get("_last_run")
    if current:
        open_run(current)
    mine = {v.id: v.config for v in manager().runs_of(owner())}
    shown = mine | {r.id: r.config for r in saved_runs() if r.id not in mine}
    options = list(shown)
    if current and current not in options:
        options.insert(0, current)
    if not options:
        st.sidebar.caption("No runs yet: train one on the Train page.")
        return
    st.session_state["_picker"] = current if current in options else None

    def picked() -> None:
        if st.session_state["_picker"]:
            open_run(st.session_state["_picker"])

    labels = picker_labels(shown)
    st.sidebar.selectbox("Run", options, key="_picker", index=None, placeholder="pick a run",
                         format_func=lambda r: labels.get(r, r),
                         on_change=picked,
                         help="Your live runs first, then every saved run. The run is shown on each page.")
    if current and link:
        with st.sidebar:
            share_link({"run": current}, "Link to this run")
