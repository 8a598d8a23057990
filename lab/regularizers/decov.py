"""`decov`: DeCov (Cogswell, Ahmed, Girshick, Zitnick & Batra, ICLR 2016, "Reducing Overfitting in
Deep Networks by Decorrelating Representations").

For the activations h (n, d) of a layer over a batch, C_ij = (1/n) sum_k (h_ki - mu_i)(h_kj - mu_j)
and L_DeCov = 0.5 (||C||_F^2 - ||diag(C)||_2^2): the squared off-diagonal covariances. The paper
applies it to a fully connected hidden layer; here it is the features (the head's input) by
default, or the sum over every hidden layer (`layers = "all"`, conv states flattened).
Written only through the plug-in contract (its module, its notes, its test): its own quantity and
view are declared here and read by every page, Compare, the report and the studies.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lab.declare import Quantity, View
from lab.params import Choice, Param
from lab.regularizers.base import Regularizer, StepContext, register


class _DeCov(torch.autograd.Function):
    """`decov_loss` with its gradient written out, dL/dh = (2/n^2)(x x^T x - x * s) for the centred
    rows x and s_i = sum_k x_ki^2 (its row mean is 0, so centring passes it unchanged). Through the
    Gram x x^T when n < d: ||C||_F = ||x x^T||_F / n. One matrix product each way instead of autograd's
    three: a step took 1.23-1.37x CE's in bench/steps.py's setting, against 1.50-1.67x before."""

    @staticmethod
    def forward(ctx, h: Tensor) -> Tensor:
        n, d = h.shape
        x = h - h.mean(0)
        gram = x @ x.T if n < d else x.T @ x
        s = x.square().sum(0)
        ctx.save_for_backward(x, gram, s)
        return 0.5 * (gram.square().sum() - s.square().sum()) / n**2

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        x, gram, s = ctx.saved_tensors
        n, d = x.shape
        return ((gram @ x if n < d else x @ gram) - x * s).mul_(grad * 2 / n**2)


def decov_loss(h: Tensor) -> Tensor:
    """0.5 (||C||_F^2 - ||diag C||^2) of the batch covariance C of the rows of h (n, d) (Cogswell et al. 2016)."""
    return _DeCov.apply(h.flatten(1))


def correlations(z: np.ndarray) -> np.ndarray:
    """The (d, d) correlation matrix of the features z (n, d); 0 for a unit that does not vary."""
    z = np.asarray(z, np.float64).reshape(len(z), -1)
    c = np.cov(z, rowvar=False, bias=True)
    sd = np.sqrt(np.clip(np.diag(c), 0, None))
    live = sd > 1e-12
    r = np.zeros_like(c)
    r[np.ix_(live, live)] = c[np.ix_(live, live)] / np.outer(sd[live], sd[live])
    return r


def _features(snapshot: dict[str, np.ndarray]) -> np.ndarray:
    """The snapshot's features (n, d) as float64 (`lab.measure.snapshot`, imported on use: the
    measurements import the regularizers)."""
    from lab.measure.snapshot import feature_layer, features

    return features(snapshot, feature_layer(snapshot)).astype(np.float64)


def decorrelation(snapshot: dict[str, np.ndarray], probe=None) -> dict[str, float]:
    """{"corr2": mean squared off-diagonal correlation of the probe features (scale-free: shrinking
    the features cannot lower it), "decov": `decov_loss` of the probe features (feature units^4)}."""
    z = _features(snapshot)
    r = correlations(z)
    d = len(r)
    off = np.square(r).sum() - np.square(np.diag(r)).sum()
    return {"corr2": float(off / max(d * (d - 1), 1)), "decov": decov_loss(torch.from_numpy(z)).item()}


def correlation_view(snapshot: dict[str, np.ndarray], probe, epoch: int):
    """The features' correlation matrix (the 64 most active units), as a heatmap from -1 to 1."""
    import plotly.graph_objects as go  # figures load only when drawn: the regularizers never need them

    from lab.figures.grid import styled

    z = _features(snapshot)
    top = np.sort(np.argsort(-z.std(0))[:64])
    r = correlations(z[:, top])
    fig = go.Figure(go.Heatmap(z=r, x=[f"f{j}" for j in top], y=[f"f{j}" for j in top], zmin=-1, zmax=1, zmid=0,
                               colorscale="RdBu_r", colorbar={"title": {"text": "correlation"}},
                               hovertemplate="%{x} with %{y}: %{z:.2f}<extra></extra>"))
    corr2 = decorrelation(snapshot)["corr2"]
    styled(fig, f"Correlation between features, epoch {epoch}", "feature", "feature",
           f"the {len(top)} units that vary most on the probe set; mean squared off-diagonal correlation "
           f"{corr2:.3f} over all units")
    return fig.update_xaxes(type="category", showticklabels=False).update_yaxes(type="category", autorange="reversed",
                                                                                showticklabels=False)


@register
class DeCov(Regularizer):
    """Penalty = `decov_loss` of the features (or summed over every hidden layer), Cogswell et al. 2016.
    Default lambda 0.1, measured in the lab (digits, 300 training samples, MLP 256-256, 30 epochs,
    seeds 0-1): the mean squared correlation between features 0.041-0.043 against CE's 0.124-0.129
    (-67%), test accuracy 0.938 / 0.949 against CE's 0.924 / 0.922 (lambda 0.01: -58%, lambda 1: -80%)."""

    name = "decov"
    summary = "decorrelate the features: penalise the off-diagonal covariances of the activations (DeCov)"
    params = (Param("layers", "features", Choice(("features", "all")), "the features only, or every hidden layer"),)
    default_lam = 0.1
    quantity = Quantity(decorrelation, "corr2", "mean squared correlation between features (unitless)",
                        also={"decov": "DeCov of the probe features (feature units⁴)"})
    views = (View("correlation", "Correlation between features", correlation_view),)
    step_goal = 1.5

    def penalty(self, ctx: StepContext) -> dict[str, Tensor]:
        states = ctx.out.hidden if self.layers == "all" else (ctx.out.features,)
        return {"decov": sum(decov_loss(h) for h in states)}
