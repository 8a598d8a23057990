"""Your own data, read into `RawData`: a table (CSV or TSV), an array file (NPZ) or an image folder
(one subfolder per class). Each refusal is one `DataError` line naming the file and, for a table,
the row (as a text editor numbers lines) and the column; nothing is written while reading.

- table: the header row is optional and detected; the label is the last column unless named
  (`label_column`: a header name or a 0-based index, negative from the end), labels may be
  strings (their names are kept), every other column must be numeric; a column named `split`
  (values train / test) carries the split. A missing or non-finite cell is refused, or its row
  dropped with `drop_missing`.
- arrays: `x` (n, ...) and `y` (n,), optionally `x_test` and `y_test` (then the split is the
  file's). `layout` "auto": (n, d) vectors, (n, H, W) grey images, (n, C, H, W) images;
  "signals": (n, L) or (n, C, L) signals for the 1-D CNN. Read without pickle.
- images: `<folder>/<class>/*.png|jpg|...`, or `<folder>/train/<class>/...` and `test/...`,
  resized to `size` x `size`, grey or RGB.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from lab.config import IMAGE_SUFFIXES as IMAGES
from lab.data.raw import RawData
from lab.errors import DataError

MAX_CLASSES = 1000
TABLE = {".csv": ",", ".tsv": "\t"}
SPLITS = ("train", "test")


def kind(path: str | Path) -> str | None:
    """"table", "arrays" or "images" for a path the lab can read by its name, else None."""
    p = Path(path)
    if p.suffix.lower() in TABLE:
        return "table"
    if p.suffix.lower() == ".npz":
        return "arrays"
    return "images" if p.is_dir() else None


def _classes(labels: np.ndarray, where: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes and names of string labels (numeric labels in numeric order), checked: two
    classes at least, at most MAX_CLASSES."""
    names = sorted(set(labels.tolist()), key=lambda s: (0, float(s), s) if _number(s) is not None else (1, 0.0, s))
    if len(names) < 2:
        raise DataError(f"{where} has one class only ({names[0] if names else 'none'}); a classifier needs two or more.")
    if len(names) > MAX_CLASSES:
        raise DataError(f"{where} has {len(names)} distinct labels (at most {MAX_CLASSES}): is the label column a "
                        f"measurement or an id? Name the class column (label column, --label-column).")
    code = {n: i for i, n in enumerate(names)}
    return np.array([code[s] for s in labels.tolist()], np.int64), [_name(n) for n in names]


def _name(label: str) -> str:
    x = _number(label)
    return str(int(x)) if x is not None and x.is_integer() else label


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _listed(names: list[str], most: int = 16) -> str:
    """Column names joined; past `most`, the first eight, how many more, and the last."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:8])}, ... ({len(names) - 9} more), {names[-1]}"


def check_counts(y: np.ndarray, classes: list[str], where: str, least: int) -> None:
    """Refuse a class with fewer than `least` samples (a stratified split needs 2: one to train, one to test)."""
    counts = np.bincount(y, minlength=len(classes))
    if (counts < least).any():
        c = int(np.argmin(counts))
        raise DataError(f"{where}: class {classes[c]!r} has {counts[c]} sample{'' if counts[c] == 1 else 's'}; each class "
                        f"needs at least {least} (one to train, one to test). Add samples or remove the class.")


def _column(spec: str, header: list[str] | None, width: int, path: Path) -> int:
    """The index of the label column named or numbered by `spec`."""
    if header is not None and spec in header:
        return header.index(spec)
    try:
        i = int(spec)
    except ValueError:
        cols = ", ".join(header) if header else f"0 to {width - 1}"
        raise DataError(f"{path.name} has no column {spec!r}; its columns are: {cols}.") from None
    if not -width <= i < width:
        raise DataError(f"{path.name} has {width} columns; the label column {i} is out of range.")
    return i % width


def read_table(path: str | Path, label_column: str = "-1", drop_missing: bool = False) -> tuple[RawData, str]:
    """(the table's samples, one line saying which columns were used and which rows dropped)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig", errors="replace") if path.is_file() else None
    if text is None:
        raise DataError(f"Data file {path} not found; give the path to a .csv, .tsv or .npz file or an image folder.")
    rows = [(i, r) for i, r in enumerate(csv.reader(io.StringIO(text), delimiter=TABLE[path.suffix.lower()]), 1)
            if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path.name} is empty; a table needs one row per sample: numbers, then the label.")
    width = len(rows[0][1])
    for line, r in rows:
        if len(r) != width:
            raise DataError(f"{path.name}, row {line}: {len(r)} fields where the first row has {width}; every row "
                            f"needs the same columns (a missing value is an empty field between separators).")
    first = [c.strip() for c in rows[0][1]]
    header = first if len(rows) > 1 and sum(_number(c) is None for c in first) > sum(
        _number(c.strip()) is None for c in rows[1][1]) else None
    body = rows[1:] if header else rows
    names = header or [str(i) for i in range(width)]
    label = _column(label_column, header, width, path)
    split = names.index("split") if header and "split" in header and label != names.index("split") else None
    features = [j for j in range(width) if j not in (label, split)]
    if not features:
        raise DataError(f"{path.name} has no feature column besides its label; a table needs numbers to learn from.")
    cells = np.array([[c.strip() for c in r] for _, r in body], dtype=object).reshape(len(body), width)
    empty = [j for j in features if all(c == "" for c in cells[:, j])]
    features = [j for j in features if j not in empty]
    x = np.empty((len(body), len(features)), np.float64)
    keep = np.ones(len(body), bool)
    for k, j in enumerate(features):
        for i, c in enumerate(cells[:, j]):
            v = _number(c) if c else math.nan
            if v is None:
                raise DataError(f"{path.name}, row {body[i][0]}, column {names[j]!r}: {c!r} is not a number; every "
                                f"column but the label must be numeric (remove the column, or make it the label column, "
                                f"--label-column).")
            if not math.isfinite(v):
                if not drop_missing:
                    raise DataError(f"{path.name}, row {body[i][0]}, column {names[j]!r}: "
                                    f"{'missing value' if not c else f'{c!r} is not a finite number'}; fix the row, or "
                                    f"drop such rows (drop missing, --drop-missing).")
                keep[i] = False
            x[i, k] = v
    labels = cells[:, label].astype(str)
    if (blank := np.flatnonzero(keep & (labels == ""))).size:
        raise DataError(f"{path.name}, row {body[blank[0]][0]}: the label (column {names[label]!r}) is empty.")
    x, labels, dropped = x[keep], labels[keep], int((~keep).sum())
    y, classes = _classes(labels, path.name)
    note = (f"{path.name}: {len(y)} rows, {len(features)} feature columns, label column {names[label]!r} "
            f"({len(classes)} classes)" + (f"; dropped empty columns {', '.join(names[j] for j in empty)}" if empty else "")
            + (f"; dropped {dropped} rows with missing values" if dropped else "")
            + ("; split by its 'split' column" if split is not None else "")
            + f". Features: {'' if header else 'columns '}{_listed([names[j] for j in features])}.")
    if split is None:
        check_counts(y, classes, path.name, 2)
        return RawData(x.astype(np.float32), y, classes), note
    part = cells[keep][:, split].astype(str)
    if bad := sorted(set(part.tolist()) - set(SPLITS)):
        raise DataError(f"{path.name}: the split column holds {bad[0]!r}; its values must be train or test.")
    train, test = part == "train", part == "test"
    check_counts(y[train], classes, f"{path.name} (train rows)", 1)
    if not test.any():
        raise DataError(f"{path.name}: the split column names no test row; mark some rows test, or remove the column.")
    return RawData(x[train].astype(np.float32), y[train], classes, (x[test].astype(np.float32), y[test])), note


def _samples(x: np.ndarray, layout: str, where: str) -> np.ndarray:
    """`x` (n, ...) as float32 samples of the lab's shapes: (d,) vectors, (C, L) signals, (C, H, W) images."""
    if x.ndim < 2 or x.ndim > 4 or (layout == "signals" and x.ndim == 4):
        want = "(n, L) or (n, C, L)" if layout == "signals" else "(n, d), (n, H, W) or (n, C, H, W)"
        raise DataError(f"{where}: x has shape {x.shape}; with layout {layout} it must be {want}.")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{where}: x holds {x.dtype} values; it must hold real numbers.")
    x = x.astype(np.float32)
    if layout == "signals":
        return x[:, None] if x.ndim == 2 else x
    return x[:, None] if x.ndim == 3 else x


def read_arrays(path: str | Path, layout: str = "auto", drop_missing: bool = False) -> tuple[RawData, str]:
    """(the NPZ file's samples, one line describing them)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Data file {path} not found; give the path to a .csv, .tsv or .npz file or an image folder.")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ValueError as e:
        raise DataError(f"{path.name} holds Python objects (pickled), which the lab never loads; save plain "
                        f"arrays with np.savez.") if "pickle" in str(e) else DataError(f"{path.name}: {e}") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{path.name} is not a readable .npz file ({e}); save it with np.savez(path, x=..., y=...).") \
            from None
    if missing := [k for k in ("x", "y") if k not in arrays]:
        raise DataError(f"{path.name} has arrays {', '.join(arrays) or 'none'}; it needs x (the samples, one per row) "
                        f"and y (their labels), e.g. np.savez(path, x=x, y=y); {missing[0]} is missing.")
    parts = [("x", "y")] + ([("x_test", "y_test")] if "x_test" in arrays or "y_test" in arrays else [])
    out, dropped = [], 0
    for xk, yk in parts:
        if xk not in arrays or yk not in arrays:
            raise DataError(f"{path.name} has {xk if xk in arrays else yk} without {yk if xk in arrays else xk}; "
                            f"give both or neither.")
        x, y = _samples(arrays[xk], layout, f"{path.name} ({xk})"), np.asarray(arrays[yk])
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(f"{path.name}: {xk} has {len(x)} samples but {yk} has shape {y.shape}; {yk} needs one "
                            f"label per sample, shape ({len(x)},).")
        finite = np.isfinite(x.reshape(len(x), -1)).all(1)
        if not finite.all() and not drop_missing:
            raise DataError(f"{path.name}: {xk}[{int(np.argmin(finite))}] holds a missing or non-finite value; fix "
                            f"it, or drop such samples (drop missing, --drop-missing).")
        dropped += int((~finite).sum())
        out.append((x[finite], y[finite].astype(str)))
    y, classes = _classes(np.concatenate([y for _, y in out]), path.name)
    ys = np.split(y, [len(out[0][1])])
    check_counts(ys[0], classes, path.name, 1 if len(out) > 1 else 2)
    note = (f"{path.name}: {len(ys[0])} samples of shape {out[0][0].shape[1:]}, {len(classes)} classes"
            + (f", and its own test split of {len(ys[1])}" if len(out) > 1 else "")
            + (f"; dropped {dropped} samples with missing values" if dropped else "") + ".")
    return RawData(out[0][0], ys[0], classes, (out[1][0], ys[1]) if len(out) > 1 else None), note


def _image_files(folder: Path) -> dict[str, list[Path]]:
    """{class name: its image files} of a folder with one subfolder per class."""
    return {d.name: sorted(f for f in d.rglob("*") if f.is_file() and f.suffix.lower() in IMAGES)
            for d in sorted(folder.iterdir()) if d.is_dir() and not d.name.startswith(".")}


def read_images(path: str | Path, size: int = 28, colour: str = "grey") -> tuple[RawData, str]:
    """(the image folder's samples, each resized to size x size, grey or RGB; one line describing them)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_dir():
        raise DataError(f"Image folder {path} not found; give a folder with one subfolder of images per class.")
    split = all((path / s).is_dir() for s in SPLITS)
    parts = [_image_files(path / s) for s in SPLITS] if split else [_image_files(path)]
    classes = sorted(set().union(*parts))
    if not any(files for part in parts for files in part.values()):
        raise DataError(f"{path.name} holds no images ({', '.join(sorted(IMAGES))}) in class subfolders; lay it out "
                        f"as {path.name}/<class>/<image>.")
    out = []
    for part in parts:
        xs, ys = [], []
        for c, files in part.items():
            for f in files:
                try:
                    with Image.open(f) as im:
                        im = im.convert("L" if colour == "grey" else "RGB").resize((size, size))
                except (UnidentifiedImageError, OSError) as e:
                    raise DataError(f"{f} is not an image the lab can decode ({type(e).__name__}); remove or "
                                    f"replace it.") from None
                a = np.asarray(im, np.float32) / 255.0
                xs.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
                ys.append(classes.index(c))
        out.append((np.stack(xs) if xs else np.zeros((0, 1 if colour == "grey" else 3, size, size), np.float32),
                    np.array(ys, np.int64)))
    if len(classes) < 2:
        raise DataError(f"{path.name} has one class only ({classes[0]}); a classifier needs two or more subfolders.")
    check_counts(out[0][1], classes, path.name, 1 if split else 2)
    if split and not len(out[1][1]):
        raise DataError(f"{path.name}/test holds no images; put each class's test images in test/<class>/.")
    note = (f"{path.name}: {len(out[0][1])} images, {len(classes)} classes, {size}x{size} {colour}"
            + (f", and its own test split of {len(out[1][1])}" if split else "") + ".")
    return RawData(*out[0], classes, out[1] if split else None), note
