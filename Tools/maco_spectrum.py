#!/usr/bin/env python3
"""Compute the MaCo magnitude spectrum at 128 x 128 from the colour photos scikit-image ships.

MaCo (Fel et al., "Unlocking Feature Visualization for Deeper Networks with MAgnitude Constrained Optimization",
NeurIPS 2023; xplique's `xplique/features_visualizations/maco.py` and `preconditioning.py`) optimizes only the phase
of an image's Fourier spectrum and keeps its magnitude fixed at the average magnitude of natural images. xplique
builds the image as irfft2(magnitude * exp(i * phase)) per channel in a decorrelated colour space and then
recorrelates the colours with Lucid's matrix, so the magnitude it ships (`spectrum_decorrelated.npy`, 3 x 512 x 257,
made from ImageNet by code that is not public) is a spectrum of decorrelated images; its own code path for a
user's dataset is the mean over images of |rfft2d(image)| per channel. This script does the same on the photos
scikit-image bundles (nothing is downloaded):

1. each photo as float RGB in [0, 1]; five square crops (the largest centred one and four of 3/4 its side at the
   corners) and each crop's mirror image, so 10 views per photo, each resized to 128 x 128 with anti-aliasing;
2. colours decorrelated with the inverse of Lucid's `color_correlation_svd_sqrt` normalized by its largest column
   norm (the matrix xplique's `recorrelate_colors` applies: rgb = d @ C_norm.T, so d = rgb @ inv(C_norm.T));
3. |numpy.fft.rfft2| per channel (unnormalized, as tf.signal.rfft2d), averaged over all views.

The result is little-endian float32 in NPY format, shape [3, 128, 65] (channel, vertical frequency in FFT order,
horizontal frequency 0..64), written to Sources/Visualization/Resources/maco_spectrum_128.npy (about 100 KB).
Its absolute scale does not matter to MaCo, which standardizes the image after the inverse FFT.

Photos used: astronaut, chelsea (also served as `cat`), coffee, rocket, stereo_motorcycle (left view) and
immunohistochemistry. Left out: retina (a fundus image inside a black disc), hubble_deep_field (stars on black),
colorwheel, logo and the chessboard (synthetic), and the grey-level images.

Usage (from the repository root, with numpy and scikit-image from PyPI in a venv outside the repository):
    ~/convlens-venv/bin/python Tools/maco_spectrum.py [OUTPUT.npy]
Run by hand; never by the build or the tests. The output is deterministic for given package versions.
"""
import sys
from pathlib import Path

import numpy as np
import skimage.data
import skimage.transform

from convlens_tools.fixtures import save_npy

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "Sources" / "Visualization" / "Resources" / "maco_spectrum_128.npy"
SIZE = 128
PHOTOS = {
    "astronaut": skimage.data.astronaut,
    "chelsea": skimage.data.chelsea,
    "coffee": skimage.data.coffee,
    "rocket": skimage.data.rocket,
    "stereo_motorcycle (left)": lambda: skimage.data.stereo_motorcycle()[0],
    "immunohistochemistry": skimage.data.immunohistochemistry,
}
# Lucid's square root of ImageNet's colour covariance (lucid/optvis/param/color.py), normalized as Lucid does.
COLOR_CORRELATION_SVD_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR_CORRELATION = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
DECORRELATE = np.linalg.inv(COLOR_CORRELATION.T)  # rows of pixels: decorrelated = rgb @ DECORRELATE


def views(rgb):
    """Ten SIZE x SIZE views of an H x W x 3 image in [0, 1]: five square crops and their mirror images."""
    height, width = rgb.shape[:2]
    side = min(height, width)
    small = side * 3 // 4
    corners = [(0, 0), (0, width - small), (height - small, 0), (height - small, width - small)]
    crops = [rgb[(height - side) // 2:(height - side) // 2 + side, (width - side) // 2:(width - side) // 2 + side]]
    crops += [rgb[top:top + small, left:left + small] for top, left in corners]
    for crop in crops:
        resized = skimage.transform.resize(crop, (SIZE, SIZE), order=1, anti_aliasing=True)
        yield resized
        yield resized[:, ::-1]


def magnitude_spectrum():
    """The mean |rfft2| of every view of every photo in decorrelated colour: 3 x SIZE x (SIZE / 2 + 1), float64."""
    total, count = np.zeros((3, SIZE, SIZE // 2 + 1)), 0
    for name, load in PHOTOS.items():
        image = load()
        rgb = image[..., :3].astype(np.float64) / 255
        for view in views(rgb):
            decorrelated = view @ DECORRELATE
            total += np.abs(np.fft.rfft2(np.moveaxis(decorrelated, -1, 0)))
            count += 1
        print(f"{name:26s} {image.shape[1]} x {image.shape[0]}, mean RGB {np.round(rgb.mean((0, 1)), 3).tolist()}")
    return total / count, count


def radial_profile(spectrum):
    """Mean magnitude per channel in octave bands of spatial frequency (cycles per pixel), and the slope of
    log magnitude against log frequency between 2 / SIZE and 0.45 cycles per pixel."""
    frequency = np.sqrt(np.fft.fftfreq(SIZE)[:, None] ** 2 + np.fft.rfftfreq(SIZE)[None, :] ** 2)
    bands = [(1 / SIZE, 2 / SIZE), (2 / SIZE, 4 / SIZE), (4 / SIZE, 8 / SIZE), (8 / SIZE, 16 / SIZE),
             (16 / SIZE, 32 / SIZE), (32 / SIZE, 0.5), (0.5, 0.71)]
    rows = [(lo, hi, [float(spectrum[c][(frequency >= lo) & (frequency < hi)].mean()) for c in range(3)])
            for lo, hi in bands]
    fit = (frequency > 2 / SIZE) & (frequency < 0.45)
    slopes = [float(np.polyfit(np.log(frequency[fit]), np.log(spectrum[c][fit]), 1)[0]) for c in range(3)]
    return rows, slopes


def main() -> int:
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        print(__doc__)
        return 2
    output = Path(sys.argv[1]) if len(sys.argv) == 2 else OUTPUT
    spectrum, count = magnitude_spectrum()
    output.parent.mkdir(parents=True, exist_ok=True)
    result = save_npy(output, spectrum)

    print(f"\n{count} views of {len(PHOTOS)} photos; wrote {output} ({output.stat().st_size} bytes), "
          f"shape {list(result.shape)} {result.dtype.str}")
    print("decorrelation matrix (rgb row @ M):", np.round(DECORRELATE, 5).tolist())
    for c in range(3):
        channel = result[c].astype(np.float64)
        print(f"channel {c}: DC {channel[0, 0]:.5g} ({channel[0, 0] / SIZE ** 2:.4f} per pixel), mean {channel.mean():.5g},"
              f" median {np.median(channel):.5g}, min {channel.min():.5g}, max {channel.max():.5g}, "
              f"Nyquist (64, 64) {channel[SIZE // 2, SIZE // 2]:.5g}")
    rows, slopes = radial_profile(result.astype(np.float64))
    print("mean magnitude by frequency band (cycles/pixel): channel 0, 1, 2")
    for lo, hi, values in rows:
        print(f"  [{lo:.4f}, {hi:.4f})  " + "  ".join(f"{v:10.4g}" for v in values))
    print("log-log slope of magnitude vs frequency:", [round(s, 3) for s in slopes])
    return 0


if __name__ == "__main__":
    sys.exit(main())
