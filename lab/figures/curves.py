"""Training curves from a run's history (a list of per-epoch dicts, complete or still growing)."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from lab.figures.grid import BELOW, grid, styled
from lab.figures.palette import color

LOSSES = {"task_loss": "task loss (train)", "reg_loss": "lambda x penalty (train)", "test_loss": "test loss"}
STREAM = "train loss, every few steps"
RIGHT = "(right axis)"  # added to the name of a line drawn on the right-hand axis
ACCURACIES = {"train_acc": "train accuracy", "test_acc": "test accuracy"}


def _lines(history: list[dict], keys: dict[str, str], dash: str | None = None, start: int = 0) -> list[go.Scatter]:
    """One line per key present in the history; a missing or None value leaves a gap."""
    epochs = [h.get("epoch") for h in history]
    present = [k for k in keys if any(h.get(k) is not None for h in history)]
    return [go.Scatter(x=epochs, y=[h.get(k) for h in history], name=keys[k], mode="lines+markers",
                       line={"color": color(start + i), "dash": dash}) for i, k in enumerate(present)]


def _scale(trace: go.Scatter) -> float:
    values = [abs(v) for v in trace.y if v is not None]
    return max(values, default=0.0)


def _apart(trace: go.Scatter, reference: float, factor: float = 10.0) -> bool:
    """Whether `trace`'s largest value differs from `reference` by more than `factor` either way."""
    scale = _scale(trace)
    return scale > 0 and reference > 0 and not reference / factor <= scale <= reference * factor


def loss_curves(history: list[dict], title: str = "Loss", points: Sequence[dict] = ()) -> go.Figure:
    """Task loss, lambda x penalty, test loss, and each penalty term (unweighted, dotted) per epoch;
    with live `points` (`lab.train.point`), the train loss every few steps too, from the first
    steps on. A line whose scale is more than 10x apart from the task loss's (a penalty in its own
    units, say) goes on a right-hand axis (`_right_ticks`), named so in the legend, so that the task
    loss is not squashed flat."""
    terms = sorted({k for h in history for k in h if k.startswith("penalty/")})
    lines = _lines(history, LOSSES) + _lines(history, {k: k.replace("/", ": ") for k in terms}, "dot", len(LOSSES))
    if points:
        lines.append(go.Scatter(x=[p["x"] for p in points], y=[p["train_loss"] for p in points],
                                name=STREAM, mode="lines+markers", marker={"size": 4},
                                line={"color": color(len(LOSSES) + len(terms)), "width": 1}))
    task = max((_scale(t) for t in lines if t.name in (LOSSES["task_loss"], STREAM)), default=0.0)
    right = [t for t in lines if _apart(t, task)]
    for t in right:
        t.update(yaxis="y2", name=f"{t.name} {RIGHT}")
    fig = styled(go.Figure(lines), title, "epoch", "loss (cross-entropy in nats)").update_layout(legend=BELOW)
    if right:
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "title": {"text": "other scale"},
                                  **_right_ticks([v for t in right for v in t.y if v is not None])})
    return fig


def _right_ticks(values: list[float]) -> dict:
    """The right-hand axis: logarithmic when every value is positive, with a tick at each power of ten
    when they span two decades or more; ticks of its own, never plotly's synced ones (a diverged run's
    read 0.1950734, 4.758666, 116.084)."""
    if not values or min(values) <= 0:
        return {"type": "linear", "tickmode": "auto"}
    if max(values) >= 100 * min(values):
        return {"type": "log", "tickmode": "linear", "tick0": 0, "dtick": 1}
    return {"type": "log", "tickmode": "auto"}


def accuracy_curves(history: list[dict], title: str = "Accuracy") -> go.Figure:
    """Train (on a probe-sized training subset) and test accuracy per epoch. Both curve figures are
    drawn half width (Train): their legends go under the plot, which one beside them squeezed."""
    fig = styled(go.Figure(_lines(history, ACCURACIES, start=len(LOSSES) + 3)), title, "epoch",
                 "accuracy (fraction correct)")
    return fig.update_yaxes(range=[0, 1.02]).update_layout(legend=BELOW)


def run_curves(history: list[dict], label: str | None = None, points: Sequence[dict] = ()) -> dict[str, go.Figure]:
    """{"loss": `loss_curves`, "accuracy": `accuracy_curves`} of one run, titled "<label>: loss" and
    "<label>: accuracy" (no label: "Loss" and "Accuracy")."""
    titles = (f"{label}: loss", f"{label}: accuracy") if label else ("Loss", "Accuracy")
    return {"loss": loss_curves(history, titles[0], points), "accuracy": accuracy_curves(history, titles[1])}


def training_curves(history: list[dict], title: str = "Training") -> go.Figure:
    """Loss and accuracy side by side (each with its own y axis)."""
    return grid([loss_curves(history), accuracy_curves(history)], cols=2, shared=False, title=title)
