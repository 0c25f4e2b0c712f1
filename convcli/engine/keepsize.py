"""Float32 images in process: a 2-D correlation that keeps the input's size, by OpenCV.

``convolve(x, w, "same")`` on a float32 image is what users time against
``cv2.filter2D``. Where the output has the input's size at unit stride and dilation and
the padding is a border OpenCV has, OpenCV computes it: a row and a column pass for
separable kernels, ``filter2D`` (direct, or a tiled DFT for 50 taps and more) for the
rest, each half of the rows on its own thread with the kernel's reach of real rows
beside it. The engine's other paths stay the reference (``tests/test_compiled.py``).
"""

from __future__ import annotations

import numpy as np

from .compiled import available
from .direct import separable
from .padding import canonical_mode

_BORDERS = {"replicate": "BORDER_REPLICATE", "reflect": "BORDER_REFLECT_101"}
_BORDERS.update(symmetric="BORDER_REFLECT", zeros="BORDER_CONSTANT", constant="BORDER_CONSTANT")
MIN_THREADED = 1 << 18  # samples: below this, one call on one thread


def takes(x, w, geometry, method: str, pad_mode: str) -> bool:
    """Whether a float32 2-D convolution is OpenCV's: an output of the input's size
    (``same``, or padding that adds up to ``k - 1``), unit stride and dilation, a kernel
    of at most 64x64, finite operands checked by the caller."""
    return (
        method in ("auto", "direct")
        and x.dtype == np.float32
        and w.dtype.kind == "f"
        and x.ndim in (2, 3)
        and w.ndim == 2
        and (x.ndim == 2 or x.shape[2] <= 4)
        and canonical_mode(pad_mode) in _BORDERS
        and all(
            ax.stride == ax.dilation == 1 and ax.length == ax.n and ax.k <= min(ax.n, 64)
            for ax in geometry
        )
        and available()
    )


def correlate_same(x: np.ndarray, wf: np.ndarray, geometry, pad_mode: str, value: float):
    """A correlation that keeps the input's size, by OpenCV on halves of the rows.

    Parameters
    ----------
    x : ndarray of shape (rows, cols) or (rows, cols, C), float32, C <= 4
    wf : ndarray of shape (kh, kw), correlation orientation
    geometry : the two Axis, with ``before + after == k - 1``

    Returns
    -------
    ndarray shaped as ``x``, float32
    """
    import cv2

    if x.ndim == 3 and x.shape[2] == 1:
        return correlate_same(x[..., 0], wf, geometry, pad_mode, value)[..., None]
    rows, cols = geometry
    border = getattr(cv2, _BORDERS[canonical_mode(pad_mode)])
    options = {"anchor": (cols.before, rows.before), "borderType": border}
    wf = np.asarray(wf, np.float64)
    factors = separable(wf)
    if canonical_mode(pad_mode) == "constant" and value:
        x = x - np.float32(value)  # a constant border is zeros around x - value ...
        options["delta"] = float(wf.sum() * value)  # ... plus value times the kernel's sum

    def run(block):
        if factors is not None:
            return cv2.sepFilter2D(block, cv2.CV_32F, factors[1], factors[0], **options)
        return cv2.filter2D(block, cv2.CV_32F, wf, **options)

    n = rows.n
    if x.size < MIN_THREADED or n < 2 * rows.k:
        y = run(x)
    else:
        y = np.empty_like(x)
        half = n // 2

        def part(lo, hi):  # rows lo..hi, with the kernel's reach of real rows either side
            top, bottom = max(0, lo - rows.before), min(n, hi + rows.after)
            y[lo:hi] = run(x[top:bottom])[lo - top : hi - top]

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(part, (0, half), (half, n)))
    return y
