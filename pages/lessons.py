"""Lessons: one seed paper's claim in one click. CE and the method train side by side with the
lesson's settings (same data, model, settings, seed and optimizer steps); then the lesson's
quantity over training for both, its views at one epoch for both (one player), and a text whose
every number is measured on the two runs on screen (`lab.lessons`)."""
import streamlit as st

import ui
from ui.player import Panel, Row
from lab.config import batch_note
from lab.declare import REFERENCE
from lab.errors import LabError
from lab.figures import Line, overlay_curves
from lab.figures.grid import side_by_side
from lab.figures.method import quantity_curves
from lab.lessons import LESSONS, describe, provenance, role, saved_pair, witness_text
import ui.method_views
import ui.takehome
from lab import views

ui.page("Lessons")
ui.warm.training_warmed()  # a run is one click away: torch and the data set load now, not on the click
names = list(LESSONS)
if st.session_state.get("lesson.pick") not in names:
    st.session_state["lesson.pick"] = st.query_params.get("lesson") if st.query_params.get("lesson") in names \
        else names[0]


def picked() -> None:
    st.query_params["lesson"] = st.session_state["lesson.pick"]
    st.query_params.pop("runs", None)


c_pick, c_seed = st.columns([5, 1])
name = c_pick.selectbox("Lesson", names, key="lesson.pick", on_change=picked,
                        format_func=lambda n: f"{n}: {LESSONS[n].title}")
lesson = LESSONS[name]
seed = c_seed.selectbox("seed", lesson.seeds, key="lesson.seed", help="the seed of both runs (initialisation, "
                        "batch order and the method's draws); the lesson was checked on each of these seeds")
st.query_params["lesson"] = name
cfg = lesson.config(lesson.method, seed)
st.markdown(f"**The paper's claim.** {lesson.claim}\n\n**What to look at.** {lesson.look}")
st.markdown("**How it was chosen.** " + " ".join(provenance(lesson)))
if witness := witness_text(lesson):
    st.markdown(witness)
st.caption(f"Both runs: {cfg.data}, {cfg.train_size or 'all'} training samples, {cfg.model} "
           f"{cfg.model_params.get('widths', '')}, {cfg.epochs} epochs, batch {cfg.batch_size}, {cfg.optimizer} "
           f"lr {cfg.lr:g}, seed {seed}. Only the method differs: ce, and {ui.runs.run_label(cfg, seed=False)}"
           + (f" ({note})." if (note := batch_note(cfg)) else "."))


def start() -> None:
    try:
        ids = ui.runs.start([lesson.config(REFERENCE, seed), lesson.config(lesson.method, seed)], shared=True)
    except LabError as e:
        st.session_state["_lesson_error"] = str(e)
    else:
        st.query_params["runs"] = ",".join(ids)


st.button(f"Train ce and {lesson.method} side by side", type="primary", key="lesson.train", on_click=start,
          icon=":material/play_arrow:")
if "_lesson_error" in st.session_state:
    ui.widgets.error(st.session_state.pop("_lesson_error"))

runs = [ui.runs.find(i) for i in st.query_params.get("runs", "").split(",") if i]
if len(runs) != 2 or None in runs or [role(lesson, r.config) for r in runs] != [REFERENCE, lesson.method] \
        or runs[0].config.seed != seed:
    pair = saved_pair(lesson, seed, ui.runs.saved_runs())
    if pair is None:
        st.info(f"Press the button: ce and {lesson.method} train live here, then their views appear side by side.")
        st.stop()
    runs = [ui.runs.find(r.id) for r in pair]
    st.caption(f"Showing this lesson's saved runs ({runs[0].id}, {runs[1].id}); the button trains them anew.")


verdict = st.container()  # above the curves once both runs have ended: what a class reads first


@st.fragment(run_every=ui.runs.LIVE_POLL_S if any(r.running for r in runs) else None)
def live() -> None:
    now = [ui.runs.find(r.id, folder=False) or r for r in runs]
    for col, r in zip(st.columns(2), now):
        done = len(r.history)
        state = ui.runs.queue_text(r.in_memory) if r.status == "queued" else f"{r.status}, {done} of {r.config.epochs} epochs"
        col.progress(done / r.config.epochs, text=f"{r.label}: {state}")
    lines = [Line(r.label, r.config.method, r.config.seed, r.history) for r in now]
    fig = overlay_curves(lines, "test_acc", "Test accuracy", "test accuracy (fraction correct)")
    ui.widgets.figure(fig, key="lesson.acc", name=f"lesson-{name}-accuracy", export=not any(r.running for r in now))
    if any(r.running for r in runs) and not any(r.running for r in now):
        st.rerun()


live()
if any(r.running for r in runs):
    st.stop()
for r in runs:
    if r.error:
        verdict.error(ui.widgets.esc(f"{r.label} {r.status}: {r.error}"))
if any(r.record is None for r in runs):
    st.stop()
ce, method = (r.record for r in runs)
result = ui.cache.lesson_outcome(lesson, seed, ce, method)
with verdict:
    (st.success if result.moved and result.kept_accuracy else st.warning)(describe(result))
    ui.takehome.button(lesson, ce, method)
for r in runs:  # later epochs of a diverged run are hidden: say so
    if note := ui.cache.readable(r.record).note:
        st.warning(ui.widgets.esc(f"{r.label}: {note}"), icon=":material/warning:")
epochs = sorted(set(ui.cache.epochs(ce)) & set(ui.cache.epochs(method)))
if not epochs:
    st.warning("The two runs have no epoch that both can draw (see why above).")
    st.stop()
lines = [Line(r.label, r.config.method, r.config.seed, ui.cache.quantity(r.record, r.config.method, epochs,
                                                                         lesson.quantity)) for r in runs]
q = lesson.quantity
ui.widgets.figure(quantity_curves(lines, q.key, q.label, title=f"{q.title[:1].upper()}{q.title[1:]}: ce and "
                                  f"{lesson.method}"), key="lesson.quantity", name=f"lesson-{name}-quantity")


def draw(epoch: int) -> list[Row]:
    first, second = "left", "right"  # two runs' same view stays side by side, projector mode too (figure_columns)
    rows = []
    for key, view in ((v, views.view(v, lesson.method)) for v in lesson.views):
        figs = side_by_side([ui.method_views.draw(view, r.record, epoch, lesson.method) for r in runs],
                            shared=view.shared)
        rows.append(Row([Panel(fig, f"lesson.{key}.{r.config.method}", f"lesson-{name}-{key}-{r.config.method}-e{epoch}",
                               ui.widgets.esc(r.label))  # which run, also when the two are one above the other
                         for r, fig in zip(runs, figs)],
                        title=f"**{view.title}** at epoch {epoch}: ce ({first}) and {lesson.method} ({second})"))
    return rows


ui.player.epoch_player(epochs, draw, key=f"lesson.{name}")
with st.sidebar:  # in place of the run link of one-run pages: this page shows two runs
    ui.link.share_link({"lesson": name, "runs": f"{runs[0].id},{runs[1].id}"}, "Link to this lesson and its two runs")
