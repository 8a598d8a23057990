"""DeCov (Cogswell et al. 2016) and center loss (Wen et al. 2016), added only through the contract:
their formulas against hand-computed values, gradients, center loss's learnable state (trained by
the optimizer, saved in every snapshot), and each lowering its own quantity against CE."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lab.config import RunConfig
from lab.readout.quantities import quantity_series
from lab.regularizers import REGISTRY, center_loss, decov_loss
from lab.store import load_snapshot
from lab.train import train


def test_decov_is_half_the_squared_off_diagonal_covariance_by_hand():
    h = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0], [2.0, 1.0, 2.0]], dtype=torch.float64)
    # means (2, 1, 1); centred rows (-1, 1, -1), (1, -1, 0), (0, 0, 1); C = centred^T centred / 3
    c01, c02, c12 = (-1 - 1 + 0) / 3, (1 + 0 + 0) / 3, (-1 + 0 + 0) / 3
    assert decov_loss(h).item() == pytest.approx(0.5 * 2 * (c01 ** 2 + c02 ** 2 + c12 ** 2))
    assert decov_loss(torch.ones(4, 3) * torch.arange(3.0)).item() == 0  # constant units: no covariance
    for shape in ((6, 4), (4, 6), (3, 2, 5)):  # the gradient written out, through C (n >= d) and the Gram (n < d)
        assert torch.autograd.gradcheck(decov_loss, (torch.randn(*shape, dtype=torch.float64, requires_grad=True),))


def test_center_loss_is_the_mean_half_squared_distance_to_the_class_centre():
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    y = torch.tensor([0, 1, 0])
    centres = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # 0.5 x (|(0, -1)|^2 + |(0, 2)|^2 + |(2, 2)|^2) / 3 = 0.5 x (1 + 4 + 8) / 3
    assert center_loss(z, y, centres).item() == pytest.approx(13 / 6)
    centres.requires_grad_(True)
    center_loss(z, y, centres).backward()
    assert torch.allclose(centres.grad, torch.tensor([[-2.0, -1.0], [0.0, -2.0]]) / 3)


def test_center_learns_its_centres_and_every_snapshot_saves_them(tmp_path):
    result = train(RunConfig(method="center", epochs=2, train_size=200, probe_size=50, name="c",
                             model_params={"widths": (16,)}), runs=tmp_path)
    assert result.status == "done" and result.history[-1]["penalty/center"] > 0
    first, last = load_snapshot(result.path, 0)["state_centers"], load_snapshot(result.path, 2)["state_centers"]
    assert first.shape == last.shape == (10, 16) and not np.allclose(first, last)  # trained by the optimizer
    assert REGISTRY["decov"].views[0].key == "correlation" and REGISTRY["center"].views[0] == "spread"


@pytest.mark.parametrize("method, key", [("decov", "corr2"), ("center", "within")])
def test_each_lowers_its_own_quantity_against_ce(tmp_path, method, key):
    setting = dict(epochs=30, train_size=300, probe_size=500)  # the setting each default was measured in
    ce = train(RunConfig(method="ce", **setting), runs=tmp_path)
    mine = train(RunConfig(method=method, **setting), runs=tmp_path)
    ours, theirs = (quantity_series(r.path, method, epochs=[30])[key][0] for r in (mine, ce))
    assert mine.status == "done" and ours < 0.9 * theirs, (ours, theirs)


def test_a_snapshot_copies_the_learnable_state_the_writer_thread_saves_later():
    """The writer serialises a snapshot after training has moved on: it must hold the values of its
    epoch, not a view of the parameter (on the CPU `.float().cpu().numpy()` alone is a view)."""
    import torch

    from lab.data import prepare
    from lab.models import build_model
    from lab.train import probe_snapshot

    data = prepare("digits", {}, train_size=100, probe_size=20)
    model = build_model("mlp", {"widths": (8,), "activation": "relu"}, data.sample_shape, data.n_classes,
                        torch.Generator().manual_seed(0))
    state = {"centers": torch.nn.Parameter(torch.zeros(10, 8))}
    snap = probe_snapshot(model, data, state)
    with torch.no_grad():
        state["centers"].add_(1.0)
    assert (snap["state_centers"] == 0).all()
