"""`python -m lab readme [--check]`: the README's sections that quote generated numbers, written
from the generated outputs so that they cannot drift.

A region of README.md between `<!-- generated: NAME -->` and `<!-- end: NAME -->` is rewritten:
`results` (each study's table of every method's headline variant, from
`docs/study/<study>/results.csv` through `lab.study.summary`), `methods` (one line per seed
method: its own quantity against CE's and its paired accuracy difference, with verdict words
derived from the numbers by the rules stated in the text) and `bench` (`bench/results.md` and
`bench/results.json`). `--check` writes nothing and exits 1 when README.md differs.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np

from lab.declare import REFERENCE
from lab.errors import ConfigError
from lab.stats import SIGNIFICANT, verdict
from lab.study.spec import load_study
from lab.study.summary import (COLLAPSE, TABLE_HEAD, baselines, cells, headline, markdown_table, method_note, p_text, read_csv,
                               tables)

ROOT = Path(__file__).resolve().parents[2]
REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end: (?P=name) -->)", re.S)
BASELINES = "lab.regularizers.baselines"  # the module of the reference methods (ce, weight_decay, ...)
GAIN = ("significant gain", "significant loss")
BARELY = 0.01  # relative change of a quantity below which it "barely moves"


def studies(root: Path = ROOT) -> list[str]:
    """The studies with generated results under `docs/study/`."""
    return sorted(p.parent.name for p in (root / "docs" / "study").glob("*/results.csv")
                  if (root / "studies" / f"{p.parent.name}.toml").is_file())


def _results(root: Path, name: str) -> tuple[str, list[dict]]:
    """The study's description (from its study file) and the rows of its results.csv."""
    return (load_study(str(root / "studies" / f"{name}.toml")).description,
            read_csv(root / "docs" / "study" / name / "results.csv"))


def _headline_rows(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Per (data, model): the table rows (`tables`) of each method's headline variant."""
    best = headline(rows)
    return {key: [t for t in ts if best[key][t["method"]] == t["variant"]] for key, ts in tables(rows).items()}


def _prose(text: str) -> str:
    return textwrap.fill(text, 100, break_on_hyphens=False)


def results_region(root: Path = ROOT) -> str:
    """Per study and (data, model): the table rows of each method's headline variant, and the figures."""
    lines = [_prose("Each method is shown with one variant (λ, swept option): the one its study chose, as said "
                    "below each study; every variant, and the evidence of the choice, is in the study's "
                    "`results.md`."), ""]
    for name in studies(root):
        description, rows = _results(root, name)
        lines += [_prose(f"**{name}** (`studies/{name}.toml`): {description} {method_note(rows)}"), ""]
        published = baselines(rows)
        for (d, m), ts in _headline_rows(rows).items():
            lines += [f"{d} / {m}:" + (f" {published[(d, m)]}" if (d, m) in published else ""), "",
                      *markdown_table(TABLE_HEAD, [cells(t) for t in ts]), ""]
        lines += [f"![{name}: {p.stem}]({p.relative_to(root).as_posix()})"
                  for p in sorted((root / "docs" / "study" / name).glob("*.png"))] + [""]
    return "\n".join(lines)


def quantity_verdict(value: float, ce: float, working: str) -> str:
    """How a method's own quantity compares with CE's, given the direction the method works in."""
    if not np.isfinite(value):
        return "not measured (no finite value)"
    change = (value - ce) / abs(ce) if ce else value - ce
    if abs(change) < BARELY:
        return "barely moves"
    return "moves as intended" if (change < 0) == (working == "lower") else "moves against its aim"


def _num(x: float) -> str:
    """4 significant digits; whole numbers with thousands separators from 1,000 on."""
    if not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _clause(data: str, model: str, t: dict, working: str) -> str:
    p = t["paired"]
    return (f"{data} / {model}, {t['variant']}: {_num(t['quantity_mean'])} vs CE's {_num(t['ce_quantity'])} "
            f"({quantity_verdict(t['quantity_mean'], t['ce_quantity'], working)}); accuracy Δ {p['diff']}, "
            f"{p['wins']}/{p['ties']}/{p['losses']} wins/ties/losses, p = {p_text(p['t_p'])} "
            f"(Holm {p_text(p['holm_p'])}): {verdict(p['mean'], p['holm_p'], p['n'], GAIN)}"
            + (f"; collapsed on {t['collapsed']} of {p['n']} seeds" if t["collapsed"] else ""))


def methods_region(root: Path = ROOT) -> str:
    """One line per seed method over every study table it appears in, then the best baseline of each table."""
    from lab.regularizers import REGISTRY

    tabs = {(name, key): ts for name in studies(root) for key, ts in _headline_rows(_results(root, name)[1]).items()}
    lines = [_prose(f"Per seed method and study table (headline variant as above): its own quantity at the end "
                    f"(mean over seeds) against CE's, and its final test accuracy minus CE's on the same seeds. "
                    f"A quantity \"barely moves\" within {BARELY:.0%} of CE's value; a difference is called a gain "
                    f"or a loss only when the paired t-test, Holm-corrected over the methods compared with CE, "
                    f"gives p < {SIGNIFICANT}; a seed \"collapsed\" when its test accuracy ended below "
                    f"{COLLAPSE:.0%} of CE's on the same seed."), ""]
    for method, reg in REGISTRY.items():
        if reg.__module__ == BASELINES or reg.quantity is None:
            continue
        clauses = [_clause(d, m, t, reg.quantity.working) for ((_, (d, m)), ts) in tabs.items() for t in ts
                   if t["method"] == method]
        if clauses:
            lines += [f"- **{method}**: {reg.quantity.title} (the method aims {reg.quantity.working})",
                      *(f"  - {c}." for c in clauses)]
    baselines = [m for m, reg in REGISTRY.items() if reg.__module__ == BASELINES and m != REFERENCE]
    lines.append("- Among the baselines, the best mean accuracy difference:")
    for (_, (d, m)), ts in tabs.items():
        best = max((t for t in ts if t["method"] in baselines), key=lambda t: t["paired"]["mean"])
        p = best["paired"]
        lines.append(f"  - {d} / {m}: {best['variant']}, accuracy Δ {p['diff']}, p = {p_text(p['t_p'])} "
                     f"(Holm {p_text(p['holm_p'])}): {verdict(p['mean'], p['holm_p'], p['n'], GAIN)}.")
    return "\n".join(lines) + "\n"


def bench_region(root: Path = ROOT) -> str:
    """The benchmark table as `python -m bench` wrote it, and the bare epoch time it is relative to."""
    bench = json.loads((root / "bench" / "results.json").read_text())
    return (_prose(f"A bare training epoch on digits took {bench['bare_epoch_ms']:.0f} ms in this measurement. "
                   "\"lab epoch incl. eval + snapshot + writes\" adds what every epoch also does: it evaluates "
                   "and snapshots the probe set on the training thread, and hands its files to a writer thread "
                   "(each written, fsynced and renamed into place). The browser timings share the machine with "
                   "the browser and the server, so they vary with other load.")
            + "\n\n" + (root / "bench" / "results.md").read_text().strip() + "\n")


REGIONS = {"results": results_region, "methods": methods_region, "bench": bench_region}


def render(text: str, root: Path = ROOT) -> str:
    """`text` (README.md) with every generated region rewritten; each region must appear once."""
    found = [m.group("name") for m in REGION.finditer(text)]
    for name in REGIONS:
        if found.count(name) != 1:
            raise ConfigError(f"README.md must hold the region '{name}' once (<!-- generated: {name} --> ... "
                              f"<!-- end: {name} -->); found it {found.count(name)} times.")
    unknown = sorted(set(found) - set(REGIONS))
    if unknown:
        raise ConfigError(f"README.md has an unknown generated region {unknown[0]!r}; known: {', '.join(REGIONS)}.")
    return REGION.sub(lambda m: m.group(1) + REGIONS[m.group("name")](root) + m.group(4), text)


HELP = "rewrite README.md's generated regions from the generated outputs (--check: only compare)"


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m lab readme", description=HELP)
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when README.md differs")
    p.add_argument("--root", default=str(ROOT), help="the repository whose outputs are read (default this one)")
    p.add_argument("--file", default=None, help="the README to rewrite (default README.md under --root)")
    args = p.parse_args(argv)
    root = Path(args.root)
    path = Path(args.file) if args.file else root / "README.md"
    text = path.read_text()
    new = render(text, root)
    if args.check:
        if new != text:
            stale = [m.group("name") for m, n in zip(REGION.finditer(text), REGION.finditer(new))
                     if m.group("body") != n.group("body")]
            print(f"{path} is out of date in: {', '.join(stale)}; run `python -m lab readme`.", file=sys.stderr)
            return 1
        return 0
    if new != text:
        path.write_text(new)
    print(path)
    return 0
