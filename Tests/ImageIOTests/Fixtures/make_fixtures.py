"""Writes the ImageIO test fixtures into this folder. Run from anywhere:
/root/convlens-venv/bin/python Tests/ImageIOTests/Fixtures/make_fixtures.py
"""
import io
import os

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


def save_version(name, array, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


# .npy files as NumPy writes them. Values are chosen so float32 keeps them exactly, except 0.1 in the f8 file.
matrix = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) * 0.75
np.save(path("v1_f4.npy"), matrix)
np.save(path("v1_f8.npy"), np.array([[0.1, -2.0], [1e-3, 3.5e6]], dtype=np.float64))
save_version("v2_f4.npy", matrix, (2, 0))
save_version("v3_f4.npy", matrix, (3, 0))
np.save(path("scalar_f4.npy"), np.array(3.5, dtype=np.float32))
np.save(path("vector_f4.npy"), np.array([1, -2, 0.5, 1e-8, 7], dtype=np.float32))
np.save(path("empty_f4.npy"), np.zeros((0, 3), dtype=np.float32))
np.save(path("fortran_f4.npy"), np.asfortranarray(matrix))
np.save(path("int64.npy"), np.arange(4, dtype=np.int64))
np.save(path("big_endian_f4.npy"), matrix.astype(">f4"))

# JPEGs made by Pillow, with Pillow's decode of each as float32 .npy (H×W or H×W×3) for the expected pixels.
y, x = np.mgrid[0:16, 0:24]
gray = ((x * 9 + y * 5) % 256).astype(np.uint8)
rgb = np.stack([(x * 10) % 256, (y * 15) % 256, ((x + y) * 6) % 256], axis=-1).astype(np.uint8)
jpegs = {
    "gray.jpg": (Image.fromarray(gray, "L"), {}),
    "rgb.jpg": (Image.fromarray(rgb, "RGB"), {"quality": 90}),
    "progressive.jpg": (Image.fromarray(rgb, "RGB"), {"quality": 80, "progressive": True}),
    "cmyk.jpg": (Image.fromarray(rgb, "RGB").convert("CMYK"), {}),
}
for name, (image, options) in jpegs.items():
    image.save(path(name), "JPEG", **options)
    if image.mode != "CMYK":
        np.save(path(name + ".npy"), np.asarray(Image.open(path(name))).astype(np.float32))
