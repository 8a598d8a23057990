"""Property-based bad input: every config trains or is refused in one line naming the field;
run names never escape the runs folder; junk in the runs folder never breaks listing."""
import json
import math
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lab import data, models, regularizers
from lab.cli import main
from lab.config import TRAIN_PARAMS, RunConfig, validate
from lab.errors import LabError, StoreError
from lab.params import Choice, Flag, Interval, IntList, Param
from lab.store import check_run_name, list_runs
from lab.train import train

OFFLINE = [n for n, s in data.DATASETS.items() if s.offline]
NO_FILES = "/nonexistent/reglab-fuzz-data"  # where a file-backed data set looks: nothing there, nothing fetched


def junk():
    return st.one_of(st.none(), st.booleans(), st.text(max_size=6), st.floats(allow_nan=True, allow_infinity=True),
                     st.integers(-10**9, 10**9), st.lists(st.integers(-5, 5), max_size=3))


def value_for(p: Param):
    """Mostly values near the allowed range (edges and just outside), sometimes junk."""
    c = p.constraint
    if isinstance(c, Interval):
        lo = c.low if c.low is not None else -1e3
        hi = min(c.high, lo + 64) if c.high is not None else lo + 64
        num = st.integers(int(math.floor(lo)) - 1, int(math.ceil(hi)) + 1) if c.type is int \
            else st.floats(lo - 0.5, hi + 0.5)
        good = st.just(p.default)
    elif isinstance(c, Choice):
        num, good = st.sampled_from(list(c.options) + ["bogus", -1]), st.just(p.default)
    elif isinstance(c, Flag):
        num, good = st.sampled_from([True, False, "yes", "no", "maybe"]), st.just(p.default)
    elif isinstance(c, IntList):
        num, good = st.lists(st.integers(-1, 40), min_size=0, max_size=3), st.just((8,))
    else:
        num, good = st.text(max_size=5), st.just(p.default)
    return _mostly(good, st.one_of(num, junk()))


def _mostly(good, bad, odds: int = 12):
    """`good` with probability 1 - 1/odds, else `bad` (so most configs are valid and train)."""
    return st.integers(0, odds - 1).flatmap(lambda k: bad if k == odds - 1 else good)


@st.composite
def configs(draw):
    name = draw(_mostly(st.sampled_from(OFFLINE), st.sampled_from(["imagenet", "", "mnist"])))
    model = draw(_mostly(st.sampled_from(list(models.MODELS)), st.just("rnn")))
    method = draw(_mostly(st.sampled_from(list(regularizers.REGISTRY)), st.just("magic")))

    def params(ps):
        ps = [p for p in ps if p.name not in ("download", "root")]  # never download, never read ./data
        chosen = draw(st.lists(st.sampled_from(ps), unique_by=lambda p: p.name)) if ps else []
        out = {p.name: draw(value_for(p)) for p in chosen}
        if draw(st.integers(0, 30)) == 30:
            out["unknown_option"] = 1
        return out

    ds = data.DATASETS.get(name)
    train_vals = {p.name: draw(value_for(p)) for p in TRAIN_PARAMS if draw(st.booleans())}
    lam = draw(_mostly(st.one_of(st.none(), st.floats(0, 10)), st.one_of(st.floats(-1, 0, exclude_max=True), junk())))
    files = {"root": NO_FILES} if ds is not None and not ds.offline else {}
    return RunConfig(data=name, model=model, method=method, lam=lam,
                     data_params={**params(ds.params), **files} if ds else {},
                     model_params=params(models.MODELS[model].params) if model in models.MODELS else {},
                     method_params=params(regularizers.REGISTRY[method].params) if method in regularizers.REGISTRY else {},
                     **train_vals)


def _small(cfg: RunConfig) -> RunConfig:
    """Bound the cost of training a valid config (1 epoch, capped sizes); every other field is kept."""
    mp = dict(cfg.model_params)
    for key in ("widths", "channels"):
        if key in mp:
            mp[key] = tuple(min(w, 32) for w in mp[key])
    if "feature_dim" in mp:
        mp["feature_dim"] = min(mp["feature_dim"], 32)
    dp = dict(cfg.data_params)
    if "n_samples" in dp:
        dp["n_samples"] = min(dp["n_samples"], 300)
    return replace(cfg, epochs=1, model_params=mp, data_params=dp, probe_size=min(cfg.probe_size, 200),
                   train_size=min(cfg.train_size, 200) if cfg.train_size else 200)


def outcome(cfg: RunConfig) -> str:
    """"trained" (a valid config trains at least one epoch, done or diverged) or "refused" (a
    LabError in one line naming the problem); anything else fails the test."""
    try:
        valid = validate(cfg)
        res = train(_small(valid))
    except LabError as e:
        msg = str(e)
        assert msg and "\n" not in msg and "Traceback" not in msg
        return "refused"
    assert res.status in ("done", "diverged"), res.error
    assert res.history, "a valid config must train at least one epoch"
    return "trained"


def test_every_config_trains_or_is_refused_in_one_line():
    """120 fuzzed configs, the same ones on every run (derandomized, no example database, so the
    test does not depend on the order or on earlier runs); both outcomes must occur."""
    tried = {"trained": 0, "refused": 0}

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(configs())
    def check(cfg: RunConfig) -> None:
        tried[outcome(cfg)] += 1

    check()
    assert tried["trained"] > 5 and tried["refused"] > 5, tried


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_run_names_never_escape(name):
    try:
        ok = check_run_name(name)
    except StoreError as e:
        assert "\n" not in str(e)
        return
    root = Path("/tmp/reglab-runs-root").resolve()
    assert (root / ok).resolve().parent == root and not ok.startswith(".")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(files=st.lists(st.tuples(st.sampled_from(["config.json", "status.json", "metrics.jsonl", "x.bin"]),
                                st.binary(max_size=64)), max_size=4),
       name=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True))
def test_junk_in_runs_folder_is_skipped_not_fatal(tmp_path_factory, files, name):
    root = tmp_path_factory.mktemp("runs")
    (root / "stray-file.txt").write_bytes(b"\x00\x01")
    folder = root / name
    folder.mkdir()
    for fname, content in files:
        (folder / fname).write_bytes(content)
    assert main(["train", "--epochs", "1", "--train-size", "50", "--widths", "8", "--runs", str(root),
                 "--name", "good"]) == 0
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        runs = list_runs(root)
    assert "good" in [r.id for r in runs]
    assert main(["runs", "--runs", str(root)]) == 0


def test_corrupt_config_with_foreign_json_is_skipped(tmp_path):
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "config.json").write_text(json.dumps({"data": "digits", "evil": "__import__('os')"}))
    with pytest.warns(UserWarning, match="Skipped foreign"):
        assert list_runs(tmp_path) == []
