"""Where a ``-k KERNEL`` comes from: a file, a named kernel, or numbers on the command line."""

from __future__ import annotations

import os

import numpy as np

from .. import kernels
from ..errors import DataError, SpecError
from . import arrays
from .files import read


def load_kernel(spec: str, ndim: int, rate: float | None = None):
    """The kernel array for a convolution of ``ndim`` axes, and its sample rate if it has one.

    Parameters
    ----------
    spec : str
        A path, a named kernel (``gaussian:sigma=2``) or numbers (``1,-1,2`` or
        ``"1 2 1; 0 0 0; -1 -2 -1"``).
    ndim : {1, 2}
    rate : float, optional
        Sample rate for the FIR designs.

    Returns
    -------
    kernel : ndarray
        1-D: (k,) or (k, channels). 2-D: (kh, kw), or a bank (K, C, kh, kw).
    rate : int or None
        The sample rate of an audio kernel file.
    """
    if spec == "-" or os.path.exists(spec):
        return _from_file(spec, ndim)
    if spec[:1].isalpha():  # a name (perhaps misspelt), never numbers
        name = kernels.parse_spec(spec)[0]
        entry = kernels.KERNELS[name]
        if ndim == 1 and entry.one is None:
            raise SpecError(f"kernel {name} is 2-D: use it with conv2d")
        dims = ndim if (entry.one, entry.two)[ndim - 1] is not None else None
        k = kernels.make(spec, dims, rate)
        return (k[None, :] if ndim == 2 and k.ndim == 1 else k), None
    try:
        k, orientation = arrays.parse_text(spec, "kernel")
    except DataError:
        raise SpecError(
            f"kernel {spec!r}: not a file, a named kernel (see 'convcli kernels') "
            "or a list of numbers"
        ) from None
    if ndim == 2 and k.ndim == 1:
        k = k[None, :] if orientation == "row" else k[:, None]
    return k, None


def _check_kind(kind: str, path: str, ndim: int) -> None:
    """An image is no impulse response, and a recording no image filter."""
    if ndim == 1 and kind == "image":
        raise SpecError(
            f"{path} is an image: a conv1d kernel is numbers or an audio "
            "impulse response (an image filters images, with conv2d)"
        )
    if ndim == 2 and kind == "audio":
        raise SpecError(
            f"{path} is audio: a conv2d kernel is numbers, an array or an image "
            "(audio filters audio, with conv1d)"
        )


def _from_file(path: str, ndim: int):
    data = read(path)
    _check_kind(data.kind, path, ndim)
    k = data.array
    if data.kind == "audio":
        k = k[:, 0] if k.shape[1] == 1 else k  # (frames,) or (frames, channels)
    elif data.kind == "image":
        k = k.astype(float).mean(axis=2) if k.ndim == 3 else k.astype(float)
        total = k.sum()
        k = k / total if total else k  # an image used as a blur shape keeps brightness
    elif data.kind == "text" and ndim == 2 and k.ndim == 1:
        k = k[None, :] if data.orientation == "row" else k[:, None]
    if ndim == 1 and k.ndim > 2:
        raise SpecError(f"{path}: a 1-D kernel must be (taps,) or (taps, channels), got {k.shape}")
    return np.asarray(k), data.sample_rate
