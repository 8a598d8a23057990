"""What a probe snapshot holds, and how to read its keys (the layout is documented in README,
"Run folders"): `probe_y`, `logits`, `hidden_<i>` (input side first; the last is the features)
and `weight_<j>`/`bias_<j>` in forward order (the head last); 2-D inputs add `grid_x`, `grid_y`,
`grid_logits` (the decision-boundary grid, `lab.train.probe_snapshot`). Pure: a snapshot dict in, names
or arrays out; reading snapshot files is `lab.store`'s job, over epochs `lab.readout`'s.
"""
from __future__ import annotations

import numpy as np

from lab.errors import ConfigError, LabError

_CONV = {3: "conv1d", 4: "conv2d"}


def _indexed(snapshot: dict[str, np.ndarray], prefix: str) -> list[str]:
    return sorted((k for k in snapshot if k.startswith(prefix)), key=lambda k: int(k.split("_")[1]))


def hidden_layers(snapshot: dict[str, np.ndarray]) -> list[str]:
    """The snapshot's hidden-state keys in forward order: ["hidden_0", ..., "hidden_<L-1>"]."""
    return _indexed(snapshot, "hidden_")


def feature_layer(snapshot: dict[str, np.ndarray]) -> str:
    """The key of the features (the head's input): the last hidden state, or "logits" without one."""
    hidden = hidden_layers(snapshot)
    return hidden[-1] if hidden else "logits"


def weight_labels(snapshot: dict[str, np.ndarray]) -> dict[str, str]:
    """Weight keys in forward order mapped to their labels, e.g. {"weight_0": "layer 0 (linear 64->256)"}."""
    keys = _indexed(snapshot, "weight_")
    return {k: weight_label(int(k.split("_")[1]), snapshot[k].shape, k == keys[-1]) for k in keys}


def feature_weight(snapshot: dict[str, np.ndarray]) -> str:
    """The key of the weight layer that produces the features: the one before the head (the head
    itself when it is the only weight layer). The one place this rule is written."""
    keys = _indexed(snapshot, "weight_")
    return keys[-2] if len(keys) > 1 else keys[-1]


def weight_label(index: int, shape: tuple[int, ...], head: bool = False) -> str:
    """"layer 0 (linear 64->256)", "layer 1 (conv2d 16->32, 3x3)", "layer 3 (linear 128->10, head)"."""
    kind = _CONV.get(len(shape), "linear")
    kernel = "" if kind == "linear" else ", " + "x".join(map(str, shape[2:]))
    return f"layer {index} ({kind} {shape[1]}->{shape[0]}{kernel}{', head' if head else ''})"


def is_finite(snapshot: dict[str, np.ndarray]) -> bool:
    """Whether every float array of the snapshot is finite (a diverging run, or values beyond the
    float16 range of snapshots, leave NaN or inf)."""
    return all(np.isfinite(a).all() for a in snapshot.values() if a.dtype.kind == "f")


def n_classes(snapshot: dict[str, np.ndarray]) -> int:
    """The number of classes: the width of the logits."""
    return int(snapshot["logits"].shape[1])


def features(snapshot: dict[str, np.ndarray], layer: str) -> np.ndarray:
    """A snapshot's "hidden_<i>" or "logits" as (n, d) float32, conv states flattened per sample;
    LabError when the layer holds non-finite values (a diverging run)."""
    if layer not in snapshot or not (layer == "logits" or layer.startswith("hidden_")):
        have = sorted(k for k in snapshot if k == "logits" or k.startswith("hidden_"))
        raise ConfigError(f"No layer {layer!r} in this run's snapshots; layers are: {', '.join(have)}.")
    a = snapshot[layer].reshape(len(snapshot[layer]), -1).astype(np.float32)
    if not np.isfinite(a).all():
        raise LabError(f"Layer {layer} has non-finite values in this snapshot (a diverging run, or values beyond "
                       f"the float16 range of snapshots); choose an earlier epoch.")
    return a
