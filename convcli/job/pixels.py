"""Photos through the compiled strips: which jobs take them, and the job on an array.

One predicate, :func:`applies`, says where an image's filtering is OpenCV's strips
(:mod:`convcli.engine.compiled`) rather than the NumPy/SciPy engine; the streaming
route (:mod:`convcli.routes.rows`) and the in-memory route both ask it, and both run
the same strips, so a file, a pipe and an array give the same bytes. Pixel outputs
(PNG, JPEG, WebP, TIFF, GIF) accumulate in float32 for direct passes; ``.npy`` and
large transformed kernels in float64.
"""

from __future__ import annotations

import numpy as np

from ..engine import compiled
from ..engine.padding import canonical_mode
from ..settings import ConvSettings

PIXEL_FORMATS = ("png", "jpg", "webp", "tiff", "gif")
OUT_FORMATS = (*PIXEL_FORMATS, "npy")


def applies(kernel: np.ndarray, settings: ConvSettings, meta: dict, out_fmt: str) -> bool:
    """Whether an image's job runs on the compiled strips.

    ``meta`` is :func:`convcli.io.image.describe`'s. Left to the engine: filter banks,
    per-channel and complex kernels, ``--method fft``, pages, CMYK, float samples,
    one-band float TIFF output, and a missing OpenCV.
    """
    colour = meta["bands"] - meta["alpha"]
    return (
        kernel.ndim == 2
        and not np.iscomplexobj(kernel)
        and settings.ndim == 2
        and settings.bias is None
        and settings.method != "fft"
        and not (settings.steps or settings.real or settings.imag)
        and meta["format"] in ("uchar", "ushort")
        and not meta.get("page_height")
        and colour in (1, 3)
        and meta.get("interpretation") != "cmyk"
        and out_fmt in OUT_FORMATS
        and not (out_fmt == "tiff" and colour == 1 and not meta["alpha"])
        and compiled.available()
    )


def oriented(kernel: np.ndarray, settings: ConvSettings) -> np.ndarray:
    """The kernel in correlation orientation (flipped for a convolution), float64."""
    wf = np.asarray(kernel, dtype=np.float64)
    return wf if settings.correlate else wf[::-1, ::-1]


def strips_for(shape, colour, kernel, geometry, settings: ConvSettings, out_fmt: str, source):
    """The :class:`~convcli.engine.compiled.Strips` of one job: ``shape`` is (rows, cols,
    C), of which the first ``colour`` channels are filtered and the rest is alpha;
    ``source`` is the samples' dtype (uint8 or uint16).

    Numbers out (``.npy``) and 16-bit samples (whose sums float32 would hold only to
    1/250 of a level) are summed in float64; 8-bit pixels with nothing to do after the
    sums are rounded by OpenCV as it stores them.
    """
    wide = out_fmt == "npy" or np.dtype(source) == np.uint16
    sixteen = settings.depth == 16 or settings.depth is None and np.dtype(source) == np.uint16
    strips = compiled.Strips(
        shape,
        oriented(kernel, settings),
        geometry,
        canonical_mode(settings.pad_mode),
        settings.pad_value,
        colour,
        np.float64 if wide else None,
        source,
        out=8 if out_fmt == "npy" else 2 if sixteen else 1,  # the same tiles on both routes
    )
    if not wide and not settings.post and settings.depth in (None, 8):
        strips.rounded = np.uint8
    return strips


def convolve_array(x: np.ndarray, alpha, kernel, settings: ConvSettings, meta, out_fmt: str):
    """The strips over an image in memory: (result, alpha) as the memory route keeps them.

    Parameters
    ----------
    x : ndarray of shape (rows, cols) or (rows, cols, 3)
        Samples as floats (the memory route's), of 8- or 16-bit pixels.
    alpha : ndarray of shape (rows, cols) or None
    meta : dict
        :func:`convcli.io.image.describe`'s.

    Returns
    -------
    y : ndarray shaped as ``x`` through the geometry, float32 or float64
    alpha : ndarray of shape (out_rows, out_cols) or None
    """
    from ..geometry import axes

    s = settings
    geometry = axes(
        x.shape[:2], kernel.shape, s.mode, pad=s.pad, stride=s.stride, dilation=s.dilation
    )
    planes = [x.reshape(x.shape[:2] + (-1,))] + ([] if alpha is None else [alpha[..., None]])
    source = np.uint16 if meta["format"] == "ushort" else np.uint8
    whole = np.concatenate(planes, axis=2).astype(source)  # (rows, cols, C), exact
    strips = strips_for(whole.shape, planes[0].shape[2], kernel, geometry, s, out_fmt, source)
    parts = list(compiled.run_strips(strips, lambda index: _rows(whole, index)))
    y = np.concatenate([p[0] for p in parts])
    rest = np.concatenate([p[1] for p in parts])
    y = y[..., 0] if x.ndim == 2 else y
    return y, (rest[..., 0] if alpha is not None else None)


def _rows(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` (sorted) of ``x``: a view where they run in one piece."""
    if len(index) and index[-1] - index[0] == len(index) - 1:
        return x[index[0] : index[-1] + 1]
    return x[index]
