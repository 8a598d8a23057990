"""gini: hand-computed values, bounds, dead features, gradients, and its effect on a digits MLP."""
import math

import pytest
import torch

from lab.config import RunConfig
from lab.data import prepare
from lab.models import build_model
from lab.regularizers import REGISTRY, StepContext, class_coverage_kl, gini_impurity
from lab.train import train

# 3 samples, 4 features, y = (0, 0, 1). Class masses M (rows: classes):
#   class 0 = [3, 1, 1, 0], class 1 = [0, 3, 1, 0]; feature 3 is dead (mass 0), left out.
#   p(c|j) for j = 0, 1, 2: (1, 0), (1/4, 3/4), (1/2, 1/2)
#   Gini_j = 0, 1 - 1/16 - 9/16 = 3/8, 1/2  -> mean 7/24
#   q = ((1 + 1/4 + 1/2) / 3, (0 + 3/4 + 1/2) / 3) = (7/12, 5/12), pi = (2/3, 1/3)
#   KL = 2/3 log((2/3) / (7/12)) + 1/3 log((1/3) / (5/12)) = 2/3 log(8/7) + 1/3 log(4/5)
#   with prior (1/2, 1/2): 1/2 log(6/7) + 1/2 log(6/5) = 1/2 log(36/35)
A = torch.tensor([[2.0, 0, 1, 0], [1, 1, 0, 0], [0, 3, 1, 0]])
Y = torch.tensor([0, 0, 1])


def test_hand_computed_values():
    assert gini_impurity(A, Y, 2).item() == pytest.approx(7 / 24)
    kl = 2 / 3 * math.log(8 / 7) + 1 / 3 * math.log(4 / 5)
    assert class_coverage_kl(A, Y, 2).item() == pytest.approx(kl, abs=1e-6)
    prior = torch.tensor([0.5, 0.5])
    assert class_coverage_kl(A, Y, 2, prior=prior).item() == pytest.approx(0.5 * math.log(36 / 35), abs=1e-6)


def test_zero_for_one_class_per_feature_and_maximum_for_uniform():
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat(5)  # 4 classes, 5 samples each
    a = torch.rand(20, 12, generator=gen) + 0.1
    pure = a * (y.unsqueeze(1) == torch.arange(12) % 4)  # feature j fires only for class j mod 4
    assert gini_impurity(pure, y, 4).item() == pytest.approx(0.0, abs=1e-7)
    uniform = torch.ones(20, 12)
    assert gini_impurity(uniform, y, 4).item() == pytest.approx(1 - 1 / 4)
    assert gini_impurity(a, y, 4).item() <= 1 - 1 / 4
    # features spread over all classes cover them as often as they occur: KL = 0
    assert class_coverage_kl(uniform, y, 4).item() == pytest.approx(0.0, abs=1e-6)
    assert class_coverage_kl(pure, y, 4).item() == pytest.approx(0.0, abs=1e-6)


def test_kl_zero_when_coverage_matches_prior():
    y = torch.tensor([0, 0, 1, 2])
    a = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])  # one class per feature
    assert class_coverage_kl(a, y, 3).item() == pytest.approx(0.0, abs=1e-6)  # q = pi = (1/2, 1/4, 1/4)
    prior = torch.tensor([0.25, 0.25, 0.5])
    assert class_coverage_kl(a, y, 3, prior=prior).item() > 0.1


def test_dead_features_left_out_of_both_terms():
    dead = torch.cat([A, torch.zeros(3, 2), torch.full((3, 1), 1e-10)], dim=1)  # mass 0 and 3e-10 <= eps
    assert gini_impurity(dead, Y, 2).item() == pytest.approx(gini_impurity(A, Y, 2).item())
    assert class_coverage_kl(dead, Y, 2).item() == pytest.approx(class_coverage_kl(A, Y, 2).item())
    assert gini_impurity(torch.zeros(3, 4), Y, 2).item() == 0.0
    assert class_coverage_kl(torch.zeros(3, 4), Y, 2).item() == 0.0


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(1)
    a = (torch.rand(9, 5, generator=gen, dtype=torch.float64) + 0.1).requires_grad_()
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 0, 1])
    assert torch.autograd.gradcheck(lambda t: gini_impurity(t, y, 3), (a,))
    assert torch.autograd.gradcheck(lambda t: class_coverage_kl(t, y, 3), (a,))


def test_signed_activations_go_through_softplus():
    gen = torch.Generator().manual_seed(2)
    reg = REGISTRY["gini"](alpha=2.0, beta=0.5)
    model = build_model("mlp", {"widths": (8,), "activation": "tanh"}, (4,), 3, gen)
    reg.setup(model, 3)
    x, y = torch.randn(6, 4, generator=gen), torch.tensor([0, 1, 2, 0, 1, 2])
    out = model(x)
    terms = reg.penalty(StepContext(model, x, y, out, 3, gen))
    a = torch.nn.functional.softplus(out.features)
    assert terms["gini"].item() == pytest.approx(2.0 * gini_impurity(a, y, 3).item())
    assert terms["kl"].item() == pytest.approx(0.5 * class_coverage_kl(a, y, 3).item(), abs=1e-6)


def test_lowers_feature_gini_on_digits():
    probe = prepare("digits", {}, train_size=300).probe

    def probe_gini(method: str) -> float:
        model = train(RunConfig(data="digits", train_size=300, epochs=5, method=method)).model
        model.eval()
        with torch.no_grad():
            return gini_impurity(model(probe.x).features, probe.y, 10).item()

    assert probe_gini("gini") < probe_gini("ce") - 0.01
