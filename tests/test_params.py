"""Every declared parameter (training, data sets, models, methods) has a valid default, and an
invalid value is refused with the one-sentence message that names the owner and the field."""
import math

import pytest

from lab import data, models, regularizers
from lab.config import TRAIN_PARAMS
from lab.errors import ConfigError
from lab.params import Choice, Flag, Interval, IntList, Param, validate_params


def _owners():
    yield "training", TRAIN_PARAMS
    for name, spec in data.DATASETS.items():
        yield name, spec.params
    for name, spec in models.MODELS.items():
        yield name, spec.params
    for name, cls in regularizers.REGISTRY.items():
        yield name, cls.params + (cls.lam_param(),)


ALL = [(owner, p) for owner, params in _owners() for p in params]


def _invalid(p: Param):
    c = p.constraint
    if isinstance(c, Interval):
        return c.high + 1 if c.high is not None else (c.low - 1 if c.low is not None else float("nan"))
    if isinstance(c, Choice):
        return "no-such-option"
    if isinstance(c, Flag):
        return "maybe"
    if isinstance(c, IntList):
        return "1,x"
    return ""


@pytest.mark.parametrize("owner,param", ALL, ids=[f"{o}.{p.name}" for o, p in ALL])
def test_default_valid_and_invalid_refused(owner, param):
    assert param.check(owner, param.default) == param.default
    assert param.help.strip() and "\n" not in param.help
    with pytest.raises(ConfigError) as e:
        param.check(owner, _invalid(param))
    msg = str(e.value)
    assert f"'{param.name}' parameter of {owner}" in msg and "\n" not in msg


def test_nan_and_inf_never_in_range():
    p = Param("x", 0.5, Interval(float, None, None), "anything")
    for bad in (math.nan, math.inf, -math.inf, "nan"):
        with pytest.raises(ConfigError):
            p.check("t", bad)


def test_interval_bounds_and_coercion():
    p = Param("n", 3, Interval(int, 1, 5, closed="left"), "count")
    assert p.check("t", "4") == 4 and p.check("t", 1.0) == 1
    for bad in (5, 0, 2.5, True, "two"):
        with pytest.raises(ConfigError):
            p.check("t", bad)
    assert str(Interval(float, 0, 1, closed="left")) == "a number of at least 0 and less than 1"
    assert str(Interval(float, 0, 10, closed="right")) == "a number greater than 0 and at most 10"
    assert str(Interval(int, 1, 1000)) == "a whole number from 1 to 1000"
    assert str(Interval(int, 1)) == "a whole number of at least 1" and str(Interval(float)) == "a number"


def test_choice_flag_intlist():
    assert Param("s", 2, Choice((0, 1, 2)), "").check("mhe", "1") == 1
    assert str(Choice((0, 1, 2))) == "0, 1 or 2" and str(Choice(("relu", "tanh"))) == "relu or tanh"
    with pytest.raises(ConfigError, match=r"The 's' parameter of mhe must be 0, 1 or 2. Got 3 instead."):
        Param("s", 2, Choice((0, 1, 2)), "").check("mhe", 3)
    assert Param("f", False, Flag(), "").check("t", "yes") is True
    assert Param("w", (1,), IntList(), "").check("t", "64, 32") == (64, 32)


def test_unknown_parameter_lists_known_ones():
    with pytest.raises(ConfigError, match="dropout has no parameter 'q'; its parameters are: p"):
        validate_params("dropout", regularizers.REGISTRY["dropout"].params, {"q": 1})
