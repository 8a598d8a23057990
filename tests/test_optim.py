"""The runs' optimizers (`lab.optim`) against torch.optim, and why they exist: no torch._dynamo import."""
import subprocess
import sys

import pytest
import torch

from lab.optim import optimizer


@pytest.mark.parametrize("name, make", [("sgd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
                                        ("adam", lambda p: torch.optim.Adam(p, lr=0.01))])
def test_the_optimizers_take_the_same_steps_as_torch_optim_to_the_last_bit(name, make):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    twin = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    twin.load_state_dict(net.state_dict())
    frozen = net[0].bias  # a parameter without a gradient is left alone, as torch.optim leaves it
    frozen.requires_grad_(False), twin[0].bias.requires_grad_(False)
    ours, theirs = optimizer(name, net.parameters(), 0.05 if name == "sgd" else 0.01, 0.9), make(twin.parameters())
    x, y, start = torch.randn(32, 5), torch.randint(0, 3, (32,)), net[2].weight.clone()
    for _ in range(6):
        for model, opt in ((net, ours), (twin, theirs)):
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), twin.parameters()))
    assert not torch.equal(net[2].weight, start)  # it moved
    assert torch.equal(frozen, twin[0].bias)


def test_a_fresh_processs_first_run_does_not_import_torch_dynamo():
    """torch.optim's first step imports torch._dynamo (1.4-1.8 s here): most of a fresh app's first run."""
    code = ("import sys; from lab.config import RunConfig; from lab.train import train; "
            "r = train(RunConfig(data='moons', epochs=1, optimizer='{}')); "
            "assert r.status == 'done', r.status; print('torch._dynamo' in sys.modules)")
    for name in ("sgd", "adam"):
        out = subprocess.run([sys.executable, "-c", code.format(name)], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0 and out.stdout.split() == ["False"], out.stderr[-2000:]
