"""phantom: hand-computed phantoms and penalty, random k-subsets, gradients, balanced batches,
and its effect on a digits MLP."""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from lab.config import RunConfig
from lab.data import prepare
from lab.errors import ConfigError
from lab.regularizers import (REGISTRY, class_phantoms, phantom_embeddings, phantom_mix,
                              phantom_penalty)
from lab.train import train

# 2-D example, 3 classes, class 2 absent from the batch (k=None: phantoms are class means):
#   class 0: z0 = (1, 0), z1 = (3, 0) -> phantom (2, 0);  class 1: z2 = (0, 2), z3 = (1, 1) -> (1/2, 3/2)
#   cos to phantom 0: z0 1, z1 1, z2 0, z3 1/sqrt2;  cos to phantom 1 ~ (1, 3): z0, z1 1/sqrt10,
#   z2 3/sqrt10, z3 4/sqrt20 = 2/sqrt5
#   repel = mean over (i, other present class) = (1/sqrt10 + 1/sqrt10 + 0 + 1/sqrt2) / 4
#   attract = mean over i of 1 - cos(own) = (0 + 0 + (1 - 3/sqrt10) + (1 - 2/sqrt5)) / 4
#   margin 0.5: only z3 -> phantom 0 counts, (1/sqrt2 - 1/2) / 4
Z = torch.tensor([[1.0, 0], [3, 0], [0, 2], [1, 1]])
Y = torch.tensor([0, 0, 1, 1])
S2, S5, S10 = math.sqrt(2), math.sqrt(5), math.sqrt(10)


def test_hand_computed_phantoms_and_penalty():
    phantoms, present = class_phantoms(Z, Y, 3)
    assert torch.allclose(phantoms, torch.tensor([[2.0, 0], [0.5, 1.5], [0, 0]]))
    assert present.tolist() == [True, True, False]
    repel = (2 / S10 + 1 / S2) / 4
    attract = (2 - 3 / S10 - 2 / S5) / 4
    assert phantom_penalty(Z, Y, phantoms, present).item() == pytest.approx(repel + attract)
    assert phantom_penalty(Z, Y, phantoms, present, attract=False).item() == pytest.approx(repel)
    assert phantom_penalty(Z, Y, phantoms, present, margin=0.5, attract=False).item() == pytest.approx(
        (1 / S2 - 0.5) / 4)


def test_k_subsets_are_random_same_class_means():
    gen = torch.Generator().manual_seed(0)
    y = torch.tensor([0, 1, 0, 3, 1, 0, 3, 0, 1, 0])  # class 2 absent, class 3 has 2 samples
    z = torch.randn(10, 3, generator=gen)
    drawn = set()
    for _ in range(20):
        phantoms, present = class_phantoms(z, y, 4, k=2, generator=gen)
        assert present.tolist() == [True, True, False, True]
        for c in (0, 1, 3):
            members = (y == c).nonzero().flatten().tolist()
            means = {pair: z[list(pair)].mean(0) for pair in itertools.combinations(members, 2)}
            pair = [p for p, m in means.items() if torch.allclose(m, phantoms[c])]
            assert len(pair) == 1
            drawn.add((c, pair[0]))
        assert torch.equal(phantoms[2], torch.zeros(3))
    assert len([d for d in drawn if d[0] == 0]) > 3  # subsets vary between draws
    # k at least the class size: the class mean
    phantoms, _ = class_phantoms(z, y, 4, k=50, generator=gen)
    assert torch.allclose(phantoms[3], z[y == 3].mean(0))


def test_phantom_embeddings_and_mix():
    gen = torch.Generator().manual_seed(1)
    y = torch.tensor([0, 0, 0, 1, 1, 2])  # sample 5 is alone in its class
    z = torch.randn(6, 4, generator=gen)
    phi = phantom_embeddings(z, y)
    assert torch.allclose(phi[0], (z[1] + z[2]) / 2)
    assert torch.allclose(phi[3], z[4]) and torch.allclose(phi[5], z[5])
    one = phantom_embeddings(z, y, k=1, generator=gen)  # one other same-class sample each
    for i in range(5):
        assert any(torch.equal(one[i], z[j]) for j in range(6) if j != i and y[j] == y[i])
    mixed = phantom_mix(z, y, alpha=0.25, k=1, generator=torch.Generator().manual_seed(3))
    phi = phantom_embeddings(z, y, k=1, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(mixed, 0.75 * z + 0.25 * phi)


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(8, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    phantoms = torch.randn(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    present = torch.tensor([True, True, True, False])
    cos = F.normalize(z, dim=1) @ F.normalize(phantoms, dim=1).T
    assert (cos - 0.1).abs().min() > 1e-3  # away from the hinge
    assert torch.autograd.gradcheck(lambda a, p: phantom_penalty(a, y, p, present, margin=0.1), (z, phantoms))
    assert torch.autograd.gradcheck(lambda a: phantom_penalty(a, y, *class_phantoms(a, y, 4)), (z,))


def _penalty_by_definition(z, y, phantoms, present, margin, attract):
    """METHODS.md's phantom_penalty written plainly (autograd assembles its gradient)."""
    cos = (z @ phantoms.T) / (z.norm(dim=1, keepdim=True) * phantoms.norm(dim=1)).clamp_min(1e-12)
    others = present.unsqueeze(0) & (torch.arange(len(present)).unsqueeze(0) != y.unsqueeze(1))
    value = F.relu(cos - margin)[others].mean()
    own = present[y]
    return value + (1 - cos[torch.arange(len(y)), y])[own].mean() if attract else value


@pytest.mark.parametrize("margin, attract", [(0.0, True), (0.3, True), (-0.4, False), (0.2, False)])
def test_the_one_node_penalty_has_the_definitions_value_and_gradient(margin, attract):
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(40, 16, generator=gen).relu()
    z[5] = 0  # a dead feature vector: no norm term in its gradient
    y = torch.arange(40) % 5
    phantoms = torch.randn(5, 16, generator=gen)
    present = torch.tensor([True, True, False, True, True])
    grads = []
    for f in (phantom_penalty, _penalty_by_definition):
        a, p = z.clone().requires_grad_(), phantoms.clone().requires_grad_()
        value = f(a, y, p, present, margin, attract)
        grads.append((value, *torch.autograd.grad(value, (a, p))))
    for fused, plain in zip(*grads):
        torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-6)

@pytest.mark.parametrize("margin, attract, k", [(0.0, True, 2), (0.3, False, 4), (-0.2, True, 9)])
def test_a_class_balanced_batch_takes_each_blocks_first_k_rows_with_the_definitions_value_and_gradient(
        margin, attract, k):
    from types import SimpleNamespace

    gen = torch.Generator().manual_seed(4)
    y = torch.tensor([2, 0, 3]).repeat_interleave(5)  # as TensorSet.balanced_batches lays a batch out
    z = torch.randn(15, 6, generator=gen, dtype=torch.float64).relu().requires_grad_()
    reg = REGISTRY["phantom"](margin=margin, attract=attract, k=k)
    ctx = SimpleNamespace(out=SimpleNamespace(features=z), y=y, n_classes=4, generator=gen, blocks=(3, 5))
    value = reg.penalty(ctx)["phantom"]
    phantoms = torch.zeros(4, 6, dtype=torch.float64).index_add(0, y[::5], z.view(3, 5, 6)[:, :k].sum(1))
    expected = _penalty_by_definition(z, y, phantoms, torch.tensor([True, False, True, True]), margin, attract)
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(*(torch.autograd.grad(v, z)[0] for v in (value, expected)))


def test_trains_on_class_balanced_batches(monkeypatch):
    cls = REGISTRY["phantom"]
    assert "balanced_batches" in cls.needs
    counts = []
    penalty = cls.penalty

    def spy(self, ctx):
        counts.append(torch.bincount(ctx.y, minlength=ctx.n_classes))
        blocks.append((ctx.blocks, ctx.y.view(10, 6)))
        return penalty(self, ctx)

    blocks = []
    monkeypatch.setattr(cls, "penalty", spy)
    train(RunConfig(data="digits", train_size=300, epochs=1, batch_size=64, method="phantom"))
    assert counts and all(bool((c == 6).all()) for c in counts)  # 64 // 10 = 6 per class
    for layout, y in blocks:  # the batch hands on its layout: block c holds the 6 samples of class c
        assert layout == (10, 6) and torch.equal(y, torch.arange(10).unsqueeze(1).expand(10, 6))


def test_a_batch_without_blocks_draws_its_subsets_at_random():
    from types import SimpleNamespace

    y = torch.tensor([0, 0, 1, 1, 2, 2])  # laid out in blocks, but no layout given: random draws
    z = torch.randn(6, 4, generator=torch.Generator().manual_seed(5)).requires_grad_()
    reg = REGISTRY["phantom"](k=1)
    values = set()
    for seed in range(12):
        ctx = SimpleNamespace(out=SimpleNamespace(features=z), y=y, n_classes=3, blocks=None,
                              generator=torch.Generator().manual_seed(seed))
        values.add(round(reg.penalty(ctx)["phantom"].item(), 6))
    assert len(values) > 2  # with blocks=(3, 2) and k=1 the phantoms would always be rows 0, 2, 4


def test_refuses_parameters_of_the_other_mode():
    with pytest.raises(ConfigError, match="keep_clean.*mode 'mix'"):
        REGISTRY["phantom"](keep_clean=True)
    with pytest.raises(ConfigError, match="margin.*mode 'contrast'"):
        REGISTRY["phantom"](mode="mix", margin=0.2)
    assert REGISTRY["phantom"](mode="mix", alpha=0.3, keep_clean=True).alpha == 0.3


def _inter_class_cosine(method: str, probe) -> float:
    model = train(RunConfig(data="digits", train_size=300, epochs=5, method=method)).model
    model.eval()
    with torch.no_grad():
        f = F.normalize(model(probe.x).features, dim=1)
    return (f @ f.T)[probe.y.unsqueeze(0) != probe.y.unsqueeze(1)].mean().item()


def test_lowers_inter_class_similarity_on_digits():
    probe = prepare("digits", {}, train_size=300).probe
    assert _inter_class_cosine("phantom", probe) < _inter_class_cosine("ce", probe) - 0.2


def test_mix_mode_trains_with_finite_loss():
    for keep_clean in (False, True):
        r = train(RunConfig(data="digits", train_size=300, epochs=3, method="phantom",
                            method_params={"mode": "mix", "keep_clean": keep_clean}))
        assert r.status == "done"
        assert all(math.isfinite(h["train_loss"]) and h["reg_loss"] == 0 for h in r.history)
