"""Photographs of handwritten digits prepared the way MNIST's were.

MNIST digits are light on a dark background, size-normalised to fit a 20x20 box
(keeping the aspect ratio, anti-aliased), then placed in a 28x28 image so that
their centre of mass is at the centre.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .files import read


def mnist_style(gray: np.ndarray, box: int = 20, size: int = 28) -> np.ndarray:
    """(H, W) grayscale in any range -> (28, 28) uint8, digit light on dark.

    Parameters
    ----------
    gray : ndarray of shape (H, W)

    Returns
    -------
    ndarray of shape (size, size), uint8
    """
    from PIL import Image
    from scipy import ndimage

    g = gray.astype(np.float64)
    g = (g - g.min()) / (np.ptp(g) or 1.0)
    background = float(np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])))
    if background > 0.5:  # dark ink on light paper: invert
        g, background = 1.0 - g, 1.0 - background
    g = np.clip((g - background) / max(1e-9, 1.0 - background), 0, 1)  # paper to black
    ink = g > 0.25
    if not ink.any():
        raise DataError("no digit found (the image is blank)")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = g[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(
        Image.fromarray((crop * 255).astype(np.uint8)).resize(new, Image.Resampling.LANCZOS),
        dtype=np.float64,
    )
    canvas = np.zeros((size, size))
    top, left = (size - new[1]) // 2, (size - new[0]) // 2
    canvas[top : top + new[1], left : left + new[0]] = small
    cy, cx = ndimage.center_of_mass(canvas)
    shifted = ndimage.shift(canvas, ((size - 1) / 2 - cy, (size - 1) / 2 - cx), order=1)
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


def load_digit(path: str) -> np.ndarray:
    """A photo of one digit (any size, colour, polarity) as a 28x28 MNIST-style image."""
    data = read(path, gray=True)
    if data.kind != "image":
        raise DataError(f"{path}: predict takes images, not {data.format} data")
    x = data.array
    if x.ndim == 3:  # gray with alpha: composite over white, as a page would show it
        alpha = x[..., 1] / 255.0
        x = x[..., 0] * alpha + 255.0 * (1 - alpha)
    return mnist_style(x)
