"""An example plug-in for RegLab: an L1 penalty on the activations (sparse features).

Train it with `python -m lab train --method examples/plugins/activity_l1.py:ActivityL1`; in the
app, start the server with `REGLAB_PLUGINS=examples/plugins/activity_l1.py streamlit run app.py`
(or copy this file into a `plugins/` folder beside the runs). It is written as an outsider's file
would be: it imports only the lab's public contract.

Penalty = mean over the batch of sum_j |h_j| over the features h (the head's input), or over
every hidden layer (`layers = "all"`), the activity regularizer of sparse coding and of Keras's
`ActivityRegularization(l1=...)`.
"""
import numpy as np
import plotly.graph_objects as go

from lab.declare import Quantity, View
from lab.measure.snapshot import feature_layer, features
from lab.params import Choice, Param
from lab.regularizers import Regularizer


def _features(snapshot: dict) -> np.ndarray:
    """The features of a snapshot (the head's input) as (n, d) float64."""
    return features(snapshot, feature_layer(snapshot)).astype(np.float64)


def active_share(snapshot: dict, probe) -> dict:
    """The quantity: the share of (probe point, feature) pairs whose activation is above 1% of the
    largest one (scale-free), and the mean |activation| (feature units)."""
    z = np.abs(_features(snapshot))
    return {"active": float((z > 0.01 * z.max()).mean()) if z.max() > 0 else 0.0, "mean_abs": float(z.mean())}


def active_units(snapshot: dict, probe, epoch: int) -> go.Figure:
    """A view: how many features each probe point uses, as a histogram."""
    z = np.abs(_features(snapshot))
    used = (z > 0.01 * z.max()).sum(1) if z.max() > 0 else np.zeros(len(z))
    fig = go.Figure(go.Histogram(x=used, nbinsx=40, name="probe points"))
    return fig.update_layout(title=f"Active features per probe point, epoch {epoch}",
                             xaxis_title=f"active features (of {z.shape[1]})", yaxis_title="probe points")


class ActivityL1(Regularizer):
    """L1 penalty on the activations: mean over the batch of the sum of |h| (features or every hidden layer)."""

    name = "activity_l1"
    summary = "sparse features: an L1 penalty on the hidden activations"
    params = (Param("layers", "features", Choice(("features", "all")), "the features only, or every hidden layer"),)
    default_lam = 0.001
    quantity = Quantity(active_share, "active", "share of active features (unitless)", working="lower",
                        also={"mean_abs": "mean |activation| of the features (feature units)"})
    views = (View("active_units", "Active features per sample", active_units,
                  note="an L1 penalty switches features off: the histogram should sit left of **ce**'s"),)
    notes = {"train": "Expect λ × penalty to fall quickly as unneeded features switch off."}

    def penalty(self, ctx):
        states = ctx.out.hidden if self.layers == "all" else (ctx.out.features,)
        return {"l1": sum(h.flatten(1).abs().sum(1).mean() for h in states)}
