"""What a study writes under its output folder: results.csv (one row per run), results.md
(the tables), report.html (one standalone page: tables, accuracy curves and each quantity over
training, through `lab.html`) and PNG figures of the same curves (`lab.figures.study`)."""
from __future__ import annotations

from html import escape
from pathlib import Path

from lab.figures.study import Figure, figures, plotly_json, save_png
from lab.html import Page, table
from lab.study.spec import Study
from lab.study.summary import (SELECTION_HEAD, TABLE_HEAD, baselines, cells, columns, csv_rows, headline, markdown,
                               method_note, selection_tables, table_title, tables, write_csv)


def study_figures(results: list[dict], rows: list[dict]) -> dict[tuple[str, str], list[Figure]]:
    """The figures of the final runs of `results`, with the measured columns of the grid and each
    method's reported variant."""
    final = [r for r in results if r["phase"] == "final"]
    measured = {k: (c.title, c.owners) for k, c in columns(r["method"] for r in final).items()}
    return figures(final, measured, headline(rows))


def report_html(study: Study, rows: list[dict], figs: dict[tuple[str, str], list[Figure]], timing: str) -> str:
    """One standalone page: settings, the accuracy/paired table per (data, model), accuracy curves,
    and each quantity over training."""
    settings = ", ".join(f"{k}={v}" for k, v in study.train.items())
    page = Page(f"RegLab study {study.name}").add(
        f"<h1>Study <code>{escape(study.name)}</code></h1>", f"<p>{escape(study.description)}</p>",
        f"<p class=note>{len(rows)} runs: data {escape(', '.join(study.data))}; models "
        f"{escape(', '.join(f'{m} {o}' for m, o in study.models.items()))}; seeds {list(study.seeds)}; "
        f"{escape(settings)}. Last invocation: {escape(timing)}. Regenerate with "
        f"<code>python -m lab study {escape(study.name)}</code>.</p>",
        f"<p class=note>{escape(method_note(rows))} With few seeds the p-values are weak evidence.</p>")
    for (d, m), sel in selection_tables(rows).items():
        page.add(f"<h3>{escape(d)} / {escape(m)}: the choice, on validation accuracy</h3>", table(SELECTION_HEAD, sel))
    page.add("<h2>Final test accuracy and paired comparison with CE</h2>")
    published = baselines(rows)
    for (d, m), ts in tables(rows).items():
        page.add(f"<h3>{escape(table_title(d, m))}</h3>",
                 f"<p class=note>{escape(published[(d, m)])}</p>" if (d, m) in published else "",
                 table(TABLE_HEAD, [cells(t) for t in ts]))
    for section, accuracy in (("Test accuracy over training (mean ± std bands)", True),
                              ("Each method's own quantity over training (probe set)", False)):
        page.add(f"<h2>{section}</h2><p class=note>Click a legend entry to show or hide a variant.</p>")
        for fs in figs.values():
            for f in fs:
                if (f.key == "accuracy") == accuracy:
                    page.add(f"<h3>{escape(f.title)}</h3>").figure(plotly_json(f))
    return page.html()


def write_outputs(study: Study, results: list[dict], out: Path, timing: str) -> list[Path]:
    """results.csv, results.md, report.html and PNG figures under `out`; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    rows = csv_rows(results)
    figs = study_figures(results, rows)
    write_csv(rows, out / "results.csv")
    (out / "results.md").write_text(markdown(study.name, study.description, rows, timing) + "\n")
    (out / "report.html").write_text(report_html(study, rows, figs, timing))
    paths = [out / "results.csv", out / "results.md", out / "report.html"]
    for (d, m), fs in figs.items():
        paths.append(out / f"accuracy-{d}-{m}.png")
        save_png(fs[:1], paths[-1])
        if len(fs) > 1:
            paths.append(out / f"quantities-{d}-{m}.png")
            save_png(fs[1:], paths[-1], columns=min(4, len(fs) - 1))
    return paths
