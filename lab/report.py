"""`python -m lab report RUN [--compare RUN ...]`: every figure of a run in one standalone HTML
file (plotly.js inlined once), or several runs side by side at the same epoch.

One run: training curves, the embedding animated over epochs (PCA; t-SNE with `--tsne`),
k-NN accuracy per layer, angle histograms, hyperspherical energy and nearest-neighbour angles,
the class similarity matrix, histograms and gap, the information plane and MI curves, the
method's own quantity and its paper's views, and the configuration. `--compare`: the same
views as small multiples at one epoch (the one-epoch builders of `lab.figures.views`), plus a
table of final accuracies. Figures come from `lab.figures`, numbers from `lab.measure` and
`lab.readout`; the page is written by `lab.html`.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from lab import views

from lab.errors import LabError, StoreError
from lab.figures import (accuracy_curves, embedding_animation, energy_curves, gap_curves, information_plane,
                         knn_curves, mi_curves, nn_angle_curves, similarity_histograms, training_curves)
from lab.figures.grid import grid
from lab.figures.embedding import LABELS
from lab.figures.method import part_curves, quantity_curves
from lab.figures.overlay import Line
from lab.figures.views import angles_view, embedding_view, similarity_view
from lab.html import Page, records_table
from lab.measure import binning_caveat, class_centroids, mi_ceilings, sample_pair_similarities, similarity_stats
from lab.measure.quantities import own_quantity
from lab.measure.snapshot import feature_weight, features, hidden_layers, weight_labels
from lab.readout.embeddings import embed_run, knn_series
from lab.readout.quantities import quantity_series, run_probe
from lab.regularizers.plugins import for_run
from lab.readout.series import energy_series, mi_series, readable_epochs, similarity_series, spaced
from lab.store import RunRecord, atomic_write, load_run, load_snapshot, runs_root
from lab.store import class_names as store_class_names

MAX_FRAMES = 40  # animation frames: evenly spaced snapshots, first and last included


@dataclass
class Section:
    """A heading, then figures and/or a ready HTML fragment (a table)."""

    title: str
    figures: list[go.Figure]
    html: str = ""


def class_names(rec: RunRecord) -> list[str] | None:
    """The class names the run saved, else the data set's, or None (indices are shown) when neither
    can be read here."""
    from lab.data import DATASETS

    try:
        return store_class_names(rec) or list(
            DATASETS[rec.config.data].load(seed=rec.config.data_seed, **rec.config.data_params).classes)
    except (LabError, OSError, KeyError, TypeError):
        return None


def _embedding(rec: RunRecord, algorithm: str, epochs: list[int], names: list[str] | None,
               n_classes: int) -> go.Figure:
    """The features mapped by `algorithm` (pca, tsne) at `epochs`, animated, with the class centroids."""
    series = embed_run(rec, None, algorithm, epochs)
    centroids = np.stack([class_centroids(xy, series["y"], n_classes) for xy in series["xy"]])
    return embedding_animation(series, names, algorithm, f"{LABELS[algorithm]} of the features ({rec.id})",
                               extra={"class centroids": centroids})


def method_section(rec: RunRecord, epochs: list[int], last: dict[str, np.ndarray]) -> Section:
    """The run's method's own quantity over training (lab.measure.quantities) and, at the last
    epoch, the views its declaration names (`lab.views.method_views`), built-in or plug-in alike; a
    plug-in run whose file is missing or changed says so in one line (the shared reference is drawn)."""
    method = rec.config.method
    title = f"Method: {method}"
    problem = for_run(rec.config.plugin, method)[1]
    note = f"<p>{html.escape(problem)}</p>" if problem else ""
    try:
        series = quantity_series(rec, epochs=epochs)
        probe = run_probe(rec)
    except StoreError as e:  # runs saved before probe.npz existed
        return Section(title, [], f"<p>{html.escape(str(e))}</p>")
    q = own_quantity(method)
    extra = [k for k in series if k not in ("epoch", q.key) and "/" not in k]
    figs = [quantity_curves([Line(rec.id, method, rec.config.seed, series)], q.key, q.label, extra)]
    if any(k.startswith(f"{q.key}/") for k in series):
        figs.append(part_curves(series, q.key, q.label))
    figs += [views.build(v, last, probe, epochs[-1]) for v in views.method_views(method) if views.available(v, probe)]
    return Section(title, figs, note)


def run_sections(rec: RunRecord, tsne: bool = False) -> list[Section]:
    """Every view of one run, in reading order; series over at most MAX_FRAMES of its drawable epochs."""
    epochs = spaced(readable_epochs(rec).epochs, MAX_FRAMES)
    epoch = epochs[-1]
    last = load_snapshot(rec, epoch)
    names, y = class_names(rec), last["probe_y"]
    n_classes, feat_layer = last["logits"].shape[1], hidden_layers(last)[-1]
    knn = {layer: knn_series(rec, layer, epochs) for layer in [*hidden_layers(last), "logits"]}
    maps = [_embedding(rec, a, epochs, names, n_classes) for a in ("pca", *(("tsne",) if tsne else ()))]
    energy = energy_series(rec, epochs=epochs)
    angle_figs = [angles_view(last, epoch, k) for k in weight_labels(last)]
    sim = similarity_series(rec, feat_layer, epochs)
    f = features(last, feat_layer)
    stats = similarity_stats(f, y, n_classes)
    mi = mi_series(rec, epochs=epochs)
    note = binning_caveat(rec.config.model_params.get("activation", "relu"), n=len(y))
    return [
        Section("Training", [training_curves(rec.metrics, f"Training ({rec.id})")]),
        Section("Embedding", maps),
        Section("Separability", [knn_curves(knn)]),
        Section("Hypersphere", [grid(angle_figs, cols=2, shared=False, title=f"Angles between neurons, epoch {epoch}"),
                                energy_curves(energy), nn_angle_curves(energy)]),
        Section("Similarity", [similarity_view(last, epoch, feat_layer, names),
                               similarity_histograms(sample_pair_similarities(f, y), stats,
                                                     f"Cosine similarity of sampled pairs, epoch {epoch}"),
                               gap_curves(sim)]),
        Section("Information", [information_plane(mi, note=note, ceilings=tuple(mi_ceilings(y))),
                                mi_curves(mi, note=note)]),
        method_section(rec, epochs, last),
        Section("Configuration", [], records_table([{"setting": k, "value": v} for k, v in
                                                    {**rec.config.to_dict(), "status": rec.state}.items()])),
    ]


def compare_sections(recs: list[RunRecord], epoch: int | None = None) -> list[Section]:
    """The runs side by side at `epoch` (default: the last epoch every run has), shared axes
    where the quantities are comparable, and a table of final accuracies."""
    common = sorted(set.intersection(*(set(readable_epochs(r).epochs) for r in recs)))
    if not common:
        raise LabError("These runs have no snapshot epoch in common; compare runs of the same length.")
    epoch = common[-1] if epoch is None else epoch
    if epoch not in common:
        raise LabError(f"Not every run has a snapshot at epoch {epoch}; common epochs: {common[0]}..{common[-1]}.")
    names = class_names(recs[0])
    snaps = [load_snapshot(r, epoch) for r in recs]
    titles = [r.id for r in recs]
    maps = [embedding_view(embed_run(r, None, "pca", [epoch])["xy"][0], s["probe_y"], epoch, "pca", names)
            .update_yaxes(scaleanchor=None)  # "y scales with x" would tie every cell to the first cell's x
            for r, s in zip(recs, snaps)]
    heads = [angles_view(s, epoch, feature_weight(s)) for s in snaps]
    sims = [similarity_view(s, epoch, hidden_layers(s)[-1], names) for s in snaps]
    mis = [information_plane(mi_series(r, epochs=spaced(readable_epochs(r).epochs, MAX_FRAMES))) for r in recs]
    rows = [{"run": r.id, "method": r.config.method, "lambda": r.config.lam, "seed": r.config.seed,
             "status": r.state, "epochs": len(r.metrics), "train acc": r.final("train_acc"),
             "test acc": r.final("test_acc"), f"k-NN acc (epoch {epoch})": knn_series(r, None, [epoch])["knn"][0]}
            for r in recs]
    cols = min(len(recs), 3)
    return [
        Section("Final accuracy", [], records_table(rows)),
        Section("Accuracy", [grid([accuracy_curves(r.metrics) for r in recs], titles, cols, title="Accuracy")]),
        Section("Embedding", [grid(maps, titles, cols, shared=False, title=f"PCA of the features, epoch {epoch}")]),
        Section("Hypersphere", [grid(heads, titles, cols, title=f"Angles between neurons of the feature layer, "
                                                                 f"epoch {epoch}")]),
        Section("Similarity", [grid(sims, titles, cols,
                                    title=f"Mean cosine similarity of the features, epoch {epoch}")]),
        Section("Information", [grid(mis, titles, cols, title="Information plane (binning)")]),
    ]


def to_html(sections: list[Section], title: str) -> str:
    """One standalone page (`lab.html`): each section's heading, table and figures."""
    page = Page(title).add(f"<h1>{html.escape(title)}</h1>")
    for s in sections:
        page.add(f"<h2>{html.escape(s.title)}</h2>{s.html}")
        for fig in s.figures:
            page.figure(fig)
    return page.html()


def report(run: str, compare: Sequence[str] = (), out: str | Path | None = None, runs: str | Path | None = None,
           tsne: bool = False, epoch: int | None = None) -> Path:
    """Write the report of `run` (or of `run` and `compare` side by side) and return its path.
    Each run is an id under `runs` (default $REGLAB_RUNS or ./runs) or a path to a run folder."""
    root = runs_root(runs)
    recs = [load_run(r) if Path(r).is_dir() and Path(r).name != r else load_run(r, root) for r in (run, *compare)]
    for r in recs:
        if not r.snapshot_epochs:
            raise LabError(f"Run {r.id} has no snapshots yet; nothing to report.")
        if not readable_epochs(r).epochs:
            raise LabError(f"Run {r.id}: {readable_epochs(r).note}")
    if compare:
        sections, title = compare_sections(recs, epoch), "RegLab comparison: " + ", ".join(r.id for r in recs)
    else:
        sections, title = run_sections(recs[0], tsne), f"RegLab report: {recs[0].id}"
    path = Path(out or f"{recs[0].id}{'-compare' if compare else ''}.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, to_html(sections, title).encode())
    return path
