"""`center`: Center loss (Wen, Zhang, Li & Qiao, ECCV 2016, "A Discriminative Feature Learning
Approach for Deep Face Recognition").

Each class c has a learnable centre c_c in feature space; the penalty pulls every sample's
features x_i towards its class's centre: L_C = 1/2 sum_i ||x_i - c_{y_i}||^2 (the paper sums over
the mini-batch; here the mean over it, so lambda does not scale with the batch size).
**Interpretation:** the paper moves the centres by their own rule (c_j -= alpha x mean of
(c_j - x_i) over class j's samples); here they are learnable state trained by the run's optimizer
on the same loss (the common PyTorch form), each initialised at the mean of its class in the first batch that has it (at 0 they pulled
every feature to 0 and killed the ReLU units at lambda 1 in the lab). Its own quantity is scale-free (the
within-class share of the features' variance), so shrinking the features cannot pass for
compactness; its view draws the learned centres in the PCA map of the features. Written only
through the plug-in contract (its module, its notes, its test).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lab.declare import Quantity, View
from lab.models import Net
from lab.regularizers.base import Regularizer, StepContext, register


def center_loss(z: Tensor, y: Tensor, centers: Tensor) -> Tensor:
    """Mean over the batch of 0.5 ||z_i - c_{y_i}||^2 (Wen et al. 2016), z (n, d), centers (C, d)."""
    return 0.5 * (z.flatten(1) - centers[y]).square().sum(1).mean()


def centres_view(snapshot: dict[str, np.ndarray], probe, epoch: int):
    """The PCA map of the probe features with each class's learned centre (projected by the same
    PCA) as a large marker of its class colour."""
    from lab.figures.embedding import embedding_scatter  # figures and measurements load only when drawn
    from lab.measure.embed import pca_axes
    from lab.measure.snapshot import feature_layer, features

    z = features(snapshot, feature_layer(snapshot)).astype(np.float64)
    mean, axes = pca_axes(z)
    xy = (z - mean) @ axes.T
    extra, note = {}, "this run learned no centres (not a center-loss run): its features alone"
    if "state_centers" in snapshot:
        extra = {"centres": (snapshot["state_centers"].astype(np.float64) - mean) @ axes.T}
        note = "each diamond is a class's learned centre, projected the same way"
    fig = embedding_scatter(xy, snapshot["probe_y"], None, "pca", f"Learned class centres, epoch {epoch}", extra=extra)
    return fig.update_layout(title={"subtitle": {"text": f"PCA of the probe features; {note}"}}, margin={"t": 86})


@register
class Center(Regularizer):
    """Penalty = `center_loss` of the features and the learnable class centres (Wen et al. 2016).
    Default lambda 1, measured in the lab (digits, 300 training samples, MLP 256-256, 30 epochs, seeds
    0-1): the within-class share of the features' variance 0.197-0.198 against CE's 0.278 (-29%),
    test accuracy 0.944 / 0.940 against CE's 0.924 / 0.922; lambda 0.1 moved it by +2-3%."""

    name = "center"
    summary = "pull each sample's features towards a learned centre of its class (center loss)"
    default_lam = 1.0
    quantity = Quantity("spread", "within", "within-class share of the features' variance (unitless)")
    views = ("spread", View("centres", "Learned class centres", centres_view))
    step_goal = 1.5

    def setup(self, model: Net, n_classes: int) -> None:
        weight = model.head.weight
        self.centers = self.learnable("centers", torch.zeros(n_classes, weight.shape[1], device=weight.device))
        self.started = torch.zeros(n_classes, dtype=torch.bool, device=weight.device)
        self.all_started = False  # once every centre has started, no step reads `started` (a GPU sync)

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        z = ctx.out.features.flatten(1)
        if not self.all_started:  # a centre starts at its class's first batch mean, not at 0
            with torch.no_grad():
                for c in ctx.y.unique():
                    if not self.started[c]:
                        self.centers[c] = z[ctx.y == c].mean(0)
                        self.started[c] = True
            self.all_started = bool(self.started.all())
        return {"center": center_loss(z, ctx.y, self.centers)}
