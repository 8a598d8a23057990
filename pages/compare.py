"""Compare: 2-6 runs side by side (or a grid of methods launched here): a metrics table with
mean ± std over seeds, each method judged against CE on the same seeds, accuracy curves overlaid,
and each view as small multiples at one epoch."""
import plotly.graph_objects as go
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
import ui.grid_launch
from lab.config import batch_note, differences
from lab.declare import REFERENCE
from lab.errors import LabError
from lab.figures import Line, overlay_curves
from lab.figures.grid import grid
from lab.figures.geometry import cka_heatmap
from lab.figures.judge import paired_differences
from lab.figures.method import quantity_curves
from lab.measure.quantities import own_quantity
from lab.measure.snapshot import hidden_layers
from lab.stats import change, p_text, pm

ui.page("Compare")
ui.widgets.explain("""
**The table.** Runs with the same method and settings but different seeds form one row: the final **test
accuracy** and **train accuracy** (fraction classified correctly) as *mean ± standard deviation over the
seeds*.

**Against CE.** When CE is among the finished runs, each method is judged against it on the same seeds:
its value minus CE's per seed (a dot each), the paired t-test Holm-corrected over the methods shown,
wins/ties/losses (a win: a seed that moved the way the measure should), and a verdict, for test accuracy and for the method's own quantity. Fewer than 3 paired
seeds read "too few seeds to tell", whatever the numbers: two seeds cannot tell a method from luck.

**Fair by construction.** A comparison means something only when the runs differ in the method (its λ and
options) and the seed alone: same data, train size, model, optimizer and epochs (every method takes the same
optimizer steps per epoch). When the picked runs differ in anything else, a warning says so and the table shows
the differing settings.

**The curves.** Test accuracy of every run against epoch, one colour per method, one dash style per seed.

**Small multiples.** The same view of each run at the same epoch, on shared axes and colour scales, so a
difference you see is a difference between the methods. Expect **ce** to show high similarity between
different classes and clustered neurons; *phantom* lowers inter-class similarity, *mhe*/*comhe* spread the
neurons' angles towards the uniform reference, *itra* and *gini* reshape the features.
""")

wanted = [r for r in st.query_params.get("runs", "").split(",") if r]
with st.expander("Launch a grid: the same data, model and seeds, several methods", expanded=not wanted):
    if launched := ui.grid_launch.launcher():
        wanted = launched
        st.query_params["runs"] = ",".join(wanted)

options = list(dict.fromkeys([v.id for v in ui.runs.manager().runs_of(ui.runs.owner())]
                             + [r.id for r in ui.runs.saved_runs()] + wanted))


def picked() -> None:
    st.query_params["runs"] = ",".join(st.session_state[pick_key])


pick_key = "compare.pick." + ",".join(wanted)
chosen = st.multiselect("Runs to compare (2 to 6)", options, default=wanted[:6], max_selections=6, key=pick_key,
                        on_change=picked, placeholder="pick runs, or launch a grid above")
picked_runs = [r for r in map(ui.runs.find, chosen) if r is not None]
if len(picked_runs) < 2:
    st.info("Pick at least two runs above, launch a grid, or start the demo on **Home**.")
    st.stop()


differ = differences([r.config for r in picked_runs])
if differ:
    st.warning(f"Not a fair comparison: these runs differ in more than the method and the seed: "
               f"{', '.join(differ)}. The table shows those settings; compare runs launched together as a grid.",
               icon=":material/warning:")
if notes := sorted({f"{r.config.method}: {n}" for r in picked_runs if (n := batch_note(r.config))}):
    st.caption("Batches that differ from CE's (the same samples per epoch and optimizer steps): " + "; ".join(notes) + ".")


def accuracy_curves(runs: list) -> go.Figure:
    """Test accuracy of every run against epoch."""
    return overlay_curves([Line(r.label, r.config.method, r.config.seed, r.history) for r in runs], "test_acc",
                          "Test accuracy", "test accuracy (fraction correct)")


@st.fragment(run_every=ui.runs.LIVE_POLL_S if any(r.running for r in picked_runs) else None)
def progress() -> None:
    now = [ui.runs.find(r.id, folder=False) or r for r in picked_runs]
    groups: dict[tuple, list[ui.runs.RunInfo]] = {}
    for r in now:  # one row per method setting and differing settings; the seeds of a row are averaged
        settings = tuple(str(getattr(r.config, k)) for k in differ)
        groups.setdefault((ui.runs.run_label(r.config, seed=False), *settings), []).append(r)
    st.dataframe([{"runs": key[0], **dict(zip(differ, key[1:])), "seeds": ", ".join(str(r.config.seed) for r in rs),
                   "status": ", ".join(sorted({r.status for r in rs})),
                   "epochs": ", ".join(str(len(r.history)) for r in rs),
                   "steps": ", ".join(str(r.history[-1].get("steps", "-")) for r in rs if r.history),
                   "test accuracy": pm([r.history[-1]["test_acc"] for r in rs if r.history]),
                   "train accuracy": pm([r.history[-1]["train_acc"] for r in rs if r.history])}
                  for key, rs in groups.items()], hide_index=True, key="compare.table")
    ui.widgets.figure(accuracy_curves(now), key="compare.acc", name="test-accuracy", export=not any(r.running for r in now))
    if any(r.running for r in picked_runs) and not any(r.running for r in now):
        st.rerun()


progress()

def judge_against_ce(saved: list, differ: dict) -> go.Figure | None:
    """Each method's runs against CE's on the same seeds: the paired differences in test accuracy
    as a figure (returned), and every judgement (accuracy and own quantities) in a table."""
    ce = [r.record for r in saved if r.config.method == REFERENCE]
    groups: dict[str, list] = {}
    for r in saved:
        if r.config.method != REFERENCE:
            groups.setdefault(ui.runs.run_label(r.config, seed=False), []).append(r)
    if not ce or not groups:
        st.caption(f"Pick finished **{REFERENCE}** runs too (the same seeds) to judge each method against it.")
        return None
    if differ:
        st.caption("Not judged against CE: these runs differ in more than the method and the seed.")
        return None
    rows = ui.cache.judgements({g: [r.record for r in rs] for g, rs in groups.items()}, ce)
    accuracy = [j for j in rows if j["measure"] == "test accuracy"]
    fig = paired_differences(accuracy, {g: rs[0].config.method for g, rs in groups.items()},
                             "Test accuracy against CE on the same seeds", "test accuracy minus CE's (fraction)")
    ui.widgets.figure(fig, key="compare.judge", name="compare-against-ce")
    st.dataframe([{"runs": j["group"], "measure": j["measure"], "aim": j["working"], "difference": change(
        list(j["per_seed"].values())), "seeds": j["n"], "W/T/L": f"{j['wins']}/{j['ties']}/{j['losses']}",
        "p (t-test)": p_text(j["t_p"]), "p (Holm)": p_text(j["holm_p"]), "verdict": j["verdict"]} for j in rows],
        hide_index=True, key="compare.judgements")
    return fig


saved = [r for r in picked_runs if r.record is not None and not r.running]
if len(saved) < 2:
    st.caption("The views appear here once at least two of the runs have finished.")
    st.stop()
for r in saved:  # later epochs of a diverged run are hidden: say so, once per run
    if note := ui.cache.readable(r.record).note:
        st.warning(ui.widgets.esc(f"{r.label}: {note}"), icon=":material/warning:")
epochs = sorted(set.intersection(*(set(ui.cache.epochs(r.record)) for r in saved)))
if not epochs:
    st.warning("These runs have no epoch in common that every one of them can draw; pick other runs.")
    st.stop()
figures = {"Test accuracy": accuracy_curves(saved), "Against CE": judge_against_ce(saved, differ)}
methods = list(dict.fromkeys(r.config.method for r in saved if r.config.method != REFERENCE)) or [REFERENCE]
for method in methods:  # what each picked method acts on, measured on every run
    own = own_quantity(method)
    try:
        lines = [Line(r.label, r.config.method, r.config.seed, ui.cache.quantity(r.record, method, epochs))
                 for r in saved]
        figures[f"What {method} acts on"] = quantity_curves(lines, own.key, own.label,
                                                            title=f"What {method} acts on, for every run: {own.title}")
        ui.widgets.figure(figures[f"What {method} acts on"], key=f"compare.quantity.{method}",
                          name=f"compare-{method}-quantity")
    except LabError as e:
        ui.widgets.error(e)
if not differ:  # the same probe points: how alike the runs' representations are, layer by layer
    layers = hidden_layers(ui.cache.snapshot(saved[0].record, epochs[-1]))
    layer = st.selectbox("CKA between the runs: layer", layers, index=len(layers) - 1, key="compare.cka.layer")
    try:
        matrix = ui.cache.cka_matrix([r.record for r in saved], layer, epochs[-1])
        figures["CKA between the runs"] = cka_heatmap([r.label for r in saved], matrix, f"CKA between the runs: {layer}, "
                                                      f"epoch {epochs[-1]} (1: the same representation up to rotation "
                                                      "and scale)")
        ui.widgets.figure(figures["CKA between the runs"], key="compare.cka", name=f"compare-cka-{layer}")
    except LabError as e:
        ui.widgets.error(e)
view = st.radio("View", [k for k in ui.nav.VIEWS if k in ui.cache.VIEWS], horizontal=True, key="compare.view",
                format_func=lambda k: ui.cache.VIEWS[k].label)
chosen_view = ui.cache.VIEWS[view]


def draw(epoch: int) -> list[Row]:
    figs = [chosen_view.draw(r.record, epoch) for r in saved]
    return [Row([Panel(grid(figs, titles=[r.label for r in saved], cols=min(len(saved), 3), shared=chosen_view.shared,
                            title=f"{chosen_view.label} at epoch {epoch}"), "compare.grid",
                       f"compare-{view}-epoch{epoch}")])]


ui.player.epoch_player(epochs, draw, key="compare.epochs")
shown = ["Runs: " + "; ".join(ui.widgets.esc(f"{r.label} · {r.id}") for r in saved), f"View: {chosen_view.label}"]
if not differ:
    shown.append(f"CKA between the runs: layer {layer}")
ui.takehome.page_button("Compare", shown, epochs, draw, figures, [r.record for r in saved])
