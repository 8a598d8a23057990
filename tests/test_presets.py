"""Data set presets: named settings with a published result (MNIST-1D's paper)."""
import pytest

from lab.config import RunConfig, validate
from lab.data import DATASETS, published
from lab.errors import ConfigError


def test_mnist1d_carries_its_papers_settings_and_numbers():
    spec = DATASETS["mnist1d"]
    cnn, mlp = spec.preset("paper_cnn"), spec.preset("paper_mlp")
    assert (cnn.published, mlp.published) == (0.94, 0.68) and "Greydanus" in cnn.source
    for preset in (cnn, mlp):
        cfg = validate(RunConfig(data="mnist1d", **preset.settings))  # the settings are valid run settings
        assert published(cfg.to_dict()) == preset
    assert published(validate(RunConfig(data="mnist1d")).to_dict()) is None  # the lab's defaults are not the paper's
    with pytest.raises(ConfigError, match="paper_cnn, paper_mlp"):
        spec.preset("paper")
