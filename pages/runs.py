"""Runs: every saved run with its status and headline numbers; open, rename, delete, download
metrics (CSV), configuration (JSON) and the training curves (HTML); carry whole runs as one zip
(export several, import one), checked on import by `lab.store.bundle`."""
import csv
import io
import json
import tempfile
from pathlib import Path

import streamlit as st

import ui
from lab.errors import LabError
from lab.figures import run_curves
from lab.store import delete_run, disk_bytes, in_use, rename_run
from lab.store.bundle import export, import_bundle

ui.page("Runs")
ui.widgets.explain("""
**The table.** One row per saved run (a folder in the runs folder): its data set, model, method, λ and seed,
its **status** (*done*, *stopped* by you, *diverged* when the loss became infinite, *failed* on an error,
*interrupted* when the app or the computer stopped mid-run), how many epochs it finished, and its final
**test accuracy** (fraction of held-out samples classified correctly) and **train accuracy**. A large gap
between the two means the network memorised its training set; regularizers aim to shrink it.

**Files.** Each run keeps its configuration, one line of metrics per epoch and a snapshot of the network's
activations on a fixed set of test points after every epoch: that is what the view pages draw.
""")

def imported() -> None:
    """The import uploader's callback: check the bundle and add its runs, then say what happened."""
    s = st.session_state
    if (upload := s.get("runs.import")) is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / (Path(upload.name).name or "runs.zip")
        archive.write_bytes(upload.getvalue())
        try:
            added = import_bundle(archive, ui.runs.root())
        except LabError as e:
            s["_runs_said"] = ("error", str(e))
        else:
            s["_runs_said"] = ("success", f"Imported {len(added)} run{'s' * (len(added) > 1)} from {upload.name}: "
                                          f"{', '.join(added)}.")
            ui.runs.open_run(added[0])


with st.expander("Import runs (a zip exported here or with `python -m lab runs export`)"):
    st.file_uploader(f"runs zip (at most {ui.widgets.upload_cap_mb()} MB)",
                     type=["zip"], key="runs.import", on_change=imported,
                     help="checked before any run appears: file names and formats (no pickle), sizes, hashes")
if said := st.session_state.pop("_runs_said", None):
    getattr(st, said[0])(ui.widgets.esc(said[1]))

saved = ui.runs.saved_runs()
if not saved:
    st.info("No saved runs yet. Train one on the **Train** page or start the demo on **Home**.")
    ui.nav.link("train", "Go to Train")
    st.stop()


st.dataframe([{"run": r.id, "status": r.state, "data": r.config.data, "model": r.config.model,
               "method": r.config.method, "λ": r.config.lam, "seed": r.config.seed,
               "epochs": f"{len(r.metrics)}/{r.config.epochs}", "test acc": r.final("test_acc"),
               "train acc": r.final("train_acc"), "size": disk_bytes(r) / 2**20} for r in saved],
             hide_index=True, key="table",
             column_config={"size": st.column_config.NumberColumn("size (MB)", format="%.1f"),
                            "test acc": st.column_config.NumberColumn(format="%.3f"),
                            "train acc": st.column_config.NumberColumn(format="%.3f")})

ids = [r.id for r in saved]
rid = ui.runs.current_run() if ui.runs.current_run() in ids else ids[0]
ui.runs.open_run(rid)
st.session_state["runs.pick"] = rid  # follows the sidebar's pick too
st.selectbox("Run", ids, key="runs.pick", on_change=lambda: ui.runs.open_run(st.session_state["runs.pick"]))
run = saved[ids.index(rid)]

st.subheader(ui.widgets.esc(run.id))
if run.status.get("error"):
    st.error(ui.widgets.esc(f"{run.state}: {run.status['error']}"))
open_col, csv_col, json_col = st.columns(3)
with open_col:
    ui.nav.link("train", "Open (curves)", run=rid)


def metrics_csv(metrics: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, list(dict.fromkeys(k for m in metrics for k in m)))
    w.writeheader()
    w.writerows(metrics)
    return buf.getvalue()


csv_col.download_button("metrics.csv", metrics_csv(run.metrics), f"{rid}-metrics.csv", "text/csv",
                        key="dl.csv", on_click="ignore", disabled=not run.metrics, icon=":material/download:")
json_col.download_button("config.json", json.dumps(run.config.to_dict(), indent=1), f"{rid}-config.json",
                         "application/json", key="dl.json", on_click="ignore", icon=":material/download:")
with st.expander("Export runs as one zip (whole folders: snapshots, model, a manifest)"):
    chosen = st.multiselect("runs", ids, default=[rid], key="runs.export")
    ended = [r for r in saved if r.id in chosen]
    if ui.widgets.pressed("Prepare the zip", "runs.export.go", disabled=not ended):
        try:
            st.session_state["_runs_zip"] = (tuple(chosen), export(ended))
        except LabError as e:
            ui.widgets.error(e)
    if (ready := st.session_state.get("_runs_zip")) and ready[0] == tuple(chosen):
        st.download_button(f"runs.zip ({len(ready[1]) / 2**20:.1f} MB)", ready[1], "runs.zip", "application/zip",
                           key="runs.export.dl", on_click="ignore", icon=":material/download:")
ui.nav.view_links(rid)
if run.metrics:
    ui.widgets.figures(run_curves(run.metrics, ui.runs.run_label(run.config)), f"runs-{rid}", rid)

busy = in_use(run) or ("This run is queued or training here; rename or delete it once it has ended."
                       if (live := ui.runs.manager().get(rid)) is not None and live.active else None)
with st.expander("Rename or delete"):
    if busy:
        st.info(ui.widgets.esc(busy))
    new = st.text_input("New name", value=rid, key="runs.rename",
                        help="1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if ui.widgets.pressed("Rename", "runs.rename.go", disabled=bool(busy) or new == rid):
        try:
            rename_run(ui.runs.root(), rid, new)
            ui.runs.open_run(new)
            st.session_state["_runs_said"] = ("success", f"Renamed {rid} to {new}.")
            st.rerun()
        except LabError as e:
            ui.widgets.error(e)
    sure = st.checkbox(f"Yes, delete {ui.widgets.esc(rid)} and all its files", key=f"runs.sure.{rid}", disabled=bool(busy))
    if ui.widgets.pressed("Delete", "runs.delete", type="primary", disabled=bool(busy) or not sure):
        try:
            delete_run(ui.runs.root(), rid)
            ui.runs.open_run(None)
            st.session_state["_runs_said"] = ("success", f"Deleted {rid} and all its files.")
            st.rerun()
        except LabError as e:
            ui.widgets.error(e)
