"""Shared fixtures: a runs folder, a tiny run configuration, and one tiny finished run."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import pytest
import torch

from lab.config import RunConfig
from lab.store import RunRecord, load_run
from lab.train import train

# The tests' models are tiny: one intra-op thread is faster than two fighting over 2 cores.
torch.set_num_threads(1)

# Small enough to train in well under a second on a laptop CPU; not meant to be accurate.
TINY = dict(data="digits", model="mlp", method="ce", epochs=2, batch_size=32, train_size=200,
            probe_size=50, model_params={"widths": (16, 8)})


@pytest.fixture
def tiny_config() -> Callable[..., RunConfig]:
    """`tiny_config(**overrides)` -> a RunConfig of a 2-epoch digits MLP on 200 samples."""
    return lambda **over: RunConfig(**{**TINY, **over})


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty runs folder that $REGLAB_RUNS also points to (it is created by the first run)."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("REGLAB_RUNS", str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    """A finished 2-epoch run named "tiny", shared by the whole session: read it, never change it."""
    return _shared_run(tmp_path_factory, "tiny", "done", **TINY)


# Diverges at its third epoch (loss NaN); its snapshots overflow float16 from the first epoch on.
DIVERGING = dict(data="digits", method="mhe", lam=1e4, lr=10.0, train_size=300, probe_size=100, epochs=6)


@pytest.fixture(scope="session")
def diverged_run(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    """A run that ended `diverged`, named "diverged", shared by the whole session: never change it."""
    return _shared_run(tmp_path_factory, "diverged", "diverged", **DIVERGING)


def _shared_run(factory: pytest.TempPathFactory, name: str, status: str, **settings) -> RunRecord:
    """Train `settings` once into a fresh folder as run `name`; it must end with `status`."""
    result = train(RunConfig(**settings, name=name), runs=factory.mktemp(f"{name}-runs"))
    assert result.status == status, (result.status, result.error)
    return load_run(result.path)


def links(node) -> list[str]:
    """The addresses an AppTest node shows in `ui.link.share_link`'s copy boxes."""
    return [json.loads(e.proto.json)["url"] for e in node.get("bidi_component") if e.proto.component_name == "reglab_link"]


def plots(node) -> list[SimpleNamespace]:
    """The figures an AppTest node (the app, its main area, a column) shows: `ui.plot`'s elements,
    each with its `key`, `proto.spec` (the figure's JSON) and `proto.config` (plotly.js's, JSON), as
    st.plotly_chart's elements had."""
    shown = [(e.key, json.loads(e.proto.json)) for e in node.get("bidi_component")
             if e.proto.component_name == "reglab_plot"]
    return [SimpleNamespace(key=key, proto=SimpleNamespace(spec=d["figure"], config=d["config"]))
            for key, d in shown]


def press_again(at, button):
    """Run AppTest `at` once more with `button`'s press (an `at.button(...)` clicked and run)
    delivered again, as Streamlit does when a fragment timer's message leaves with the click."""
    states = at._tree.get_widget_states()
    states.widgets.append(button._widget_state)
    return at._run(states)
