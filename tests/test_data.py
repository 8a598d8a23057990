"""Data: shapes, stratified deterministic splits, probe set, standardisation, batch samplers,
and the torchvision image sets read from tiny files written here in their real on-disk formats."""
from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import lab.data as data
from lab.config import RunConfig
from lab.data import DATASETS, prepare
from lab.data.images import check_files, fetch, load_image_set
from lab.data.tensors import TensorSet, batching, second_batch_problem
from lab.errors import ConfigError, DataError
from lab.train import train


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty split cache, so a second `prepare` really recomputes."""
    monkeypatch.setattr(data, "_CACHE", {})


def defaults(name: str, **over) -> dict:
    return {**{p.name: p.default for p in DATASETS[name].params}, **over}


def counts(y: torch.Tensor | np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(np.asarray(y), minlength=n_classes)


# --- offline data sets -------------------------------------------------------------------

@pytest.mark.parametrize("name,params,shape,n_classes,n_total", [
    ("digits", {}, (1, 8, 8), 10, 1797),
    ("mnist1d", {}, (1, 40), 10, 5000),
    ("moons", {"n_samples": 200}, (2,), 2, 200),
    ("circles", {"n_samples": 200}, (2,), 2, 200),
    ("spirals", {"n_samples": 300, "arms": 4}, (2,), 4, 300),
])
def test_shapes_and_classes(name, params, shape, n_classes, n_total):
    p = prepare(name, defaults(name, **params), probe_size=100)
    assert p.sample_shape == shape == DATASETS[name].sample_shape
    assert p.n_classes == n_classes and len(p.classes) == n_classes
    assert len(p.train) + len(p.test) == n_total
    assert len(p.test) == round(n_total * DATASETS[name].test_fraction)
    for s in (p.train, p.test, p.probe):
        assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64 and tuple(s.x.shape[1:]) == shape
    assert len(p.probe) == min(100, len(p.test)) and set(p.train.y.tolist()) == set(range(n_classes))


def test_split_is_stratified():
    raw = DATASETS["digits"].load(seed=0)
    p = prepare("digits", {}, probe_size=100)
    want = counts(raw.y, 10) * len(p.test) / len(raw.y)
    assert np.abs(counts(p.test.y, 10) - want).max() < 1
    assert (counts(p.test.y, 10) + counts(p.train.y, 10) == counts(raw.y, 10)).all()


def test_same_data_seed_same_tensors_other_seed_other_split(fresh_cache):
    a = prepare("digits", {}, data_seed=3, train_size=300, probe_size=100)
    data._CACHE.clear()
    b = prepare("digits", {}, data_seed=3, train_size=300, probe_size=100)
    for sa, sb in ((a.train, b.train), (a.test, b.test), (a.probe, b.probe)):
        assert torch.equal(sa.x, sb.x) and torch.equal(sa.y, sb.y)
    c = prepare("digits", {}, data_seed=4, train_size=300, probe_size=100)
    assert not torch.equal(a.test.x, c.test.x) and not torch.equal(a.train.x, c.train.x)
    assert (counts(a.test.y, 10) == counts(c.test.y, 10)).all()  # both stratified the same way


def test_train_size_subsample_is_stratified():
    full = prepare("digits", {}, probe_size=100)
    small = prepare("digits", {}, train_size=100, probe_size=100)
    assert len(small.train) == 100 and torch.equal(small.test.y, full.test.y)
    want = counts(full.train.y, 10) * 100 / len(full.train)
    assert np.abs(counts(small.train.y, 10) - want).max() < 1


def test_too_large_train_size_is_refused_with_the_limit():
    with pytest.raises(ConfigError, match=r"^train_size 5000 is larger than the digits training split "
                                          r"\(1348 samples\); use at most 1348 or 0 for all\.$"):
        prepare("digits", {}, train_size=5000)


def test_probe_is_a_stratified_subset_of_test():
    p = prepare("digits", {}, probe_size=200)
    rows = {tuple(r) for r in p.test.x.flatten(1).tolist()}
    assert all(tuple(r) in rows for r in p.probe.x.flatten(1).tolist())
    want = counts(p.test.y, 10) * 200 / len(p.test)
    assert len(p.probe) == 200 and np.abs(counts(p.probe.y, 10) - want).max() < 1
    small = prepare("moons", defaults("moons", n_samples=80), probe_size=2000)
    assert len(small.test) == 20 and torch.equal(small.probe.y.sort().values, small.test.y.sort().values)


def test_standardisation_uses_training_statistics_only():
    params = defaults("moons", n_samples=400)
    x_tr, _, _, x_te, _, _, _ = data._split(DATASETS["moons"], params, 0, 0, 0, 100)
    p = prepare("moons", params, probe_size=100)
    mean, std = x_tr.mean(0), x_tr.std(0)
    torch.testing.assert_close(p.test.x, torch.as_tensor((x_te - mean) / std))
    torch.testing.assert_close(p.train.x.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(p.train.x.std(0, correction=0), torch.ones(2), atol=1e-5, rtol=0)
    assert p.test.x.mean(0).abs().max() > 1e-3  # the test split is not re-centred


def test_image_standardisation_is_per_channel():
    p = prepare("digits", {}, train_size=500, probe_size=100)
    assert abs(p.train.x.mean().item()) < 1e-5 and abs(p.train.x.std(correction=0).item() - 1) < 1e-4
    assert abs(p.test.x.mean().item()) > 1e-4


# --- batch samplers ------------------------------------------------------------------------

def _set(class_counts: list[int]) -> TensorSet:
    y = torch.cat([torch.full((c,), k) for k, c in enumerate(class_counts)])
    return TensorSet(torch.arange(len(y), dtype=torch.float32)[:, None], y)


def test_batches_are_a_permutation_in_full_batches():
    s = _set([30, 20, 13])
    got = list(s.batches(10, torch.Generator().manual_seed(0)))
    assert [len(b) for b in got] == [10] * 6 and len(torch.cat(got).unique()) == 60
    again = list(s.batches(10, torch.Generator().manual_seed(0)))
    assert all(torch.equal(a, b) for a, b in zip(got, again))
    assert [len(b) for b in s.batches(100, torch.Generator())] == [63]  # one short batch


def test_second_batches_keep_the_first_batches_and_are_drawn_anew_at_each_step():
    """ITRA's second batch: the first batches are exactly CE's walk of the epoch (same count, every
    sample once), each paired with a new draw of the same size, without repetition, sharing no
    sample with the first."""
    s = _set([30, 20, 13])
    plain = list(s.batches(8, torch.Generator().manual_seed(1)))
    pairs = list(s.with_second(s.batches(8, torch.Generator().manual_seed(1)), torch.Generator().manual_seed(2)))
    assert len(pairs) == len(plain) == 63 // 8
    assert all(torch.equal(a, p) for (a, _), p in zip(pairs, plain))
    assert all(len(b) == 8 and len(b.unique()) == 8 and b.max() < 63 for _, b in pairs)
    assert len({tuple(b.tolist()) for _, b in pairs}) == len(pairs)  # a new draw each step
    assert not any(set(a.tolist()) & set(b.tolist()) for a, b in pairs)  # disjoint
    tight = list(s.with_second(s.batches(31, torch.Generator().manual_seed(1)), torch.Generator()))
    assert all(len(b) == 31 and not set(a.tolist()) & set(b.tolist()) for a, b in tight)  # 63 >= 2 x 31: still disjoint


def test_a_method_says_how_its_batches_differ_from_ces():
    assert batching(frozenset(), 128, 10) is None
    assert batching(frozenset({"balanced_batches"}), 128, 10) == "class-balanced batches of 120, 12 per class (CE's: 128)"
    assert batching(frozenset({"balanced_batches"}), 120, 10) == "class-balanced batches of 120, 12 per class"
    assert batching(frozenset({"second_batch"}), 64, 10) == "two disjoint batches of 64 per step, CE's one"
    assert second_batch_problem(frozenset({"second_batch"}), 64, 128) is None
    assert second_batch_problem(frozenset(), 64, 100) is None
    assert "at least 128 training samples (now 100)" in second_batch_problem(frozenset({"second_batch"}), 64, 100)


def test_a_validation_split_is_held_out_of_training_and_stratified():
    full = prepare("digits", {}, probe_size=100)
    held = prepare("digits", {}, val_size=200, probe_size=100)
    assert held.val is not None and full.val is None
    assert len(held.train) + len(held.val) == len(full.train)
    assert torch.bincount(held.val.y).tolist() == pytest.approx([20] * 10, abs=1)
    rows = {tuple(r) for r in held.train.x.flatten(1).tolist()}
    assert not any(tuple(r) in rows for r in held.val.x.flatten(1).tolist())
    sub = prepare("digits", {}, train_size=300, val_size=300, probe_size=100)
    assert (len(sub.train), len(sub.val)) == (300, 300)
    with pytest.raises(ConfigError, match="val_size"):
        prepare("digits", {}, val_size=5000)


def test_balanced_batches_hold_every_present_class_equally():
    s = _set([50, 10, 0, 4])  # class 2 has no samples
    got = list(s.balanced_batches(12, 4, torch.Generator().manual_seed(2)))
    assert len(got) == 64 // 12  # per = 3 slots per class
    for b in got:  # laid out as (present classes, slots): one row per class
        assert b.shape == (3, 3) and torch.equal(s.y[b], torch.tensor([[0] * 3, [1] * 3, [3] * 3]))
        b = b.view(-1)
        assert counts(s.y[b], 4).tolist() == [3, 3, 0, 3]
        assert len(b[s.y[b] == 3].unique()) == 3  # distinct members while the class has enough
    assert [len(b) for _, b in s.with_second(iter(got), torch.Generator())] == [9] * len(got)  # as many samples
    big = torch.cat([b[s.y[b] == 0] for b in got])
    assert len(big.unique()) == len(big) == 15  # the large class is walked without repeats


# --- torchvision image sets on tiny files in the real formats ----------------------------

def write_idx(path: Path, a: np.ndarray) -> None:
    """An uncompressed idx file: magic 0x00 0x00 0x08 (uint8) ndim, big-endian int32 dims, bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}i", *a.shape) + a.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(20) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(10)[::-1].astype(np.uint8)}
    for name, a in arrays.items():
        write_idx(root / folder / "raw" / name, a)
    return arrays


def write_pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def cifar_batch(rng: np.random.Generator, labels: list[int], label_key: str, k=bytes) -> dict:
    """A batch as CIFAR stores it; `k=str` gives the keys as the Python 2 originals decode."""
    key = (lambda s: s.encode()) if k is bytes else str
    doc = {key("data"): rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8), key(label_key): labels,
           key("batch_label"): key("tiny batch")}
    if label_key == "fine_labels":
        doc[key("coarse_labels")] = [c // 5 for c in labels]
    return doc


def write_cifar10(root: Path, rng: np.random.Generator, k=bytes) -> tuple[list[dict], dict]:
    key = (lambda s: s.encode()) if k is bytes else str
    folder = root / "cifar-10-batches-py"
    train = [cifar_batch(rng, [(4 * b + i) % 10 for i in range(4)], "labels", k) for b in range(5)]
    for b, doc in enumerate(train):
        write_pickle(folder / f"data_batch_{b + 1}", doc)
    test = cifar_batch(rng, list(range(10)), "labels", k)
    write_pickle(folder / "test_batch", test)
    write_pickle(folder / "batches.meta", {key("label_names"): [key(f"class{c}") for c in range(10)],
                                           key("num_vis"): 3072})
    return train, test


def write_cifar100(root: Path, rng: np.random.Generator) -> tuple[dict, dict]:
    folder = root / "cifar-100-python"
    train, test = cifar_batch(rng, [c % 100 for c in range(0, 300, 3)], "fine_labels"), \
        cifar_batch(rng, list(range(99, -1, -1)), "fine_labels")
    write_pickle(folder / "train", train)
    write_pickle(folder / "test", test)
    write_pickle(folder / "meta", {b"fine_label_names": [f"fine{c}".encode() for c in range(100)],
                                   b"coarse_label_names": [f"coarse{c}".encode() for c in range(20)]})
    return train, test


@pytest.mark.parametrize("name,folder,first_class", [("mnist", "MNIST", "0 - zero"),
                                                     ("fashion_mnist", "FashionMNIST", "T-shirt/top")])
def test_mnist_idx_files_load_as_written(tmp_path, name, folder, first_class):
    a = write_mnist(tmp_path, folder, np.random.default_rng(0))
    raw = load_image_set(name, str(tmp_path), download=False)
    assert raw.x.dtype == np.float32 and raw.x.shape == (20, 1, 28, 28)
    np.testing.assert_array_equal(raw.x[:, 0], a["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(raw.y, a["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(raw.test[0][:, 0], a["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(raw.test[1], a["t10k-labels-idx1-ubyte"])
    assert raw.y.dtype == np.int64 and len(raw.classes) == 10 and raw.classes[0] == first_class


@pytest.mark.parametrize("k", [bytes, str])
def test_cifar10_batches_load_as_written(tmp_path, k):
    train, test = write_cifar10(tmp_path, np.random.default_rng(1), k)
    key = (lambda s: s.encode()) if k is bytes else str
    raw = load_image_set("cifar10", str(tmp_path), download=False)
    assert raw.x.dtype == np.float32 and raw.x.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(raw.x, np.concatenate([b[key("data")] for b in train]).reshape(20, 3, 32, 32))
    assert raw.y.tolist() == sum((b[key("labels")] for b in train), [])
    np.testing.assert_array_equal(raw.test[0].reshape(10, -1), test[key("data")])
    assert raw.test[1].tolist() == list(range(10)) and raw.classes == [f"class{c}" for c in range(10)]


def test_cifar100_uses_fine_labels_and_names(tmp_path):
    train, test = write_cifar100(tmp_path, np.random.default_rng(2))
    raw = load_image_set("cifar100", str(tmp_path), download=False)
    np.testing.assert_array_equal(raw.x.reshape(100, -1), train[b"data"])
    assert raw.y.tolist() == train[b"fine_labels"] and raw.test[1].tolist() == test[b"fine_labels"]
    assert len(raw.classes) == 100 and raw.classes[7] == "fine7"


def test_prepare_and_train_end_to_end_on_tiny_image_files(tmp_path):
    rng = np.random.default_rng(3)
    write_mnist(tmp_path, "MNIST", rng)
    write_cifar10(tmp_path, rng)
    root = {"root": str(tmp_path), "download": False}
    p = prepare("mnist", root, probe_size=5)
    assert p.train.x.shape == (20, 1, 28, 28) and p.test.x.shape == (10, 1, 28, 28) and len(p.probe) == 5
    assert p.sample_shape == (1, 28, 28) and p.n_classes == 10
    cfg = RunConfig(data="cifar10", model="cnn", data_params=root, epochs=1, batch_size=8, probe_size=10,
                    model_params={"channels": (4,), "feature_dim": 8}, device="cpu")
    result = train(cfg)
    assert result.status == "done" and len(result.history) == 1


@pytest.mark.parametrize("name,folder,a_file", [
    ("mnist", "MNIST/raw", "train-images-idx3-ubyte"),
    ("fashion_mnist", "FashionMNIST/raw", "t10k-labels-idx1-ubyte"),
    ("cifar10", "cifar-10-batches-py", "data_batch_5"),
    ("cifar100", "cifar-100-python", "meta"),
])
def test_missing_files_name_the_folder_and_files(tmp_path, name, folder, a_file):
    with pytest.raises(DataError) as e:
        load_image_set(name, str(tmp_path / "nowhere"), download=False)
    msg = str(e.value)
    assert msg.startswith(f"{name}: ") and str(tmp_path / "nowhere" / folder) in msg and "--download" in msg
    assert "\n" not in msg and ". " not in msg and len(msg.replace(str(tmp_path), "")) < 160  # one short sentence
    assert a_file not in msg  # a count, not the list of every file


def test_one_missing_cifar_file_is_named(tmp_path):
    write_cifar10(tmp_path, np.random.default_rng(4))
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"^cifar10: data_batch_3 is not in "):
        load_image_set("cifar10", str(tmp_path), download=False)


class _Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("victim", ["data_batch_2", "batches.meta"])
def test_a_malicious_pickle_is_refused(tmp_path, victim):
    write_cifar10(tmp_path, np.random.default_rng(5))
    marker = tmp_path / "pwned"
    write_pickle(tmp_path / "cifar-10-batches-py" / victim, {b"data": _Exploit(marker), b"labels": []})
    with pytest.raises(DataError, match=r"refusing to load .*: unexpected object (posix|nt)\.system"):
        load_image_set("cifar10", str(tmp_path), download=False)
    assert not marker.exists()


def test_truncated_or_foreign_files_give_a_data_error(tmp_path):
    write_cifar10(tmp_path, np.random.default_rng(6))
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:500])
    with pytest.raises(DataError, match="test_batch is not a readable CIFAR file"):
        load_image_set("cifar10", str(tmp_path), download=False)
    write_pickle(batch, {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]})
    with pytest.raises(DataError, match=r"does not hold uint8 \(n, 3072\) images"):
        load_image_set("cifar10", str(tmp_path), download=False)
    write_mnist(tmp_path, "MNIST", np.random.default_rng(7))
    images = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(DataError, match="mnist: cannot read the files in"):
        load_image_set("mnist", str(tmp_path), download=False)


def test_labels_outside_the_classes_are_refused(tmp_path):
    write_cifar10(tmp_path, np.random.default_rng(8))
    write_pickle(tmp_path / "cifar-10-batches-py" / "test_batch", cifar_batch(np.random.default_rng(9), [3, 10], "labels"))
    with pytest.raises(DataError, match="labels outside the 10 classes"):
        load_image_set("cifar10", str(tmp_path), download=False)
    write_mnist(tmp_path, "MNIST", np.random.default_rng(10))
    write_idx(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.full(10, 12, np.uint8))
    with pytest.raises(DataError, match="labels outside the 10 classes"):
        load_image_set("mnist", str(tmp_path), download=False)


def test_fetch_reports_progress_per_archive_and_tries_each_mirror(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils
    from torchvision.datasets import MNIST

    tried = []

    def fake_download(url, download_root, filename, md5):
        tried.append(url)
        if url.startswith(MNIST.mirrors[0]):
            raise OSError("first mirror down")
        if len(tried) == 2 * len(MNIST.resources):  # the last archive: write every file
            write_mnist(tmp_path, "MNIST", np.random.default_rng(12))

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    seen = []
    fetch("mnist", tmp_path, lambda fraction, message: seen.append((fraction, message)))
    assert [f for f, _ in seen] == [0.0, 0.25, 0.5, 0.75, 1.0] and "downloading train-images-idx3-ubyte.gz" in seen[0][1]
    assert tried == [m + f for f, _ in MNIST.resources for m in MNIST.mirrors]
    check_files("mnist", tmp_path)  # every file there now
    fetch("mnist", tmp_path)
    assert len(tried) == 8  # nothing left to fetch


def test_download_fetches_only_missing_files_and_reports_failure_in_one_line(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils
    from torchvision.datasets import CIFAR10

    calls = []

    def fake_download(url, download_root, filename, md5):
        calls.append((url, filename, md5))
        write_cifar10(Path(download_root), np.random.default_rng(11))

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    assert len(load_image_set("cifar10", str(tmp_path), download=True).y) == 20
    assert calls == [(CIFAR10.url, CIFAR10.filename, CIFAR10.tgz_md5)]
    load_image_set("cifar10", str(tmp_path), download=True)
    assert len(calls) == 1  # the files are there now

    def offline(*a, **k):
        raise RuntimeError("no network\nsecond line")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", offline)
    with pytest.raises(DataError, match=r"^cifar100: cannot download https://\S+ \(RuntimeError: no network second "
                                        r"line\); check the network connection or copy the files into "):
        load_image_set("cifar100", str(tmp_path), download=True)
    with pytest.raises(DataError, match=r"^fashion_mnist: cannot download http\S+ \(RuntimeError") as e:
        load_image_set("fashion_mnist", str(tmp_path), download=True)
    assert "\n" not in str(e.value)
