"""Widgets and text shared by the pages: widgets generated from `Param` declarations, escaped
markdown, the "What am I looking at?" box, one-line errors, and a figure with its HTML download."""
from __future__ import annotations

import math
from functools import partial
from typing import Any, Sequence

import plotly.graph_objects as go
import streamlit as st

from lab.params import Choice, Flag, Interval, IntList, Param

_MD = "\\`*_{}[]<>()#+-.!|~$"


def esc(text: Any) -> str:
    """`text` safe inside st.markdown: every markdown and HTML character backslash-escaped."""
    return "".join("\\" + ch if ch in _MD else ch for ch in str(text))


def explain(text: str) -> None:
    """The "What am I looking at?" box of every page (markdown written by the page, not user input)."""
    with st.expander("What am I looking at?"):
        st.markdown(text)


def error(e: Exception | str) -> None:
    """A lab error as one escaped line (messages quote user input)."""
    st.error(esc(e))


def _step(value: float) -> float:
    return 10.0 ** math.floor(math.log10(abs(value))) if value else 0.1


def param_widget(p: Param, key: str, value: Any = None, label: str | None = None) -> Any:
    """One widget for one declared parameter: Interval -> number box, Choice -> select box, Flag ->
    checkbox, IntList and anything else -> text box. Returns the raw value; `lab.config.validate`
    checks it and its ConfigError (naming the field and its range) is what the page shows. Number
    boxes get no bounds: a bounded box would silently keep its last valid value instead."""
    c, value = p.constraint, p.default if value is None else value
    label, helptext = label or p.name.replace("_", " "), f"{p.help}; {c}"
    if isinstance(c, Flag):
        return st.checkbox(label, value=bool(value), key=key, help=helptext)
    if isinstance(c, Choice):
        options = list(c.options)
        return st.selectbox(label, options, index=options.index(value), key=key, help=helptext)
    if isinstance(c, Interval):
        if c.type is int:
            return st.number_input(label, value=int(value), step=1, key=key, help=helptext)
        return st.number_input(label, value=float(value), step=_step(value), format="%g", key=key, help=helptext)
    if isinstance(c, IntList):
        return st.text_input(label, ",".join(map(str, value)), key=key, help=helptext)
    return st.text_input(label, str(value), key=key, help=helptext)


def param_widgets(params: Sequence[Param], prefix: str, cols: int = 2) -> dict[str, Any]:
    """Widgets for a declaration list, laid out in `cols` columns; keys are `prefix.name`."""
    if not params:
        return {}
    columns, values = st.columns(cols), {}
    for i, p in enumerate(params):
        with columns[i % cols]:
            values[p.name] = param_widget(p, f"{prefix}.{p.name}")
    return values


def figure(fig: go.Figure, key: str, name: str | None = None) -> None:
    """A plotly figure and a button that downloads it as a standalone HTML file (built on click)."""
    st.plotly_chart(fig, key=key, width="stretch", config={"displaylogo": False})
    st.download_button("HTML", data=partial(_html, fig), file_name=f"{name or key}.html", mime="text/html",
                       key=f"{key}-html", on_click="ignore", icon=":material/download:",
                       help="Download this figure as a standalone HTML page")


def _html(fig: go.Figure) -> str:
    return fig.to_html(include_plotlyjs=True, full_html=True)
