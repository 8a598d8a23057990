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


def test_the_command_line_trains_a_preset_and_a_given_option_wins(tmp_path):
    import json

    from lab.cli import main

    assert main(["train", "--data", "mnist1d", "--preset", "paper_mlp", "--epochs", "1", "--widths", "32",
                 "--runs", str(tmp_path), "--name", "p"]) == 0
    cfg = json.loads((tmp_path / "p" / "config.json").read_text())
    assert (cfg["model"], cfg["optimizer"], cfg["lr"], cfg["batch_size"], cfg["epochs"]) == ("mlp", "adam", 0.01, 100, 1)
    assert cfg["model_params"]["widths"] == [32]
    assert main(["train", "--data", "digits", "--preset", "paper_cnn", "--runs", str(tmp_path)]) == 2
