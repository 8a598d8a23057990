"""The lab's statistics, shared by the study, `python -m lab compare` and the Compare page:
mean ± std over seeds, the paired comparison of a method with CE on the same seeds, and the
choice of each method's best variant."""
from __future__ import annotations

import numpy as np


def num(x: float | None, digits: int = 4) -> str:
    """A number in readable notation, `digits` significant: 2.303, 1.2e+25, nan; "-" for None."""
    return "-" if x is None else f"{x:.{digits}g}"


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


def paired(rows: list[dict], ref: list[dict]) -> dict:
    """Final test accuracy minus CE's on the same seeds: `diff` (mean ± std text), `mean`,
    wins/ties/losses, paired t-test and two-sided sign-test p-values (NaN where undefined, e.g.
    < 2 pairs or no spread)."""
    from scipy import stats

    base = {r["seed"]: r["final_test_acc"] for r in ref}
    d = np.array([r["final_test_acc"] - base[r["seed"]] for r in rows if r["seed"] in base])
    d = d[np.isfinite(d)]
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    t_p = float(stats.ttest_1samp(d, 0.0).pvalue) if len(d) > 1 and d.std() > 0 else float("nan")
    sign_p = float(stats.binomtest(wins, wins + losses).pvalue) if wins + losses else float("nan")
    return {"n": len(d), "diff": pm(d), "mean": float(d.mean()) if len(d) else float("nan"), "wins": wins,
            "ties": len(d) - wins - losses, "losses": losses, "t_p": t_p, "sign_p": sign_p}


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
