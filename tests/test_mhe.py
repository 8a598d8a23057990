"""mhe and comhe: hand values, gradients, invariances, the variants' projections, behaviour."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from lab.config import RunConfig
from lab.models import build_model
from lab.regularizers import REGISTRY, comhe_energy, mhe_energy
from lab.regularizers.comhe import CoMHE, angle_mismatch
from lab.regularizers.mhe import layer_rows
from lab.train import train

F64 = torch.float64
THREE = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, -3.0]], dtype=F64)  # the hand-worked example


def literal_energy(w: torch.Tensor, s: int, eps: float = 1e-4) -> torch.Tensor:
    """METHODS.md section 1 word for word: pairs i < j by index, autograd all the way."""
    u = w / (w.square().sum(1, keepdim=True) + eps).sqrt()
    d2 = (2 - 2 * u @ u.T).clamp_min(1e-8)
    f = -0.5 * d2.log() if s == 0 else d2.pow(-s / 2)
    i, j = torch.triu_indices(len(w), len(w), 1)
    return f[i, j].mean()


@pytest.mark.parametrize("s, half_space, expected", [(2, False, 0.361929), (1, False, 0.596500),
                                                     (0, False, -0.524840), (2, True, 0.716667)])
def test_hand_values(s: int, half_space: bool, expected: float) -> None:
    # s=2: cos(1,2) = 0, cos(1,3) = cos(2,3) = -1/sqrt(2): (1/2 + 2 / (2 + sqrt 2)) / 3;
    # half-space adds the negated copies: 15 pairs of 6 points, 3 of them antipodal (d2 = 4).
    assert mhe_energy(THREE, s, half_space, eps=0).item() == pytest.approx(expected, abs=1e-6)
    assert mhe_energy(THREE, s, half_space).item() == pytest.approx(expected, abs=1e-4)  # default eps


def test_comhe_hand_value() -> None:
    # Both projections keep the first two coordinates (the second also scales them by 2, which
    # normalisation removes), so each sees the three hand-worked neurons.
    w = torch.cat([THREE, torch.tensor([[5.0], [-1.0], [2.0]], dtype=F64)], 1)
    keep = torch.eye(3, dtype=F64)[:2]
    p = torch.stack([keep, 2 * keep])
    assert comhe_energy(w, p, s=2, half_space=False, eps=0).item() == pytest.approx(0.361929, abs=1e-6)
    assert comhe_energy(w, p, s=2, eps=0).item() == pytest.approx(0.716667, abs=1e-6)
    x = torch.randn(7, 5, dtype=F64)
    assert torch.allclose(comhe_energy(x, torch.eye(5, dtype=F64)[None]), mhe_energy(x, 2, True))


@pytest.mark.parametrize("s", [0, 1, 2])
def test_matches_literal_definition_and_its_gradient(s: int) -> None:
    w = torch.randn(6, 4, dtype=F64)
    w = torch.cat([w, w[:1], -3 * w[1:2]]).requires_grad_()  # a duplicate and an antipodal pair hit the clamp
    for half_space in (False, True):
        ours = mhe_energy(w, s, half_space, eps=0)
        ref = literal_energy(torch.cat([w, -w]) if half_space else w, s, eps=0)
        assert torch.allclose(ours, ref)
        assert torch.allclose(*(torch.autograd.grad(e, w)[0] for e in (ours, ref)))


@pytest.mark.parametrize("s", [0, 1, 2])
@pytest.mark.parametrize("half_space", [False, True])
def test_gradcheck(s: int, half_space: bool) -> None:
    w = torch.randn(5, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: mhe_energy(x, s, half_space), (w,))
    batch = torch.randn(2, 4, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: mhe_energy(x, s, half_space).sum(), (batch,))
    p = torch.randn(3, 2, 3, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, q: comhe_energy(x, q, s, half_space), (w, p))


def test_invariances_and_batches() -> None:
    w = torch.randn(8, 5, dtype=F64)
    e = mhe_energy(w, 2, True, eps=0)
    scale = torch.rand(8, 1, dtype=F64) * 10 + 0.1
    assert torch.allclose(mhe_energy(w * scale, 2, True, eps=0), e)
    assert torch.allclose(mhe_energy(w[torch.randperm(8)], 2, True, eps=0), e)
    batch = torch.randn(3, 6, 4, dtype=F64)
    assert torch.allclose(mhe_energy(batch, 1), torch.stack([mhe_energy(b, 1) for b in batch]))
    assert mhe_energy(torch.randn(1, 3), 2).item() == 0  # one neuron: no pair
    assert mhe_energy(torch.randn(1, 3), 2, True, eps=0).item() == pytest.approx(0.25)  # w and -w


def test_layer_rows() -> None:
    conv = nn.Conv2d(3, 4, 3)
    assert layer_rows(conv).shape == (4, 27) and torch.equal(layer_rows(conv)[1], conv.weight[1].flatten())
    assert layer_rows(nn.Linear(5, 2)).shape == (2, 5)


def _model(widths=(48, 16)):
    return build_model("mlp", {"widths": widths, "activation": "relu"}, (1, 8, 8), 10, torch.Generator().manual_seed(0))


def test_learned_projections() -> None:
    """angle: one step lowers the angle mismatch; adversarial: ascent raises the projected
    energy. Only layers with d > k get a P, on the model's device, outside its parameters."""
    model = _model()
    w = layer_rows(model.layers[0]).detach()  # d = 64
    for variant, measure, sign in (("angle", angle_mismatch, -1), ("adversarial", lambda x, q: mhe_energy(x @ q.T), 1)):
        reg = CoMHE(variant=variant)
        reg.setup(model, 10)
        assert set(reg.proj) == {0, 1} and reg.proj[0].shape == (30, 64) and reg.proj[1].device == w.device
        assert not any(p is q for p in reg.proj.values() for q in model.parameters())
        before = measure(w, reg.proj[0])
        reg.hidden_energy(None, 0, w)
        assert sign * (measure(w, reg.proj[0]) - before) > 0


def test_random_projections_skip_small_layers() -> None:
    rows = layer_rows(_model().layers[1])  # d = 48
    ctx = SimpleNamespace(generator=torch.Generator().manual_seed(1))
    assert torch.equal(CoMHE(k=48).hidden_energy(ctx, 1, rows), mhe_energy(rows, 2, True))  # d <= k: plain MHE
    assert not torch.equal(CoMHE(k=40).hidden_energy(ctx, 1, rows), mhe_energy(rows, 2, True))


def _hidden_energy(model) -> float:
    with torch.no_grad():
        return sum(mhe_energy(layer_rows(layer), 2, True).item() for layer in model.weight_layers()[:-1])


def test_training_lowers_hidden_energy() -> None:
    """Same seed and data: after training, the hidden layers' half-space energy is lower with
    mhe and with comhe (random, angle) than with plain cross-entropy."""
    cfg = dict(data="digits", train_size=300, epochs=5, model_params={"widths": (32, 32)})
    methods = {"ce": ("ce", {}), "mhe": ("mhe", {}), "comhe": ("comhe", {}), "angle": ("comhe", {"variant": "angle"})}
    runs = {key: train(RunConfig(**cfg, method=m, method_params=p)) for key, (m, p) in methods.items()}
    assert all(r.status == "done" for r in runs.values())
    energy = {key: _hidden_energy(r.model) for key, r in runs.items()}
    assert all(energy[key] < energy["ce"] - 1e-4 for key in ("mhe", "comhe", "angle")), energy


@pytest.mark.parametrize("variant", ["random", "angle", "adversarial"])
def test_cnn_runs(variant: str) -> None:
    for method, params in (("mhe", {}), ("comhe", {"variant": variant})):
        r = train(RunConfig(data="digits", model="cnn", method=method, method_params=params, epochs=1, train_size=200,
                            model_params={"channels": (8, 16), "feature_dim": 32}))
        assert r.status == "done" and r.history[-1]["penalty/hidden_energy"] > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    w, p = torch.randn(16, 50), torch.randn(4, 40, 50)
    assert torch.allclose(mhe_energy(w.cuda(), 2, True).cpu(), mhe_energy(w, 2, True), rtol=1e-4)
    assert torch.allclose(comhe_energy(w.cuda(), p.cuda()).cpu(), comhe_energy(w, p), rtol=1e-4)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_params_declared(name: str) -> None:
    cls = REGISTRY[name]
    names = [p.name for p in cls.params]
    assert len(set(names)) == len(names) and "lambda" not in names
    for p in (*cls.params, cls.lam_param()):
        assert p.help and p.check(name, p.default) == p.default, p.name
