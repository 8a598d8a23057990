"""A study's results as rows and tables: one CSV row per run (selection runs marked), per
(data, model) the validation accuracy of every variant that was chosen among, and one table row
per final variant with final test accuracy `mean ± std`, the paired comparison with CE
(`lab.stats`, t-test p Holm-corrected over the variants compared with CE) and the method's own
quantity at the end. The measured columns come from the methods' declarations
(`Regularizer.quantity`), not from a list kept here."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from lab.declare import REFERENCE
from lab.stats import best_by, holm, p_text, paired, pm


@dataclass(frozen=True)
class Column:
    """A measured column `final_<key>`: its title and the methods whose own quantity yields it."""

    key: str
    title: str
    owners: tuple[str, ...]


def columns(methods: Iterable[str] | None = None) -> dict[str, Column]:
    """For every method of `methods` (None: every registered one) that declares a quantity, its
    key then the keys of its `also`, in registry order, each once."""
    from lab.regularizers import REGISTRY

    wanted = set(REGISTRY if methods is None else methods)
    out: dict[str, Column] = {}
    for name, reg in REGISTRY.items():
        q = reg.quantity
        if q is None or name not in wanted:
            continue
        for key, title in {q.key: q.title, **q.also}.items():
            owners = tuple(m for m, r in REGISTRY.items() if r.quantity is not None and key in (r.quantity.key, *r.quantity.also))
            out.setdefault(key, Column(key, title, owners))
    return out


HEAD = ["data", "model", "method", "variant", "params", "lambda", "seed", "status", "epochs", "final_test_acc",
        "best_test_acc", "final_train_acc", "quantity", "quantity_final", "train_seconds", "run", "phase",
        "final_val_acc", "published_acc", "published_source", "final_nc1", "cka_ce"]
TABLE_HEAD = ["variant", "seeds", "final test acc", "best test acc", "Δ vs CE (paired)", "wins/ties/losses",
              "p (t-test)", "p (Holm)", "p (sign)", "own quantity at the end (CE's)", "NC1 of the features (Δ vs CE, Holm p)",
              "CKA with CE's features"]
SELECTION_HEAD = ["method", "variant", "seeds", "final validation acc", "chosen"]
COLLAPSE = 0.5  # a seed whose final test accuracy is below this fraction of CE's on the same seed collapsed


def csv_fields() -> list[str]:
    """The CSV columns: the run's settings and accuracies, then `final_<key>` of every declared quantity."""
    return HEAD + [f"final_{k}" for k in columns()]


def last(values: list) -> float:
    """The last value that is not None (NaN when there is none)."""
    vals = [v for v in values if v is not None]
    return float(vals[-1]) if vals else float("nan")


def csv_rows(results: list[dict]) -> list[dict]:
    """One row per run result of `run_study`."""
    from lab.data import published
    from lab.regularizers import REGISTRY

    rows = []
    for r in results:
        cfg, own = r["config"], REGISTRY[r["config"].method].quantity
        preset = published(cfg.to_dict())
        accs = [a for a in r["test_acc"] if a is not None]
        rows.append({
            "data": cfg.data_label, "model": cfg.model, "method": cfg.method, "variant": r["variant"],
            "params": json.dumps(cfg.method_params, sort_keys=True), "lambda": cfg.lam, "seed": cfg.seed,
            "status": r["status"], "epochs": len(r["epochs"]), "final_test_acc": last(r["test_acc"]),
            "best_test_acc": max(accs) if accs else float("nan"), "final_train_acc": last(r["train_acc"]),
            "quantity": own.key if own else "", "quantity_final": last(r["quantities"].get(own.key, [])) if own else "",
            "train_seconds": round(r["train_seconds"], 3), "run": r["run"], "phase": r["phase"],
            "final_val_acc": last(r["val_acc"]) if r["phase"] == "selection" else "",
            "published_acc": preset.published if preset else "", "published_source": preset.source if preset else "",
            "final_nc1": r.get("nc1", ""), "cka_ce": r.get("cka_ce", ""),
            **{f"final_{k}": last(v) for k, v in r["quantities"].items()}})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, csv_fields(), restval="")
        w.writeheader()
        w.writerows(rows)


def read_csv(path: Path) -> list[dict]:
    """The rows of a results.csv with numbers as numbers (empty cells stay empty strings)."""
    ints = {"seed", "epochs"}
    texts = {"data", "model", "method", "variant", "params", "status", "quantity", "run", "phase", "published_source"}
    with open(path, newline="") as f:
        rows = [{k: v if k in texts or v == "" else int(v) if k in ints else float(v) for k, v in row.items()}
                for row in csv.DictReader(f)]
    return [{**r, "phase": r.get("phase") or "final"} for r in rows]  # a study from before the phases


def groups(rows: list[dict], phase: str = "final") -> dict[tuple[str, str], dict[str, list[dict]]]:
    """(data, model) -> variant label -> rows of one phase (seed order), in grid order."""
    out: dict[tuple[str, str], dict[str, list[dict]]] = {}
    for r in rows:
        if r["phase"] == phase:
            out.setdefault((r["data"], r["model"]), {}).setdefault(r["variant"], []).append(r)
    return out


def selects(rows: list[dict]) -> bool:
    """Whether the study chose its variants on validation data (it has selection runs)."""
    return any(r["phase"] == "selection" for r in rows)


def headline(rows: list[dict]) -> dict[tuple[str, str], dict[str, str]]:
    """Per (data, model): each method's reported variant, {method: variant}: the one chosen on
    validation data when the study selects, else the one of best mean final test accuracy (chosen
    on test data: optimistic)."""
    out = {}
    for key, variants in groups(rows).items():
        means = {name: float(np.nanmean([r["final_test_acc"] for r in rs])) for name, rs in variants.items()}
        out[key] = best_by(means, {name: rs[0]["method"] for name, rs in variants.items()})
    return out


def selection_tables(rows: list[dict]) -> dict[tuple[str, str], list[list[str]]]:
    """Per (data, model): the evidence of each choice, one row (SELECTION_HEAD) per variant
    compared on validation accuracy; the chosen one is the variant of that method in the final runs."""
    final = headline(rows)
    return {key: [[rs[0]["method"], name, str(len(rs)), pm([r["final_val_acc"] for r in rs]),
                   "yes" if final.get(key, {}).get(rs[0]["method"]) == name else ""] for name, rs in variants.items()]
            for key, variants in groups(rows, "selection").items()}


def _seeds(rs: list[dict]) -> str:
    """The number of seeds, and how many of them diverged (their last finite epoch is what counts)
    or ended collapsed, at chance (`lab.train.ending`): "3 (2 collapsed)"."""
    ended = {s: sum(r["status"] == s for r in rs) for s in ("diverged", "collapsed")}
    said = ", ".join(f"{n} {s}" for s, n in ended.items() if n)
    return f"{len(rs)} ({said})" if said else str(len(rs))


def tables(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Per (data, model): one row per variant with final/best accuracy, the paired comparison to
    CE and the final value of the method's own quantity (`quantity_mean`, `ce_quantity`: NaN or None)."""
    out = {}
    for key, variants in groups(rows).items():
        ce = variants[REFERENCE]

        def own(rs: list[dict]) -> dict:
            q = rs[0]["quantity"]
            if not q:
                return {"quantity": "", "key": "", "quantity_mean": None, "ce_quantity": None}
            ref = float(np.mean([r[f"final_{q}"] for r in ce]))
            values = [r["quantity_final"] for r in rs]
            finite = np.isfinite(np.asarray(values, float))
            return {"quantity": f"{q} {pm(values, 4)} (CE {ref:.4f})", "key": q, "ce_quantity": ref,
                    "quantity_mean": float(np.mean(np.asarray(values, float)[finite])) if finite.any() else float("nan")}

        ce_acc = {r["seed"]: r["final_test_acc"] for r in ce}
        rows_ = [{"variant": name, "method": rs[0]["method"], "seeds": _seeds(rs),
                  "collapsed": sum(r["final_test_acc"] < COLLAPSE * ce_acc.get(r["seed"], np.nan) for r in rs),
                  "final": pm([r["final_test_acc"] for r in rs]), "best": pm([r["best_test_acc"] for r in rs]),
                  "paired": paired(rs, ce) if name != REFERENCE else None, **own(rs)}
                 for name, rs in variants.items()]
        adjusted = holm({t["variant"]: t["paired"]["t_p"] for t in rows_ if t["paired"]})
        for t in rows_:
            if t["paired"]:
                t["paired"]["holm_p"] = adjusted[t["variant"]]
        _geometry(rows_, variants, ce)
        out[key] = rows_
    return out


def _geometry(rows_: list[dict], variants: dict[str, list[dict]], ce: list[dict]) -> None:
    """Each table row's NC1 of the features (`nc1`: mean ± std, and `nc1_paired` against CE on the same
    seeds with Holm over the variants) and its features' CKA with CE's (`cka`); "-" for a study whose
    results.csv is older than these columns."""
    measured = all(r.get("final_nc1", "") != "" for rs in variants.values() for r in rs)
    for t in rows_:
        rs = variants[t["variant"]]
        t["nc1"] = pm([r["final_nc1"] for r in rs], 3) if measured else "-"
        t["cka"] = pm([r["cka_ce"] for r in rs], 3) if measured and all(r.get("cka_ce", "") != "" for r in rs) else "-"
        t["nc1_paired"] = paired(rs, ce, "final_nc1") if measured and t["paired"] else None
    adjusted = holm({t["variant"]: t["nc1_paired"]["t_p"] for t in rows_ if t["nc1_paired"]})
    for t in rows_:
        if t["nc1_paired"]:
            t["nc1_paired"]["holm_p"] = adjusted[t["variant"]]


def cells(t: dict) -> list[str]:
    """A table row (`tables`) as the cells under TABLE_HEAD."""
    p, g = t["paired"], t.get("nc1_paired")
    nc1 = f"{t.get('nc1', '-')}" + (f" ({g['mean']:+.3f}, p {p_text(g['holm_p'])})" if g else "")
    if p is None:
        return [t["variant"], t["seeds"], t["final"], t["best"], "reference", "", "", "", "", t["quantity"], nc1,
                t.get("cka", "-")]
    return [t["variant"], t["seeds"], t["final"], t["best"], p["diff"], f"{p['wins']}/{p['ties']}/{p['losses']}",
            p_text(p["t_p"]), p_text(p["holm_p"]), p_text(p["sign_p"]), t["quantity"], nc1, t.get("cka", "-")]


def markdown_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]


def table_title(data: str, model: str) -> str:
    return f"Final test accuracy and paired Δ vs CE: {data} / {model}"


def timing(results: list[dict], wall: float) -> str:
    trained = sum(r["trained"] for r in results)
    return (f"{len(results)} runs, {trained} trained and {len(results) - trained} reused in {wall:.0f} s wall time; "
            f"training time summed over runs {sum(r['train_seconds'] for r in results):.0f} s")


def method_note(rows: list[dict]) -> str:
    """How the reported variants were chosen and how the p-values read (for every output)."""
    if selects(rows):
        choice = ("Each method's λ and options were chosen on validation accuracy (training samples held out of "
                  "the training split, `val_size`); the chosen variant was then retrained on the full training "
                  "split and its test accuracy is reported once.")
    else:
        choice = ("Every variant is reported; choosing a method's best variant by test accuracy would be "
                  "optimistic (this study has no validation split).")
    return (f"{choice} Seeds \"(n collapsed)\" counts runs that ended no better than always answering the most "
            f"frequent class (their numbers are in the cells), \"(n diverged)\" runs whose loss became infinite (their "
            f"last finite epoch counts). Cells are `mean ± std` over seeds (sample std); Δ is the final test accuracy minus CE's on "
            f"the same seed; p (t-test) is the paired t-test, p (Holm) the same Holm-corrected over the variants "
            f"compared with CE in the table, p (sign) the two-sided sign test. NC1 of the features is tr(S_W S_B⁺)/C "
            f"at the last epoch (Papyan, Han & Donoho 2020; 0: every class collapsed to its mean), with its mean "
            f"difference from CE's on the same seeds and that paired t-test's Holm p; the CKA is the linear CKA "
            f"(Kornblith et al. 2019) of the features with those of CE's run of the same seed (1: the same "
            f"representation up to rotation and scale); \"-\" where a study's results predate these columns.")


def baselines(rows: list[dict]) -> dict[tuple[str, str], str]:
    """Per (data, model) whose settings match a published result (a data set preset): CE's final
    test accuracy here beside the published number."""
    out = {}
    for key, variants in groups(rows).items():
        ce = variants.get(REFERENCE, [])
        if ce and ce[0].get("published_acc", "") != "":
            out[key] = (f"CE baseline {pm([r['final_test_acc'] for r in ce])} here; published "
                        f"{ce[0]['published_acc']:.2f} with these settings ({ce[0]['published_source']}).")
    return out


def markdown(name: str, description: str, rows: list[dict], timing: str) -> str:
    """results.md: the selection evidence, then every final variant's row, per (data, model)."""
    lines = [f"# Study `{name}`", "", description, "", f"Generated by `python -m lab study {name}` ({timing}). "
             + method_note(rows), ""]
    for (d, m), sel in selection_tables(rows).items():
        lines += [f"## {d} / {m}: choice on validation accuracy", "", *markdown_table(SELECTION_HEAD, sel), ""]
    published = baselines(rows)
    for (d, m), ts in tables(rows).items():
        lines += [f"## {d} / {m}", "", *([published[(d, m)], ""] if (d, m) in published else []),
                  *markdown_table(TABLE_HEAD, [cells(t) for t in ts]), ""]
    return "\n".join(lines)
