"""A study's curves: per (data, model) the test accuracy of every variant and each measured
quantity over training, as mean ± std bands over seeds; Plotly JSON for the HTML report and
a matplotlib PNG for the repository. Colours and dashes come from `lab.figures.palette`: a
method keeps its colour, its variants differ by dash."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from lab.figures.palette import MATPLOTLIB_DASHES, dash, method_color


@dataclass
class Series:
    """Mean and sample std over seeds of one variant's curve (NaN where no seed has a value)."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: int  # seeds
    color: str
    dash: str
    shown: bool  # drawn at first; the others are one legend click away (HTML) or left out (PNG)


@dataclass
class Figure:
    key: str  # file-name part: accuracy or the quantity key
    title: str
    ytitle: str
    series: list[Series]


def band(curves: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std over curves of different lengths (None/missing = NaN)."""
    a = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for i, c in enumerate(curves):
        a[i, : len(c)] = [np.nan if v is None else v for v in c]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        std = np.nanstd(a, 0, ddof=1) if len(curves) > 1 else np.zeros(a.shape[1])
        return np.nanmean(a, 0), np.nan_to_num(std)


def figures(results: list[dict], measured: Mapping[str, tuple[str, tuple[str, ...]]],
            headline: Mapping[tuple[str, str], Mapping[str, str]]) -> dict[tuple[str, str], list[Figure]]:
    """Per (data, model): test accuracy of every variant, then each measured quantity
    ({key: (title, owner methods)}) for every method's headline variant ({method: variant}) and
    all variants of the quantity's owners. Shown at first: the headline variants; for a
    quantity, CE's and every variant of its owners (how it moves with lambda). `results`:
    {data, model, method, variant, test_acc: [...], quantities: {key: [...]}} per run."""
    grouped: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for r in results:
        grouped.setdefault((r["data"], r["model"]), {}).setdefault(r["variant"], []).append(r)
    out = {}
    for (d, m), variants in grouped.items():
        method = {name: rs[0]["method"] for name, rs in variants.items()}
        best = headline[(d, m)]
        shown_first = set(best.values())

        def series(name: str, key: str | None, shown: bool) -> Series:
            rs = variants[name]
            mean, std = band([r["test_acc"] if key is None else r["quantities"][key] for r in rs])
            siblings = [n for n in variants if method[n] == method[name]]
            return Series(name, np.arange(len(mean)) + (key is None), mean, std, len(rs), method_color(method[name]),
                          dash(siblings.index(name)), shown)

        figs = [Figure("accuracy", f"Test accuracy over training: {d} / {m}", "test accuracy",
                       [series(n, None, n in shown_first) for n in variants])]
        for key, (title, owners) in measured.items():
            if key in variants["ce"][0]["quantities"]:
                figs.append(Figure(key, f"{title[0].upper()}{title[1:]}: {d} / {m}", key, [
                    series(n, key, method[n] in owners or n == best["ce"])
                    for n in variants if n in shown_first or method[n] in owners]))
        out[(d, m)] = figs
    return out


def _rgba(color: str, alpha: float) -> str:
    return f"rgba({int(color[1:3], 16)}, {int(color[3:5], 16)}, {int(color[5:7], 16)}, {alpha})"


def plotly_json(fig: Figure) -> str:
    """The figure as Plotly JSON (its title is the page heading above it): per series a mean ± std
    band and the mean line, one legend entry for both."""
    import plotly.graph_objects as go

    from lab.figures.theme import white

    g = go.Figure()
    for s in fig.series:
        ok = np.isfinite(s.mean)
        x, lo, hi = s.x[ok], (s.mean - s.std)[ok], (s.mean + s.std)[ok]
        common = dict(legendgroup=s.label, visible=True if s.shown else "legendonly")
        g.add_scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", fillcolor=_rgba(s.color, 0.15),
                      mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False, **common)
        g.add_scatter(x=x, y=s.mean[ok], customdata=s.std[ok], name=f"{s.label} (n={s.n})", mode="lines",
                      line=dict(color=s.color, dash=s.dash), hovertemplate="%{y:.4g} ± %{customdata:.2g}", **common)
    white(g).update_layout(xaxis_title="epoch", yaxis_title=fig.ytitle, height=420,
                           margin=dict(t=20, r=20), legend=dict(font=dict(size=11)))
    return g.to_json()


def save_png(figs: list[Figure], path: Path, columns: int = 1) -> None:
    """The shown series of `figs` as mean lines with ±std bands, one panel per figure (matplotlib,
    Agg backend, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = -(-len(figs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.6 * rows), squeeze=False)
    for ax, f in zip(axes.flat, figs):
        for s in (s for s in f.series if s.shown):
            ok = np.isfinite(s.mean)
            ax.plot(s.x[ok], s.mean[ok], color=s.color, linestyle=MATPLOTLIB_DASHES[s.dash],
                    label=f"{s.label} (n={s.n})", linewidth=1.4)
            ax.fill_between(s.x[ok], (s.mean - s.std)[ok], (s.mean + s.std)[ok], color=s.color, alpha=0.15, linewidth=0)
        ax.set_title(f.title, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6 if columns > 1 else 7, ncol=1 if columns > 1 else 2)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(figs):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
