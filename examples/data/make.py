"""Writes the example data files of `examples/data/` (the default files of the lab's own-data
kinds), from scikit-learn's bundled sets and drawn shapes, so every byte can be made again:

    python examples/data/make.py

- wine.csv: scikit-learn's wine table (178 rows, 13 measurements, header row, string labels);
- digits.npz: scikit-learn's 8x8 digits as `x` (1797, 8, 8) uint8 and `y`;
- shapes/: 16x16 grey PNGs in one folder per class (circle, square, triangle), 30 each, drawn at
  random positions and sizes (seed 0).
"""
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits, load_wine

HERE = Path(__file__).resolve().parent


def wine() -> None:
    d = load_wine()
    with open(HERE / "wine.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*d.feature_names, "cultivar"])
        w.writerows([*map(float, x), d.target_names[y]] for x, y in zip(d.data, d.target))


def digits() -> None:
    d = load_digits()
    np.savez_compressed(HERE / "digits.npz", x=d.images.astype(np.uint8), y=d.target.astype(np.int64))


def shapes(per_class: int = 30, size: int = 16) -> None:
    rng = np.random.default_rng(0)
    for shape in ("circle", "square", "triangle"):
        folder = HERE / "shapes" / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            r = rng.uniform(3, 6)
            cx, cy = rng.uniform(r + 1, size - r - 1, 2)
            im = Image.new("L", (size, size), 0)
            draw = ImageDraw.Draw(im)
            box = (cx - r, cy - r, cx + r, cy + r)
            if shape == "circle":
                draw.ellipse(box, fill=255)
            elif shape == "square":
                draw.rectangle(box, fill=255)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=255)
            im.save(folder / f"{shape}_{i:02d}.png", optimize=True)


if __name__ == "__main__":
    wine()
    digits()
    shapes()
