"""Train: data set, model, method and settings from their declarations; train in the
background (lab.live) and follow the run live; ?run=<id> reopens it after a reload."""
import time

import streamlit as st

import ui
from lab import data, models
from lab.config import TRAIN_PARAMS, RunConfig, from_query, to_query, validate
from lab.data.images import fetch
from lab.declare import REFERENCE
from lab.errors import LabError
from lab.figures import run_curves
from lab.notes import note
from lab.regularizers import REGISTRY
from lab.stats import num

MAIN = ("epochs", "lr", "optimizer", "seed", "train_size")
STATUS = {"queued": ":material/hourglass_empty:", "running": ":material/directions_run:",
          "done": ":material/check_circle:", "stopped": ":material/stop_circle:", "diverged": ":material/error:",
          "collapsed": ":material/trending_down:", "failed": ":material/cancel:", "interrupted": ":material/warning:"}

ui.page("Train")
ui.warm.training_warmed()  # a run is one click away: torch and the data set load now, not on the click


def prefill(cfg: RunConfig) -> None:
    """Put a run's settings into the form, so a reload or a shared link shows what trained it."""
    s = st.session_state
    s["data"], s["model"], s["method"] = cfg.data, cfg.model, cfg.method
    if REGISTRY[cfg.method].has_penalty():
        s[f"lam.{cfg.method}"] = float(cfg.lam)
    for prefix, values in ((f"data.{cfg.data}", cfg.data_params), (f"model.{cfg.model}", cfg.model_params),
                           (f"method.{cfg.method}", cfg.method_params),
                           ("train", {p.name: getattr(cfg, p.name) for p in TRAIN_PARAMS})):
        for name, value in values.items():
            s[f"{prefix}.{name}"] = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


query = {k: st.query_params[k] for k in st.query_params if k != "run"}
if query and not ui.runs.current_run() and st.session_state.get("_form_query") != query:
    st.session_state["_form_query"] = query  # once per link opened: later edits are the user's
    try:
        prefill(from_query(query))
    except LabError as e:
        st.warning(f"This link's settings cannot be used: {ui.widgets.esc(e)}", icon=":material/link_off:")

opened = ui.runs.find(ui.runs.current_run())
if opened is not None and st.session_state.get("_form_run") != opened.id:
    st.session_state["_form_run"] = opened.id  # once per run opened: later edits are the user's
    try:
        prefill(validate(opened.config))
    except LabError:
        pass  # a run from an older version of the lab: keep the form as it is

chosen = REGISTRY.get(st.session_state.get("method"), REGISTRY[REFERENCE])
ui.widgets.explain(f"""
**Curves.** Left: the **task loss** (cross-entropy on the training batches, in nats), the **regularizer loss**
λ × penalty (what the method adds), the **test loss**, and each penalty term before λ (dotted). Right: the
fraction of training and test samples classified correctly after each epoch.

**Reading them.** *total loss = task loss + λ × penalty*: a method trades a little task loss for a smaller
penalty. When training accuracy climbs to 1 but test accuracy stalls, the net memorises; a regularizer is meant
to shrink that gap. A run **diverges** when the loss becomes infinite or NaN (learning rate or λ too large):
it stops, keeps its curves, and says why.

**Settings.** Each method's own options come from its declaration; hover a box for its meaning and range.

**The chosen method, {chosen.name}:** {chosen.summary}. {note(chosen.name, "train")}
""")


def declared(prefix: str, params) -> dict:
    """The values of the widgets of declared `params` (keys `prefix.name`) from the session state;
    a widget not drawn yet is left out, so the run takes its default (the value it will show)."""
    s = st.session_state
    return {p.name: s[key] for p in params if (key := f"{prefix}.{p.name}") in s}


def form_config() -> RunConfig:
    """The run the widgets describe (not yet validated). Train is drawn above the settings: a press
    as soon as it shows, on a fresh page, comes before they are drawn, and gets their defaults
    (it failed with "st.session_state has no key 'data'")."""
    s = st.session_state
    ds, model, method = s.get("data", next(iter(data.DATASETS))), s.get("model", next(iter(models.MODELS))), \
        s.get("method", REFERENCE)
    return RunConfig(data=ds, model=model, method=method,
                     lam=s.get(f"lam.{method}") if REGISTRY[method].has_penalty() else None,
                     data_params=declared(f"data.{ds}", data.DATASETS[ds].params),
                     model_params=declared(f"model.{model}", models.MODELS[model].params),
                     method_params=declared(f"method.{method}", REGISTRY[method].params),
                     **declared("train", TRAIN_PARAMS))


def start() -> None:
    """Train's callback: start the run the widgets describe. A callback runs before the page, so
    the sidebar and the monitor below already show the new run in this same rerun."""
    s = st.session_state
    if not ui.widgets.first_press("train"):
        return
    try:
        rid, = ui.runs.start([form_config()], pace=s.get("pace", 0.0))
    except LabError as e:
        s["_train_error"] = str(e)
    else:
        ui.runs.open_run(rid)
        s["_started"] = rid  # the next drawing waits for its first point (once)


def data_files(ds: str) -> None:
    """For a data set read from files: when they are missing, the sentence and a Download button
    (torchvision's downloader, with a progress bar; one line when it fails, e.g. offline)."""
    root = st.session_state[f"data.{ds}.root"]
    try:
        data.check_files(ds, {"root": root})
    except LabError as e:
        ui.widgets.error(e)
        if ui.widgets.pressed(f"Download {ds}", "data.fetch", icon=":material/download:"):
            bar = st.progress(0.0, text=f"downloading {ds}…")
            try:
                fetch(ds, root, lambda fraction, message: bar.progress(fraction, text=message))
            except LabError as e:
                bar.empty()
                ui.widgets.error(e)
            else:
                st.rerun()


def settings() -> None:
    """The run's settings, from the declarations (below the curves: they stay in view on a projector)."""
    with st.container(border=True):
        c_data, c_method, c_train = st.columns(3)
        with c_data:
            ds = st.selectbox("data set", list(data.DATASETS), key="data",
                              help="; ".join(f"{k}: {v.description}" for k, v in data.DATASETS.items()))
            st.caption(data.DATASETS[ds].description)
            ui.own_data.picker(ds, f"data.{ds}")
            ui.widgets.param_widgets(data.DATASETS[ds].params, f"data.{ds}", cols=1)
            ui.own_data.what_was_read(ds, f"data.{ds}")
            if not data.DATASETS[ds].offline:
                data_files(ds)
            model = st.selectbox("model", list(models.MODELS), key="model")
            ui.widgets.param_widgets(models.MODELS[model].params, f"model.{model}", cols=1)
        with c_method:
            methods = list(REGISTRY)
            method = st.selectbox("method", methods, index=methods.index(REFERENCE), key="method",
                                  format_func=ui.widgets.method_label)
            st.caption(REGISTRY[method].summary)
            if REGISTRY[method].has_penalty():
                ui.widgets.param_widget(REGISTRY[method].lam_param(), f"lam.{method}", label="lambda (λ)")
            ui.widgets.param_widgets(REGISTRY[method].params, f"method.{method}", cols=1)
        with c_train:
            for p in TRAIN_PARAMS:
                if p.name in MAIN:
                    ui.widgets.param_widget(p, f"train.{p.name}")
            with st.expander("More training settings"):
                for p in TRAIN_PARAMS:
                    if p.name not in MAIN:
                        ui.widgets.param_widget(p, f"train.{p.name}")
    try:  # a link that opens this form with these settings (one press then trains the same run)
        ui.link.share_link(to_query(validate(form_config())), "Link to these settings")
    except LabError:
        pass  # an invalid box: Train says why when pressed




def show_curves(figs, live: bool, name: str = "") -> None:
    """Loss and accuracy side by side (in projector mode one above the other) in the session's
    presentation; exportable once the run has ended. The moving charts keep one key from the empty
    frames on, so a click updates the charts in place (no remount)."""
    ui.widgets.figures(figs, "live" if live else name, name or "run", export=not live)


@st.cache_resource
def empty_curves():
    """The curves' empty frames, shown before the first epoch (built once, never modified)."""
    return run_curves([])


def paced() -> None:
    """The pace box's callback: keep the pace for the other pages' players (`ui.player.PACE`), and
    slow down (or speed up) the open run while it trains."""
    st.session_state[ui.player.PACE] = st.session_state["pace"]
    if opened is not None and opened.running:
        ui.runs.manager().set_pace(opened.id, ui.runs.owner(), st.session_state["pace"])


def replay() -> None:
    """Replay's callback: show the open run's epochs again one by one, at the chosen pace."""
    st.session_state["_replay"] = (opened.id, time.monotonic())


c_train, c_pace, c_stop = st.columns([1, 2, 1], vertical_alignment="bottom")
c_train.button("Train", type="primary", key="train", on_click=start, icon=ui.nav.PAGES["train"].icon,
               width="stretch")
st.session_state.setdefault("pace", st.session_state.get(ui.player.PACE, 0.0))  # back from another page
c_pace.number_input("seconds per epoch", 0.0, 60.0, step=0.5, key="pace", on_change=paced,
                    help="0 = full speed. Slows a live run so that a class can watch it learn (change it while it "
                         "trains), replays a finished run at this pace, and sets the views' Play speed.")
if opened is not None and opened.running and opened.in_memory.owner == ui.runs.owner():
    c_stop.button("Stop", key="stop", on_click=ui.runs.manager().stop, args=(opened.id, ui.runs.owner()),
                  icon=":material/stop:", width="stretch",
                  help="Stops between two steps; the epochs done so far are kept.")
elif opened is not None and opened.history and not opened.running:
    c_stop.button("Replay", key="replay", on_click=replay, icon=":material/replay:", width="stretch",
                  help="Shows this run's epochs again one by one, at the pace on the left (0: as fast as the player goes, about 5 epochs a second).")
with st.empty():  # always there, so a refusal does not move the settings below (a moved expander closes)
    if "_train_error" in st.session_state:
        ui.widgets.error(st.session_state.pop("_train_error"))

info = opened
if info is None:
    if ui.runs.current_run():
        st.warning(f"There is no run called {ui.widgets.esc(ui.runs.current_run())}.")
    st.info("Choose the settings below and press **Train**; the curves appear here as the run trains.")
    show_curves(empty_curves(), live=True)  # also loads the chart library before the click
    settings()
    st.stop()

if info.running and info.in_memory.owner != ui.runs.owner():
    st.caption("This run was started in another session: you can watch it, only that session can stop it.")


def curves(run: ui.runs.RunInfo, shown: int, points: tuple[dict, ...]):
    """The loss and accuracy figures of the first `shown` epochs and the live `points`, rebuilt
    only when they change (four redraws a second must not take the training thread's time)."""
    if not shown and not points:
        return empty_curves()
    key, memo = (run.id, shown, len(points), run.status), st.session_state.setdefault("_curves", {})
    if key not in memo:
        memo.clear()
        memo[key] = run_curves(run.history[:shown], run.label, points)
    return memo[key]


def replayed(run: ui.runs.RunInfo) -> int | None:
    """How many epochs a replay of `run` shows by now; None when it is not being replayed."""
    rid, began = st.session_state.get("_replay", (None, 0.0))
    if rid != run.id:
        return None
    return min(len(run.history), 1 + int((time.monotonic() - began) / ui.player.tick()))


@st.fragment(run_every=ui.runs.LIVE_POLL_S if info.running or replayed(info) is not None else None)
def monitor() -> None:
    just_started = st.session_state.pop("_started", None) == info.id
    run = (ui.runs.with_first_point(info.id) if just_started else ui.runs.find(info.id, folder=False)) or info
    epochs, done = run.config.epochs, len(run.history)
    shown = replayed(run)
    live = run.in_memory if run.running else None
    if run.status == "queued":
        st.progress(0.0, text=f"{STATUS['queued']} {ui.runs.queue_text(run.in_memory)}")
    elif live is not None:
        step = f", step {live.step}" if live.step else ""
        pace = f", slowed to {live.pace:g} s per epoch" if live.pace else ""
        st.progress(live.fraction,
                    text=f"{STATUS['running']} training: epoch {max(live.epoch, 1)} of {epochs}{step}{pace}")
    elif shown is not None:
        st.progress(shown / done, text=f":material/replay: replay: epoch {shown} of {done}")
    else:
        st.progress(done / epochs, text=f"{STATUS.get(run.status, '')} {run.status}: {done} of {epochs} epochs")
    if run.error:
        (st.warning if run.status == "stopped" else st.error)(ui.widgets.esc(f"{run.status}: {run.error}"))
    shown = done if shown is None else shown
    if shown:
        last = run.history[shown - 1]
        st.caption(f"Run {ui.widgets.esc(run.id)}, epoch {last['epoch']}: test accuracy {last['test_acc']:.3f}, "
                   f"train accuracy {last['train_acc']:.3f}, task loss {num(last['task_loss'])}, "
                   f"train loss {num(last['train_loss'])}")
    moving = live is not None or shown < done
    show_curves(curves(run, shown, live.points if live else ()), moving, name=run.id)
    if info.running and not run.running:
        st.rerun()
    if not info.running and shown == done and "_replay" in st.session_state:
        del st.session_state["_replay"]  # the replay has shown every epoch: stop the timer
        st.rerun()


monitor()
settings()
with st.expander("Configuration of this run"):
    st.json(info.config.to_dict())
if info.record is not None and not info.running:
    ui.nav.view_links(info.id)
