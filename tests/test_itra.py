"""ITRA: hand-computed MMD values, gradients, invariances, class-conditional MMD, behaviour."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from lab.config import RunConfig
from lab.data import prepare
from lab.models import build_model
from lab.regularizers import REGISTRY, StepContext, class_conditional_mmd2, cross_kernel, mmd2
from lab.train import train

# unit square: x = {(0,0), (1,0)}, y = {(0,1), (1,1)}
X = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
Y = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
E5, E1 = math.exp(-0.5), math.exp(-1.0)  # k at squared distance 1 and 2, sigma = 1


def test_hand_values():
    # mean Kxx = mean Kyy = (2 + 2 e^-.5) / 4 = 0.803265; mean Kxy = (2 e^-.5 + 2 e^-1) / 4 = 0.487205
    # biased 2 (0.803265 - 0.487205) = 0.632121; unbiased 2 e^-.5 - 2 (0.487205) = 0.238651
    assert mmd2(X, Y, [1.0]).item() == pytest.approx(0.632121, abs=1e-6)
    assert mmd2(X, Y, [1.0], unbiased=True).item() == pytest.approx(0.238651, abs=1e-6)
    assert torch.allclose(cross_kernel(X, Y, [1.0]), torch.tensor([[E5, E1], [E1, E5]]))


def test_default_bandwidths_are_median_multiples():
    # the 6 pairwise distances of the square are 1, 1, 1, 1, sqrt 2, sqrt 2: sigma_med = 1, and
    # the kernel sum over bandwidths makes the MMD the sum of single-bandwidth MMDs
    factors = (0.25, 0.5, 1.0, 2.0, 4.0)
    assert mmd2(X, Y).item() == pytest.approx(mmd2(X, Y, factors).item(), rel=1e-6)
    assert mmd2(X, Y).item() == pytest.approx(sum(mmd2(X, Y, [f]).item() for f in factors), rel=1e-6)
    assert mmd2(2 * X, 2 * Y).item() == pytest.approx(mmd2(X, Y).item(), rel=1e-6)  # scale-free


@pytest.mark.parametrize("unbiased", [False, True])
def test_gradcheck(unbiased):
    g = torch.Generator().manual_seed(0)
    x, y = (torch.randn(n, 4, dtype=torch.float64, generator=g, requires_grad=True) for n in (7, 5))
    assert torch.autograd.gradcheck(lambda x, y: mmd2(x, y, [0.7, 2.0], unbiased), (x, y))
    lx, ly = torch.tensor([0, 1, 1, 2, 0, 1, 2]), torch.tensor([1, 0, 2, 1, 0])
    assert torch.autograd.gradcheck(
        lambda x, y: class_conditional_mmd2(x, y, lx, ly, 3, [1.5], unbiased), (x, y))


def test_identical_batches_and_symmetry():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(16, 8, generator=g), torch.randn(12, 8, generator=g) + 1
    assert abs(mmd2(x, x).item()) < 1e-6
    assert mmd2(x, y).item() == pytest.approx(mmd2(y, x).item(), rel=1e-6)
    assert mmd2(x, y).item() > 0.1
    assert mmd2(x, y, unbiased=True).item() == pytest.approx(mmd2(y, x, unbiased=True).item(), rel=1e-6)


def test_degenerate_batch_has_finite_gradient():
    # all features equal: sigma_med is clamped at 1e-6, MMD 0, no NaN
    x = torch.zeros(4, 3, requires_grad=True)
    loss = mmd2(x, torch.zeros(4, 3))
    loss.backward()
    assert loss.item() == 0 and torch.isfinite(x.grad).all()


def test_class_conditional_hand_case():
    # sigma = 1, 1-d: class 0 has x = 0, y = 0 -> MMD 0; class 1 has x = 1, y = 3 ->
    # 1 + 1 - 2 e^-2 = 1.729329; class 2 is only in x -> left out; mean 0.864665
    x, y = torch.tensor([[0.0], [1.0], [5.0]]), torch.tensor([[0.0], [3.0]])
    value = class_conditional_mmd2(x, y, torch.tensor([0, 1, 2]), torch.tensor([0, 1]), 3, [1.0])
    assert value.item() == pytest.approx((2 - 2 * math.exp(-2)) / 2, abs=1e-6)
    # unbiased needs 2 samples per class on each side: none here -> 0
    assert class_conditional_mmd2(x, y, torch.tensor([0, 1, 2]), torch.tensor([0, 1]), 3, [1.0], True).item() == 0


@pytest.mark.parametrize("unbiased", [False, True])
def test_class_conditional_equals_per_class_loop(unbiased):
    # the vectorised form = mean over shared classes of mmd2(x_c, y_c) at the bandwidths of [x; y]
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(40, 6, generator=g), torch.randn(30, 6, generator=g)
    lx, ly = torch.randint(0, 4, (40,), generator=g), torch.randint(0, 5, (30,), generator=g)
    ly[ly == 4] = 3
    z = torch.cat([x, y])
    i, j = torch.triu_indices(len(z), len(z), 1)
    bw = torch.cdist(z, z)[i, j].median() * torch.tensor([0.25, 0.5, 1.0, 2.0, 4.0])
    ref = torch.stack([mmd2(x[lx == c], y[ly == c], bw, unbiased) for c in range(5)
                       if (lx == c).sum() >= 1 + unbiased and (ly == c).sum() >= 1 + unbiased]).mean()
    assert class_conditional_mmd2(x, y, lx, ly, 5, unbiased=unbiased).item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize("options", [{}, {"class_conditional": False}, {"class_conditional": True, "unbiased": True}])
def test_regularizer_penalty_uses_both_batches(options):
    gen = torch.Generator().manual_seed(0)
    model = build_model("mlp", {"widths": (16,), "activation": "relu"}, (4,), 3, gen)
    x, x2 = torch.randn(12, 4, generator=gen), torch.randn(12, 4, generator=gen)
    y, y2 = torch.arange(12) % 3, torch.arange(12) % 3
    reg = REGISTRY["itra"](**options)
    assert reg.needs == {"second_batch"} and reg.default_lam == 0.3 and reg.class_conditional == options.get(
        "class_conditional", True)
    ctx = StepContext(model, x, y, model(x), 3, gen, x2, y2, model(x2))
    (name, value), = reg.penalty(ctx).items()
    f1, f2 = ctx.out.features, ctx.out2.features
    unbiased = options.get("unbiased", False)
    expected = (class_conditional_mmd2(f1, f2, y, y2, 3, unbiased=unbiased) if reg.class_conditional
                else mmd2(f1, f2))
    assert name == "mmd" and value.item() == pytest.approx(expected.item())


def test_itra_makes_batch_features_closer():
    # 300 digits, 5 epochs, batch 32, ITRA's defaults. The MMD of disjoint probe subsets of batch
    # size (10 draws, fixed generator) is compared at ONE set of bandwidths (median multiples of
    # the reference model's features). itra at lambda 0 takes the same batches and steps, so it
    # isolates the penalty; every method takes CE's steps. Measured, seeds 0-2: the ratio itra /
    # itra-at-lambda-0 is 0.53-0.61, itra / CE 0.57-0.77.
    data = prepare("digits", {}, data_seed=0, train_size=300, probe_size=2000, device=torch.device("cpu"))
    base = RunConfig(data="digits", train_size=300, epochs=5, batch_size=32)

    def features(**over) -> torch.Tensor:
        model = train(replace(base, **over)).model.eval()
        with torch.no_grad():
            return model(data.probe.x).features

    def probe_mmd(f: torch.Tensor, ref: torch.Tensor) -> float:
        i, j = torch.triu_indices(len(ref), len(ref), 1)
        bw = torch.cdist(ref, ref)[i, j].median() * torch.tensor([0.25, 0.5, 1.0, 2.0, 4.0])
        g = torch.Generator().manual_seed(0)
        draws = [torch.randperm(len(f), generator=g)[:64] for _ in range(10)]
        return sum(mmd2(f[p[:32]], f[p[32:]], bw).item() for p in draws) / len(draws)

    ce, itra0, itra = features(), features(method="itra", lam=0.0), features(method="itra")
    assert probe_mmd(itra, itra0) < 0.7 * probe_mmd(itra0, itra0)
    assert probe_mmd(itra, ce) < 0.85 * probe_mmd(ce, ce)


def test_class_conditional_mmd2_per_class_terms_average_to_the_reduced_value_and_absent_classes_are_nan():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 3, generator=gen, dtype=torch.float64), torch.randn(10, 3, generator=gen, dtype=torch.float64)
    lx, ly = torch.arange(12) % 3, torch.arange(10) % 2
    terms = class_conditional_mmd2(x, y, lx, ly, 4, reduce=False)
    assert terms.shape == (4,) and terms[2:].isnan().all() and not terms[:2].isnan().any()
    assert terms[:2].mean().item() == pytest.approx(class_conditional_mmd2(x, y, lx, ly, 4).item(), rel=1e-12)
