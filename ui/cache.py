"""The app's cache of measurements, per run folder (a renamed or rewritten run gets new entries):
snapshots per epoch, `lab.readout` series, each method's own quantity, embeddings and k-NN
accuracy, all in one store bounded in bytes; and the one-epoch views of `lab.figures.views` fed
from them, shared by the view pages and Compare's small multiples (`VIEWS`)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lab.figures import views
from lab.figures.boundary import boundary_figure
from lab.lessons import Lesson, Outcome, outcome
from ui import widgets
from ui.lru import BytesLRU
from lab.readout import embeddings, series as readout
from lab.declare import Quantity
from lab.errors import DataError
from lab.store import RunRecord, class_names, load_probe, load_run, load_snapshot


@st.cache_data(max_entries=256, show_spinner=False)
def _readable(path: str, epochs: tuple[int, ...]) -> readout.Readable:
    record = load_run(Path(path))  # the snapshots are read through the app's store, where the views find them
    return readout.readable_epochs(record, list(epochs), load=lambda epoch: snapshot(record, epoch))


def readable(record: RunRecord) -> readout.Readable:
    """`lab.readout.series.readable_epochs(record)`: the epochs a view can draw, and why not more."""
    return _readable(str(record.path), tuple(record.snapshot_epochs))


def epochs(record: RunRecord) -> tuple[int, ...]:
    """The run's snapshot epochs that a view can draw (finite and readable), ascending."""
    return tuple(readable(record).epochs)


def _epochs(record: RunRecord, chosen: Sequence[int] | None) -> tuple[int, ...]:
    return epochs(record) if chosen is None else tuple(chosen)


def nbytes(value: Any) -> int:
    """The bytes of the arrays in a (nested) dict, list or tuple of arrays and numbers."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(nbytes(v) for v in value)
    return 8


@st.cache_resource
def _store() -> BytesLRU[Any]:
    """Every array this app measures or reads (snapshots, series, quantities, maps, k-NN), shared by
    every session and bounded in bytes: at most $REGLAB_CACHE_MB (default 512) megabytes."""
    return BytesLRU(int(os.environ.get("REGLAB_CACHE_MB", "512")) * 2**20, nbytes)


def _cached(key: tuple, load: Callable[[], Any], message: str | None = None) -> Any:
    """`load()` through the byte-bounded store under `key`, with `message` as a spinner while it
    computes (values are shared: read-only)."""
    if message is None:
        return _store().get(key, load)

    def measured() -> Any:
        with widgets.busy(message):
            return load()

    return _store().get(key, measured)


def snapshot(record: RunRecord, epoch: int) -> dict[str, np.ndarray]:
    """One epoch's probe snapshot (read-only: shared by every session)."""
    return _cached(("snapshot", str(record.path), epoch), lambda: load_snapshot(record.path, epoch))


def first_snapshot(record: RunRecord) -> dict[str, np.ndarray]:
    """The run's first drawable snapshot: what its layers and weights are called."""
    return snapshot(record, epochs(record)[0])


def series(name: str, record: RunRecord, epochs: Sequence[int] | None = None, **options: Any) -> dict:
    """`lab.readout.series.<name>(record, epochs, **options)` (default: every drawable snapshot)."""
    chosen, opts = _epochs(record, epochs), tuple(sorted(options.items()))
    return _cached(("series", name, str(record.path), chosen, opts),
                   lambda: getattr(readout, name)(load_run(record.path), epochs=list(chosen), **options),
                   "Measuring the snapshots…")


def lesson_outcome(lesson: Lesson, seed: int, ce: RunRecord, method: RunRecord) -> Outcome:
    """`lab.lessons.outcome` of two ended runs, measured once (it reads their last snapshots and
    probes; a page rerun must not read them again)."""
    key = ("lesson", lesson.name, seed, str(ce.path), str(method.path), ce.state, method.state,
           len(ce.snapshot_epochs), len(method.snapshot_epochs))
    return _cached(key, lambda: outcome(lesson, seed, ce, method), "Measuring the lesson's quantity…")


def quantity(record: RunRecord, method: str, epochs: Sequence[int] | None = None,
             measured: Quantity | None = None) -> dict:
    """`lab.readout.quantities.quantity_series(record, method, epochs, measured)` (`measured`:
    another quantity than the method's own, e.g. a lesson's)."""
    chosen = _epochs(record, epochs)
    which = (measured.measurement, measured.key) if measured else method

    def measure() -> dict:
        from lab.readout.quantities import quantity_series  # torch's import: only where a quantity is measured

        return quantity_series(load_run(record.path), method, list(chosen), measured)

    return _cached(("quantity", str(record.path), which, chosen), measure, "Measuring the method's own quantity…")


PROBE_EPOCHS = 8  # the linear probe (a 5-fold logistic regression per layer) runs on at most this many epochs


def geometry(record: RunRecord, probe: bool = False, progress: Callable[[float, str], None] | None = None) -> dict:
    """`lab.readout.geometry.geometry_series` of every drawable epoch; with `probe`, of at most
    `PROBE_EPOCHS` of them, evenly spaced (the linear probe's budget). `progress(fraction, message)`
    is called per epoch when the series is not in this cache yet (instead of a spinner)."""
    from lab.readout.series import spaced

    chosen = tuple(spaced(list(_epochs(record, None)), PROBE_EPOCHS)) if probe else _epochs(record, None)

    def measure() -> dict:
        from lab.readout.geometry import geometry_series  # torch's import: only where geometry is measured

        return geometry_series(load_run(record.path), list(chosen), probe=probe, progress=progress)

    what = f"Fitting linear probes on {len(chosen)} epochs…" if probe else "Measuring the geometry of every epoch…"
    return _cached(("geometry", str(record.path), chosen, probe), measure, None if progress else what)


def cka(record: RunRecord, other: RunRecord | None = None, epoch: int | None = None) -> dict:
    """The CKA between `record`'s and `other`'s layers over their common epochs, or, without
    `other`, `record`'s layer x layer CKA at `epoch` (`lab.readout.geometry`)."""
    from lab.readout import geometry as g

    if other is None:
        return _cached(("cka_layers", str(record.path), epoch), lambda: g.layer_cka(load_run(record.path), epoch))
    chosen = tuple(e for e in _epochs(record, None) if e in set(_epochs(other, None)))
    return _cached(("cka_runs", str(record.path), str(other.path), chosen),
                   lambda: g.cka_series(load_run(record.path), load_run(other.path), list(chosen)),
                   "Measuring the CKA between the two runs…")


def cka_matrix(records: list[RunRecord], layer: str, epoch: int) -> list[list[float]]:
    """`lab.readout.geometry.cka_matrix`: run x run CKA of `layer` at `epoch`."""
    def measure() -> list[list[float]]:
        from lab.readout.geometry import cka_matrix as matrix

        return matrix([load_run(r.path) for r in records], layer, epoch)

    return _cached(("cka_matrix", tuple(str(r.path) for r in records), layer, epoch), measure,
                   "Measuring the CKA between the runs…")


def judgements(groups: dict[str, list[RunRecord]], reference: list[RunRecord]) -> list[dict]:
    """`lab.readout.judge.judge_runs`: each group against CE's runs on the same seeds."""
    key = ("judge", tuple((g, tuple((str(r.path), r.state, len(r.snapshot_epochs)) for r in rs))
                          for g, rs in groups.items()), tuple(str(r.path) for r in reference))

    def measure() -> list[dict]:
        from lab.readout.judge import judge_runs  # torch's import: only where runs are judged

        return judge_runs(groups, reference)

    return _cached(key, measure, "Judging each method against CE on the same seeds…")


def embedding(record: RunRecord, layer: str | None, algorithm: str, epochs: Sequence[int] | None = None,
              progress: Callable[[float, str], None] | None = None) -> dict[str, np.ndarray]:
    """`lab.readout.embeddings.embed_run(record, layer, algorithm, epochs)`; `progress(fraction,
    message)` is called per epoch when the maps are not in this cache yet."""
    chosen = _epochs(record, epochs)
    return _cached(("embedding", str(record.path), layer, algorithm, chosen),
                   lambda: embeddings.embed_run(record.path, layer, algorithm, list(chosen), progress=progress,
                                                 load=lambda epoch: snapshot(record, epoch)))


def knn(record: RunRecord, layer: str | None = None) -> dict[str, np.ndarray]:
    """`lab.readout.embeddings.knn_series(record, layer)` over every drawable snapshot."""
    chosen = _epochs(record, None)
    return _cached(("knn", str(record.path), layer, chosen),
                   lambda: embeddings.knn_series(record.path, layer, list(chosen),
                                                  load=lambda epoch: snapshot(record, epoch)))


@st.cache_resource(max_entries=512, show_spinner=False)
def _view(kind: str, path: str, epoch: int, *args: Any) -> go.Figure:
    """`lab.figures.views.<kind>_view(snapshot, epoch, *args)`, built once per run, epoch and options:
    a player replaying or stepping back draws it without measuring again."""
    snap = _cached(("snapshot", path, epoch), lambda: load_snapshot(Path(path), epoch))
    return getattr(views, f"{kind}_view")(snap, epoch, *args)


def view(kind: str, record: RunRecord, epoch: int, *args: Any) -> go.Figure:
    """The cached `_view`, shared: never change it (`ui.widgets.figure` styles a copy, and
    `lab.figures.grid.side_by_side` copies; a player frame skips a ~25 ms validated copy per figure)."""
    return _view(kind, str(record.path), epoch, *args)


def similarity_view(record: RunRecord, epoch: int, layer: str | None = None) -> go.Figure:
    """`lab.figures.views.similarity_view` of the run at `epoch`."""
    return view("similarity", record, epoch, layer)


def pairs_view(record: RunRecord, epoch: int, layer: str | None = None) -> go.Figure:
    """`lab.figures.views.pairs_view` of the run at `epoch`."""
    return view("pairs", record, epoch, layer)


def angles_view(record: RunRecord, epoch: int, layer: str | None = None) -> go.Figure:
    """`lab.figures.views.angles_view` of the run at `epoch`."""
    return view("angles", record, epoch, layer)


def sphere_view(record: RunRecord, epoch: int, layer: str | None = None, half_space: bool = False,
                flat: bool = False) -> go.Figure:
    """`lab.figures.views.sphere_view` of the run at `epoch` (`flat`: the map of the whole sphere)."""
    return view("sphere", record, epoch, layer, half_space, flat)


def infoplane_view(record: RunRecord, epoch: int, estimator: str = "kde", **options: Any) -> go.Figure:
    """Every hidden layer's path in the information plane up to `epoch`; `options` go to
    `mi_series` (default: KDE with noise variance `lab.measure.KDE_NOISE`; binning saturates at
    log2 n for wide layers)."""
    return views.infoplane_view(series("mi_series", record, estimator=estimator, **options), epoch, estimator)


def training_points(record: RunRecord) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """The run's training inputs (standardised, as the model saw them), labels, class names and what
    they are: prepared again from its data settings (a prepared data set depends on nothing else), or,
    when your data file has changed or gone since the run, the probe points the run saved."""
    cfg = record.config

    def load() -> tuple[np.ndarray, np.ndarray, list[str], str]:
        from lab.data import prepare, source  # torch's import: only where training points are drawn

        try:
            if cfg.data_source and source(cfg.data, cfg.data_params) != cfg.data_source:
                raise DataError(f"{cfg.data_label} changed since the run")
            data = prepare(cfg.data, cfg.data_params, data_seed=cfg.data_seed, train_size=cfg.train_size,
                           val_size=cfg.val_size, probe_size=cfg.probe_size)
            return data.train.x.numpy(), data.train.y.numpy(), data.classes, "training points"
        except DataError:
            probe = load_probe(record)
            names = class_names(record) or [str(c) for c in range(int(probe["y"].max()) + 1)]
            return probe["x"], probe["y"], names, "test (probe) points: the data file changed or is gone"

    return _cached(("training_points", str(record.path)), load)


def boundary_view(record: RunRecord, epoch: int, title: str) -> go.Figure:
    """`lab.figures.boundary.boundary_figure` of the run's grid logits at `epoch` and its training points."""
    snap = snapshot(record, epoch)
    x, y, classes, what = training_points(record)
    fig = boundary_figure(snap["grid_x"], snap["grid_y"], snap["grid_logits"], x, y, classes, f"{title} · epoch {epoch}")
    return fig if what == "training points" else fig.update_layout(title={"subtitle": {"text": f"dots: {what}"}})

def embedding_view(record: RunRecord, epoch: int) -> go.Figure:
    """PCA map of the features at `epoch`."""
    maps = embedding(record, None, "pca", [epoch])
    return views.embedding_view(maps["xy"][0], maps["y"], epoch)


class View(NamedTuple):
    """A view page's one-epoch figure for small multiples: its `label`, its builder, and whether
    the panels share axes (a PCA map's scale is each run's own, so each map fits its own points)."""

    label: str
    draw: Callable[[RunRecord, int], go.Figure]
    shared: bool = True


VIEWS: dict[str, View] = {  # keyed by the view page (`ui.nav.PAGES`) each one stands for
    "embeddings": View("Embedding (PCA)", embedding_view, shared=False),
    "similarity": View("Similarity between classes", similarity_view),
    "hypersphere": View("Angles between neurons", angles_view),
    "information": View("Information plane", infoplane_view),
}
