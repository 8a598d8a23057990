"""The sweep behind each lesson's settings (assets/lessons.toml): for one method, every candidate
setting is trained with CE beside it (same data, model, optimizer steps and seeds), and the
lesson's quantity at the last epoch, both test accuracies and the wall time are printed and
appended to docs/lessons/sweep-<method>.md. A lesson's settings must show the quantity moved by
its margin on every seed, accuracy within 0.03 of CE's, and one run in at most 15 s.

    python scripts/lesson_sweep.py METHOD [RUNS_DIR]     (runs are reused when their folder exists)
"""
import itertools
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lab.config import RunConfig  # noqa: E402
from lab.lessons import LESSONS, final_value  # noqa: E402
from lab.store import load_run  # noqa: E402
from lab.train import train  # noqa: E402

W64, W256 = {"widths": [64, 64]}, {"widths": [256, 256]}
# (lambda, method options, model options, training overrides) per candidate
CANDIDATES = {
    "mhe": [(lam, {}, w, {}) for lam, w in itertools.product([3.0, 10.0, 30.0], [W64, {"widths": [32, 32]}])],
    "comhe": [(lam, {}, w, {}) for lam, w in itertools.product([3.0, 10.0, 30.0], [W64, {"widths": [32, 32]}])],
    "gini": [(lam, {}, w, {}) for lam, w in itertools.product([1.0, 3.0, 10.0], [W64, W256])]
    + [(lam, {}, W256, t) for lam, t in itertools.product([1.0, 2.0], [{"epochs": 60}, {"train_size": 0, "epochs": 30}])],
    "phantom": [(None, {}, w, {}) for w in (W64, W256)],
    "racecar": [(None, {}, w, {}) for w in (W64, W256)],
    "itra": [(lam, {}, W256, t) for lam, t in itertools.product(
        [0.3, 1.0, 3.0], [{"batch_size": 128, "epochs": 60}, {"batch_size": 128, "train_size": 0, "epochs": 20}])],
}


def run(root: Path, cfg: RunConfig) -> tuple[object, float]:
    if not (root / cfg.name).exists():
        t0 = time.perf_counter()
        train(cfg, runs=root)
        (root / cfg.name / "wall.txt").write_text(f"{time.perf_counter() - t0:.2f}")
    return load_run(root / cfg.name), float((root / cfg.name / "wall.txt").read_text())


def main(method: str, root: Path) -> None:
    torch.set_num_threads(1)
    lesson = LESSONS[method]
    out = Path(__file__).resolve().parents[1] / "docs" / "lessons" / f"sweep-{method}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {method}: {lesson.quantity.label}; margin {lesson.margin_text}", "",
             "| lambda | options | model | training | seed | CE | method | change | acc CE | acc method | s/run | meets |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for lam, opts, model, over in CANDIDATES[method]:
        for seed in (0, 1):
            base = lesson.config(method, seed)
            tag = f"{lam}-{sorted(opts.items())}-{model['widths']}-{sorted(over.items())}-s{seed}"
            tag = "".join(c if c.isalnum() or c in "-." else "_" for c in tag)
            ce = base.__class__(**{**base.to_dict(), "method": "ce", "lam": None, "method_params": {},
                                   "model_params": model, **over, "name": f"ce-{tag}"})
            me = base.__class__(**{**base.to_dict(), "lam": lam, "method_params": opts, "model_params": model, **over,
                                   "name": f"{method}-{tag}"})
            (rce, _), (rme, wall) = run(root, ce), run(root, me)
            a, b = final_value(lesson, rce), final_value(lesson, rme)
            acc_ce, acc_me = rce.final("test_acc"), rme.final("test_acc")
            meets = lesson.moved(a, b) and acc_me >= acc_ce - 0.03 and wall <= 15
            line = (f"| {lam} | {opts} | {model['widths']} | {over} | {seed} | {a:.4g} | {b:.4g} | {lesson.change(a, b)} "
                    f"| {acc_ce:.3f} | {acc_me:.3f} | {wall:.1f} | {'yes' if meets else 'no'} |")
            print(line, flush=True)
            lines.append(line)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else "runs/lesson-sweep"))
