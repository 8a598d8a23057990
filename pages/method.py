"""Method views: the picked run's method's own views (its `Regularizer.views`, declared in
`lab.views` or by the method itself) at any epoch, and a reference run's (by default a saved CE
run of the same setting) beside them at the same epoch."""
import streamlit as st

import ui
import ui.takehome
from ui.player import Panel, Row
import ui.method_views
from lab.declare import REFERENCE
from lab.figures.grid import side_by_side
from lab.notes import note
from lab.regularizers import REGISTRY
from lab.views import method_views

ui.page("Method views")
run = ui.runs.page_run()
method = run.config.method if run else REFERENCE
own = method_views(method)
with_views = ", ".join(f"**{ui.widgets.method_label(name)}**" for name, reg in REGISTRY.items() if reg.views)
ui.widgets.explain("\n\n".join(f"**{v.title}.** {note(method, v.key)}" for v in own) or
                   f"The views a method's paper motivates, for any run of that method ({with_views}).")
record = ui.runs.snapshot_record(run)
shown = ui.method_views.shown(record)
if not shown:
    st.info(f"**{ui.widgets.esc(method)}** has no views of its own (these are for {with_views}); "
            f"its features and neurons are on the other view pages:")
    ui.nav.view_links(record.id, but="method")
    st.stop()

reference = ui.method_views.reference_picker(record, "method.reference")


def draw(epoch: int) -> list[Row]:
    rows = []
    for v in shown:
        mine = ui.method_views.draw(v, record, epoch, reference=reference)
        own = Panel(mine, f"method.{v.key}", f"{record.id}-{v.key}-e{epoch}")
        if reference is None:
            rows.append(Row([own], title=f"### {v.title}"))
            continue
        theirs = (ui.method_views.draw(v, reference, epoch, method) if epoch in ui.cache.epochs(reference) else None)
        if theirs is not None:  # the same axis ranges, so a difference between the pictures is one between the runs
            own.fig, theirs = side_by_side([mine, theirs], shared=v.shared)
        own.caption = f"{ui.widgets.esc(run.label)} · {ui.widgets.esc(record.id)}"
        ref = f"reference: {ui.widgets.esc(ui.runs.run_label(reference.config))} · {ui.widgets.esc(reference.id)}"
        rows.append(Row([own, Panel(theirs, f"method.{v.key}.reference", f"{reference.id}-{v.key}-e{epoch}",
                                    ref if theirs is not None else
                                    f"{ref}: no drawable snapshot at epoch {epoch}.")], title=f"### {v.title}"))
    return rows


caption = f"Run **{ui.widgets.esc(record.id)}** · {ui.widgets.esc(run.label)} · {run.status}"
st.caption(caption)
ui.player.epoch_player(ui.cache.epochs(record), draw, key="method")
beside = (f"Reference run: {ui.widgets.esc(ui.runs.run_label(reference.config))} · {ui.widgets.esc(reference.id)}"
          if reference is not None else "No reference run")
ui.takehome.page_button("Method views", [caption, beside], ui.cache.epochs(record), draw, {},
                        [record] + ([reference] if reference is not None else []))
