"""Training curves from a run's history (a list of per-epoch dicts, complete or still growing)."""
from __future__ import annotations

import plotly.graph_objects as go

from lab.figures.grid import grid, styled
from lab.figures.palette import color

LOSSES = {"task_loss": "task loss (train)", "reg_loss": "lambda x penalty (train)", "test_loss": "test loss"}
ACCURACIES = {"train_acc": "train accuracy", "test_acc": "test accuracy"}


def _lines(history: list[dict], keys: dict[str, str], dash: str | None = None, start: int = 0) -> list[go.Scatter]:
    """One line per key present in the history; a missing or None value leaves a gap."""
    epochs = [h.get("epoch") for h in history]
    present = [k for k in keys if any(h.get(k) is not None for h in history)]
    return [go.Scatter(x=epochs, y=[h.get(k) for h in history], name=keys[k], mode="lines+markers",
                       line={"color": color(start + i), "dash": dash}) for i, k in enumerate(present)]


def loss_curves(history: list[dict], title: str = "Loss") -> go.Figure:
    """Task loss, lambda x penalty, test loss, and each penalty term (unweighted, dotted) per epoch."""
    terms = sorted({k for h in history for k in h if k.startswith("penalty/")})
    fig = go.Figure(_lines(history, LOSSES) + _lines(history, {k: k.replace("/", ": ") for k in terms}, "dot",
                                                         len(LOSSES)))
    return styled(fig, title, "epoch", "loss (cross-entropy in nats; penalties in their own units)")


def accuracy_curves(history: list[dict], title: str = "Accuracy") -> go.Figure:
    """Train (on a probe-sized training subset) and test accuracy per epoch."""
    fig = styled(go.Figure(_lines(history, ACCURACIES, start=len(LOSSES) + 3)), title, "epoch",
                 "accuracy (fraction correct)")
    return fig.update_yaxes(range=[0, 1.02])


def training_curves(history: list[dict], title: str = "Training") -> go.Figure:
    """Loss and accuracy side by side (each with its own y axis)."""
    return grid([loss_curves(history), accuracy_curves(history)], cols=2, shared=False, title=title)
