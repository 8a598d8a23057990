"""The one writer of standalone HTML reports (`python -m lab report`, `python -m lab study`):
a page with the CSS and JS of `assets/report.css` and `assets/report.js`, plotly.js inlined
once, gzipped and base64-encoded (offline, a few MB less; the browser decompresses it), and
each figure as Plotly JSON in a script tag that the loader draws."""
from __future__ import annotations

import base64
import functools
import gzip
import json
from dataclasses import dataclass, field
from html import escape
from typing import Any, Sequence

from lab.paths import ASSETS


@functools.cache
def plotly_js_gz_b64() -> str:
    """plotly.js of the installed plotly package, gzipped (deterministically) and base64-encoded."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), mtime=0)).decode()


def _script_json(text: str) -> str:
    """JSON made safe inside a <script> element."""
    return text.replace("</", "<\\/")


@dataclass
class Page:
    """An HTML page built in reading order: `add` fragments, `figure` Plotly figures, then `html()`."""

    title: str
    parts: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # Plotly JSON, one per figure div

    def add(self, *fragments: str) -> Page:
        self.parts.extend(fragments)
        return self

    def figure(self, fig: Any) -> Page:
        """A Plotly figure (a go.Figure, a figure dict or its JSON text) drawn here."""
        self.parts.append(f'<div class="figure" id="fig-{len(self.figures)}"></div>')
        import plotly.io as pio

        self.figures.append(fig if isinstance(fig, str) else pio.to_json(fig, validate=False))
        return self

    def html(self) -> str:
        data = "\n".join(f'<script type="application/json" data-figure="fig-{i}">{_script_json(f)}</script>'
                         for i, f in enumerate(self.figures))
        return ("<!doctype html><html><head><meta charset=utf-8>"
                f"<title>{escape(self.title)}</title><style>{(ASSETS / 'report.css').read_text()}</style></head><body>\n"
                + "\n".join(self.parts) + "\n" + data
                + f'\n<script id="plotly-gz" type="application/octet-stream">{plotly_js_gz_b64()}</script>'
                + f"\n<script>{(ASSETS / 'report.js').read_text()}</script></body></html>")


def figures_page(title: str, figures: dict[str, Any]) -> str:
    """One standalone page of named figures (each under its name as a heading) sharing one plotly.js."""
    page = Page(title).add(f"<h1>{escape(title)}</h1>")
    for name, fig in figures.items():
        page.add(f"<h2>{escape(name)}</h2>").figure(fig)
    return page.html()

def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table of text cells (escaped)."""
    return ("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def records_table(rows: list[dict]) -> str:
    """An HTML table with the union of the rows' keys as columns (floats to 4 significant
    digits, dicts and lists as JSON)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return escape(json.dumps(v) if isinstance(v, (dict, list, tuple)) else str("" if v is None else v))

    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f'<table class="records"><tr>{head}</tr>{body}</table>'
