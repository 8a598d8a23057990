"""Compare's grid launcher: the same data, model, training settings and seeds for several methods,
each at its own λ and options (the method's defaults until changed), or, in one click, at a
lesson's settings. The whole grid is queued, or none of it."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from lab import data, models
from lab.config import TRAIN_PARAMS, RunConfig
from lab.declare import REFERENCE
from lab.errors import LabError
from lab.lessons import LESSONS
from lab.params import IntList, Param
from lab.regularizers import REGISTRY
from ui import own_data, runs, widgets

SEEDS = Param("seeds", (0, 1, 2), IntList(0, 2**31 - 1, 10), "one run per method and seed (3 at least for a verdict)")
TRAIN = {p.name: p for p in TRAIN_PARAMS}
SHOWN = ("epochs", "train_size", "lr")  # the training settings in view; the others keep Train's defaults


def _lesson_settings(name: str) -> None:
    """The callback of "the lesson's settings": every grid widget the lesson sets, before the page draws."""
    s, lesson = st.session_state, LESSONS[name]
    cfg = lesson.config(lesson.method, 0)
    s["grid.data"], s["grid.model"] = cfg.data, cfg.model
    for k, v in cfg.data_params.items():
        s[f"grid.data.{cfg.data}.{k}"] = v
    for k, v in cfg.model_params.items():
        s[f"grid.model.{cfg.model}.{k}"] = ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v
    for k in SHOWN:
        s[f"grid.{k}"] = getattr(cfg, k)
    s[f"grid.lam.{lesson.method}"] = cfg.lam
    for k, v in cfg.method_params.items():
        s[f"grid.method.{lesson.method}.{k}"] = v
    s["grid.methods"] = list(dict.fromkeys([REFERENCE, *s.get("grid.methods", []), lesson.method]))


def _method_settings(method: str) -> dict:
    """λ and options of one method in the grid (its defaults until changed)."""
    reg = REGISTRY[method]
    if not reg.has_penalty() and not reg.params:
        return {"lam": None, "method_params": {}}
    with st.expander(f"{widgets.method_label(method)}: λ and options"):
        lam = widgets.param_widget(reg.lam_param(), f"grid.lam.{method}", label="lambda (λ)") if reg.has_penalty() \
            else None
        return {"lam": lam, "method_params": widgets.param_widgets(reg.params, f"grid.method.{method}", cols=1)}


def launcher() -> list[str]:
    """The grid's widgets and its Launch button; the ids of the runs it queued (none before a press)."""
    c_data, c_methods, c_train = st.columns(3)
    with c_data:
        ds = st.selectbox("data set", list(data.DATASETS), key="grid.data")
        own_data.picker(ds, f"grid.data.{ds}")
        data_params = widgets.param_widgets(data.DATASETS[ds].params, f"grid.data.{ds}", cols=1)
        own_data.what_was_read(ds, f"grid.data.{ds}")
        model = st.selectbox("model", list(models.MODELS), key="grid.model")
        model_params = widgets.param_widgets(models.MODELS[model].params, f"grid.model.{model}", cols=1)
    with c_methods:
        methods = st.multiselect("methods", list(REGISTRY), format_func=widgets.method_label, key="grid.methods",
                                 default=[REFERENCE, next(iter(LESSONS.values())).method])
        settings = {m: _method_settings(m) for m in methods}
        seeds = widgets.param_widget(SEEDS, "grid.seeds")
        taught = [m for m in methods if m in LESSONS]
        for m in taught:
            st.button(f"The {m} lesson's settings", key=f"grid.lesson.{m}", on_click=_lesson_settings, args=(m,),
                      help="data, model, training settings and λ as the lesson trains them (assets/lessons.toml)")
    with c_train:
        train = {k: widgets.param_widget(TRAIN[k], f"grid.{k}") for k in SHOWN}
    if not widgets.pressed("Launch the grid", "grid.go", disabled=not methods):
        return []
    try:  # the whole grid is queued, or none of it
        base = RunConfig(data=ds, model=model, data_params=data_params, model_params=model_params, **train)
        return runs.start([replace(base, method=m, seed=s, **settings[m])
                           for m in methods for s in SEEDS.check("grid", seeds)])
    except LabError as e:
        widgets.error(e)
        return []
