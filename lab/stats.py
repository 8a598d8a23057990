"""The lab's statistics, shared by the study, `python -m lab compare` and the Compare page:
mean ± std over seeds, the paired comparison of a method with CE on the same seeds (`paired`,
`judge`: the difference per seed, the paired t-test Holm-corrected over the methods shown,
wins/ties/losses and a verdict), and the choice of each method's best variant."""
from __future__ import annotations

import numpy as np


def num(x: float | None, digits: int = 4) -> str:
    """A number in readable notation, `digits` significant: 2.303, 1.2e+25, nan; "-" for None."""
    return "-" if x is None else f"{x:.{digits}g}"


def p_text(x: float) -> str:
    """A p-value with 3 decimals; "-" when the test is undefined."""
    return "-" if not np.isfinite(x) else f"{x:.3f}"


def pm(values, digits: int = 3) -> str:
    """`mean ± std` (sample std) of the finite values; one value alone, without a ±, since one
    run says nothing about the spread; "-" for none."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if not len(a):
        return "-"
    if len(a) == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} ± {a.std(ddof=1):.{digits}f}"


SIGNIFICANT = 0.05  # Holm-corrected paired t-test p below which a difference gets a direction
MIN_SEEDS = 3  # fewer paired seeds than this: "too few seeds to tell", whatever the numbers


def change(values) -> str:
    """Signed `mean ± std` with 3 significant digits (a difference of any size: +0.0143 ± 0.009,
    -0.000213 ± 4.1e-05); one value alone without a ±; "-" for none."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if not len(a):
        return "-"
    return f"{a.mean():+.3g}" + (f" ± {a.std(ddof=1):.2g}" if len(a) > 1 else "")


def paired(rows: list[dict], ref: list[dict], key: str = "final_test_acc", working: str = "higher") -> dict:
    """`key` (final test accuracy) minus CE's on the same seeds: `diff` (mean ± std text), `mean`,
    `per_seed` {seed: difference}, wins/ties/losses (a win: a seed whose difference goes the
    `working` way, "higher" or "lower"), paired t-test and two-sided sign-test p-values (NaN where
    undefined, e.g. < 2 pairs or no spread)."""
    from scipy import stats

    base = {r["seed"]: r[key] for r in ref}
    per_seed = {r["seed"]: r[key] - base[r["seed"]] for r in rows if r["seed"] in base}
    per_seed = {s: float(v) for s, v in per_seed.items() if v is not None and np.isfinite(v)}
    d = np.array(list(per_seed.values()))
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    if working == "lower":
        wins, losses = losses, wins
    t_p = float(stats.ttest_1samp(d, 0.0).pvalue) if len(d) > 1 and d.std() > 0 else float("nan")
    sign_p = float(stats.binomtest(wins, wins + losses).pvalue) if wins + losses else float("nan")
    return {"n": len(d), "diff": pm(d), "mean": float(d.mean()) if len(d) else float("nan"), "wins": wins,
            "ties": len(d) - wins - losses, "losses": losses, "t_p": t_p, "sign_p": sign_p, "per_seed": per_seed}


def verdict(mean: float, holm_p: float, n: int, words: tuple[str, str] = ("a significant gain", "a significant loss")
            ) -> str:
    """What a paired difference says: too few seeds to tell (n < MIN_SEEDS, whatever the numbers),
    `words[0]` / `words[1]` for a positive / negative mean when the Holm-corrected t-test gives
    p < SIGNIFICANT, else no significant difference."""
    if n < MIN_SEEDS:
        return f"too few seeds to tell ({n} paired; {MIN_SEEDS} at least)"
    if np.isfinite(holm_p) and holm_p < SIGNIFICANT:
        return words[0] if mean > 0 else words[1]
    return "no significant difference"


def judge(rows: dict[str, list[dict]], ref: list[dict], key: str = "final_test_acc",
          words: tuple[str, str] = ("a significant gain", "a significant loss"), working: str = "higher"
          ) -> dict[str, dict]:
    """Each group of `rows` ({label: [{"seed", key}]}) against `ref` (CE's rows) on the same seeds:
    `paired`'s numbers (wins counted the `working` way), `holm_p` (Holm over the groups judged
    together) and a `verdict` (`words` for a positive / negative mean)."""
    out = {label: paired(rs, ref, key, working) for label, rs in rows.items()}
    for label, p in holm({label: p["t_p"] for label, p in out.items()}).items():
        out[label]["holm_p"] = p
        out[label]["verdict"] = verdict(out[label]["mean"], p, out[label]["n"], words)
    return out


def best_by(means: dict[str, float], group: dict[str, str]) -> dict[str, str]:
    """For each group (a method), the member (a variant) with the highest mean, e.g. of final
    test accuracy; the first listed wins a tie. {variant: mean}, {variant: method} in, {method: variant} out."""
    out: dict[str, str] = {}
    for name, g in group.items():
        if g not in out or means[name] > means[out[g]]:
            out[g] = name
    return out


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values of a family of tests (Holm 1979): sorted ascending,
    p_(i) x (m - i + 1) for i = 1..m, made non-decreasing and capped at 1; m counts the finite
    p-values only, and a NaN (an undefined test) stays NaN."""
    finite = sorted((p, k) for k, p in pvalues.items() if np.isfinite(p))
    m, out, running = len(finite), {k: float("nan") for k in pvalues}, 0.0
    for i, (p, k) in enumerate(finite):
        running = max(running, min(1.0, p * (m - i)))
        out[k] = running
    return out
