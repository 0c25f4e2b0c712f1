"""2-D correlation in compiled, vectorised passes (OpenCV), strip by strip.

OpenCV's ``sepFilter2D`` (a row pass and a column pass, SIMD across the row) and
``filter2D`` (direct for small kernels, tiled DFT for large ones) compute a valid
correlation when the anchor is the kernel's first tap and the border rows and
columns are cropped away. Every output sample depends only on its own window, so a
strip of rows computes exactly what the whole image computes: the image routes run
the same strips over a decoded file and over an array in memory, and give the same
bits. Samples are float32 (8/16-bit pixels hold at most 16 bits, float32 has 24);
kernels whose work is a large transform accumulate in float64 instead, so a rounded
result is the float64 one's but for a few pixels in 100,000 (``tests/test_compiled``).

Padding is by index: each padded row and column names the source row or column that
``np.pad`` would put there (or -1 for a constant), so every mode is ``pad_pairs``'s.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .direct import separable
from .padding import canonical_mode, pad_pairs
from .spectral import dilate

STRIP_BYTES = 4 << 20  # about this much float data per strip: flat memory at any width
DFT_TAPS = 50  # filter2D transforms kernels this big (in float32 from 8-bit): widen first
OWN_FFT_TAPS = 48 * 48  # beyond, filter2D's spectra of every channel outgrow flat memory
THREADS = 2


def available() -> bool:
    """Whether OpenCV is importable (it is a dependency; a broken install falls back)."""
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


def work_dtype(wf: np.ndarray, source=None):
    """float32 for direct passes; float64 where filter2D would transform, and for
    kernels of whole numbers over a small denominator, whose sums are then exact
    (in float32 where :func:`exact_in_float32` says so)."""
    exact = rational(wf)
    if exact is not None:
        return np.float32 if exact_in_float32(*exact, source) else np.float64
    if separable(wf) is not None or wf.size < DFT_TAPS:
        return np.float32
    return np.float64


def exact_in_float32(k: np.ndarray, q: int, source) -> bool:
    """Whether 8-bit sums with the whole numbers ``k`` are exact in float32 (below 2**24,
    direct passes) and their quotient by ``q`` rounds in float32 as the exact one does:
    a quotient that is not a tie lies at least ``1/(2q)`` from one, more than half of
    float32's spacing at 255 when ``q < 2**15``."""
    return (
        source is not None
        and np.dtype(source) == np.uint8
        and q < 1 << 15
        and np.abs(k).sum() * 255 < 1 << 24
        and (k.size < DFT_TAPS or _whole_factors(k) is not None)
    )


def rational(wf: np.ndarray, largest: int = 1 << 16):
    """``(k, q)``: whole numbers ``k`` with ``wf == k / q`` to float64's rounding, ``q`` a
    whole number, and sums of 16-bit samples exact in float64; else None.

    Box kernels, binomial blurs, ``[1 2 1; 0 0 0; -1 -2 -1]`` and their like are such.
    Computed exactly and divided once, their ties (``12.5``) round to even as the exact
    result does, where sums in any order of ``1/3``-like taps would break them either way.
    """
    from fractions import Fraction

    q = 1
    for tap in np.unique(np.abs(wf)):
        q = math.lcm(q, Fraction(float(tap)).limit_denominator(largest).denominator)
        if q > largest:
            return None
    k = np.rint(wf * q)
    if not np.allclose(k / q, wf, rtol=4e-16, atol=0) or np.abs(k).sum() * 65535 >= 2**40:
        return None  # (a transform's error on sums below 2**40 is far below 1/2)
    return k, q


def _whole_factors(k: np.ndarray):
    """Whole-number ``(a, b)`` with ``outer(a, b) == k`` exactly, or None."""
    if k.ndim != 2 or min(k.shape) < 2 or k.size < 9 or not k.any():
        return None
    b = k[np.flatnonzero(k.any(axis=1))[0]]
    b = b / np.gcd.reduce(np.abs(b).astype(np.int64))
    j = np.flatnonzero(b)[0]
    a = k[:, j] / b[j]
    if np.array_equal(a, np.rint(a)) and np.array_equal(np.outer(a, b), k):
        return a, b
    return None


def correlate_valid(xp: np.ndarray, wf: np.ndarray, dtype=None, rounded=None, reuse=False):
    """Valid correlation of a padded block with a 2-D kernel.

    Parameters
    ----------
    xp : ndarray of shape (h, w) or (h, w, C)
        uint8, uint16, float32 or float64.
    wf : ndarray of shape (kh, kw)
        Correlation orientation (not flipped).
    dtype : float32 or float64 (the arithmetic's), default ``xp``'s float dtype
    rounded : uint8 or uint16, or None
        Sums in float32 rounded (ties to even) and clipped to this dtype as they are
        stored, as NumPy's ``rint`` and ``clip`` would: no float result is kept.
    reuse : bool
        Write into this thread's scratch buffer (overwritten by its next call): for
        callers that copy the result out at once.

    Returns
    -------
    ndarray of shape (h - kh + 1, w - kw + 1[, C]), ``dtype`` (or ``rounded``)

    >>> correlate_valid(np.arange(12.0).reshape(3, 4), np.ones((2, 2))).tolist()
    [[10.0, 14.0, 18.0], [26.0, 30.0, 34.0]]
    """
    import cv2

    kh, kw = wf.shape
    h, w = xp.shape[0] - kh + 1, xp.shape[1] - kw + 1
    if xp.ndim == 3 and xp.shape[2] > 4:  # OpenCV holds up to 4 channels in a sample
        planes = [correlate_valid(xp[..., c], wf, dtype, rounded) for c in range(xp.shape[2])]
        return np.stack(planes, -1)
    dtype = np.dtype(dtype or (xp.dtype if xp.dtype.kind == "f" else np.float32))
    depth = cv2.CV_32F if dtype == np.float32 else cv2.CV_64F
    exact = rational(wf) if xp.dtype.kind in "ui" else None
    if exact is not None and dtype == np.float32 and not exact_in_float32(*exact, xp.dtype):
        exact = None  # float32 asked for where it would not be exact: the plain sums
    if xp.dtype.kind == "f" and xp.dtype != dtype or dtype == np.float64 and wf.size >= DFT_TAPS:
        xp = xp.astype(dtype)  # OpenCV widens integers as it reads, but transforms them in float32
    if rounded is not None and dtype == np.float32 and exact is None:  # rounded as stored
        depth = cv2.CV_8U if np.dtype(rounded) == np.uint8 else cv2.CV_16U
    options = {"anchor": (0, 0), "borderType": cv2.BORDER_CONSTANT}
    if reuse:  # OpenCV writes into a buffer of the shape and type it would make
        shape = xp.shape[:2] + (xp.shape[2:] if xp.ndim == 3 and xp.shape[2] > 1 else ())
        options["dst"] = scratch("out", shape, _DEPTHS[depth])
    if exact is not None:  # whole numbers throughout, one correctly rounded division
        k, q = exact
        factors = _whole_factors(k)
        if factors is not None:
            y = cv2.sepFilter2D(xp, depth, factors[1], factors[0], **options)
        elif k.size > OWN_FFT_TAPS:  # a transform's sums, made whole
            return np.rint(fft_valid(xp, k)) / q
        else:  # direct, or OpenCV's transform made whole
            y = cv2.filter2D(xp, depth, k, **options)
            y = np.rint(y, out=y) if k.size >= DFT_TAPS else y
        y = np.divide(y, q, out=options.get("dst")) if q > 1 else y
    elif (factors := separable(wf)) is not None:
        u, v = (np.asarray(f, np.float64) for f in factors)
        y = cv2.sepFilter2D(xp, depth, v, u, **options)
    elif wf.size > OWN_FFT_TAPS and dtype == np.float64:
        return fft_valid(xp, wf)
    else:
        y = cv2.filter2D(xp, depth, np.asarray(wf, np.float64), **options)
    if y.ndim < xp.ndim:  # OpenCV drops a channel axis of 1
        y = y[..., None]
    return y[:h, :w]


def fft_valid(xp: np.ndarray, wf: np.ndarray) -> np.ndarray:
    """Valid correlation by one float64 transform of the window's own size (overlap-save
    in 2-D: the circular wrap falls only on the rows and columns that are cut away).

    OpenCV's filter2D transforms big kernels too, but holds spectra of a padded size for
    every channel at once (300 MB for a 255x255 kernel on two threads); here a tile's
    spectra are its own size, a channel at a time, and the kernel's is kept per shape.

    ``xp`` : (h, w) or (h, w, C); returns (h - kh + 1, w - kw + 1[, C]) float64.
    """
    h, w = xp.shape[:2]
    kh, kw = wf.shape
    spectrum = _kernel_spectrum(wf, h, w)
    planes = xp.reshape(h, w, -1)
    y = np.empty((h - kh + 1, w - kw + 1, planes.shape[2]))
    for c in range(planes.shape[2]):
        full = np.fft.irfft2(np.fft.rfft2(planes[..., c].astype(np.float64)) * spectrum, (h, w))
        y[..., c] = full[kh - 1 :, kw - 1 :]
    return y.reshape(y.shape[:2] + xp.shape[2:])


def _kernel_spectrum(wf, h: int, w: int) -> np.ndarray:
    """The flipped kernel's spectrum at a window's size, kept per thread and shape."""
    key = ("spectrum", id(wf), h, w)
    cache = _LOCAL.__dict__.setdefault("spectra", {})
    if key not in cache:
        if len(cache) > 4:
            cache.clear()
        cache[key] = (wf, np.fft.rfft2(np.flip(np.asarray(wf, np.float64)), (h, w)))
    return cache[key][1]


_DEPTHS = {0: np.uint8, 2: np.uint16, 5: np.float32, 6: np.float64}  # cv2.CV_8U, ...
_LOCAL = threading.local()


def scratch(tag: str, shape, dtype) -> np.ndarray:
    """This thread's buffer for ``tag`` of that shape and dtype, kept between calls: tiles
    of one job have a few shapes, and fresh buffers of megabytes cost page faults."""
    buffers = _LOCAL.__dict__.setdefault("buffers", {})
    key = (tag, tuple(shape), np.dtype(dtype).str)
    if key not in buffers:
        if len(buffers) > 8:
            buffers.clear()
        buffers[key] = np.empty(shape, dtype)
    return buffers[key]


def correlate_valid_naive(xp: np.ndarray, wf: np.ndarray) -> np.ndarray:
    """Reference: one float64 window at a time. For tests only."""
    kh, kw = wf.shape
    y = np.zeros((xp.shape[0] - kh + 1, xp.shape[1] - kw + 1) + xp.shape[2:])
    for i, j in np.ndindex(*y.shape[:2]):
        window = xp[i : i + kh, j : j + kw].astype(np.float64)
        y[i, j] = np.tensordot(wf, window, axes=([0, 1], [0, 1]))
    return y


def index_map(ax, pad_mode: str) -> np.ndarray:
    """For each padded sample of an axis, the source index ``np.pad`` would copy (-1: constant)."""
    mode = canonical_mode(pad_mode)
    source = np.arange(ax.n, dtype=np.int64)
    if mode in ("zeros", "constant"):
        return pad_pairs(source, [(ax.before, ax.after)], "constant", -1)
    return pad_pairs(source, [(ax.before, ax.after)], mode)


class Strips:
    """A 2-D correlation cut into tiles: strips of output rows, each in column tiles.

    Each tile is computed from its own padded window of the input, so memory holds a
    few tiles whatever the image's size, and the same tiles give the same bits
    whether the input is a file read in strips or an array.

    Parameters
    ----------
    shape : (rows, cols, channels) of the input
    wf : ndarray of shape (kh, kw)
        Correlation orientation.
    geometry : tuple of two convcli.geometry.Axis
    pad_mode, pad_value : the padding, as the engine names it
    filtered : int
        How many leading channels are filtered; the rest (alpha) are resampled.
    dtype : float32 or float64, or None for :func:`work_dtype`'s choice
    source : the input's dtype; windows stay in it (OpenCV widens as it reads) where
        it holds the padding value, else they are ``dtype``
    """

    def __init__(
        self, shape, wf, geometry, pad_mode, pad_value, filtered, dtype=None, source=None, out=8
    ):
        self.rounded = None  # or uint8: sums rounded as they are stored (see correlate_valid)
        self.finish = None  # or what each tile's sums become (pixels, say) as they are stored
        self.out_dtype = None  # the dtype of what finish makes
        self.out_itemsize = out  # bytes a result sample takes where the strip is kept
        self.rows, self.cols = geometry
        self.channels, self.filtered = shape[2], filtered
        self.wd = dilate(np.asarray(wf, np.float64), 2, (self.rows.dilation, self.cols.dilation))
        self.dtype = dtype or work_dtype(self.wd, source)
        self.value = pad_value if canonical_mode(pad_mode) == "constant" else 0.0
        self.window_dtype = _window_dtype(source, self.value, self.dtype)
        self.row_map = index_map(self.rows, pad_mode)
        self.col_map = index_map(self.cols, pad_mode)
        self.height, self.width = self._tile()

    def _tile(self):
        """(output rows, output columns) of a tile: about STRIP_BYTES of window, and at
        least as tall and wide as the kernel, so that the halo costs at most half."""
        r, c = self.rows, self.cols
        area = STRIP_BYTES // (self.channels * np.dtype(self.dtype).itemsize)
        tall, wide = 2 * r.ke + 16, 2 * c.ke + 16
        window = c.span if c.span * tall <= area else max(wide, area // tall)
        width = c.length if window >= c.span else max(1, (window - c.ke) // c.stride + 1)
        height = max(math.ceil(r.ke / r.stride), (area // window - r.ke) // r.stride + 1)
        row = c.length * self.filtered * self.out_itemsize  # a strip's results: bounded too
        height = min(height, max(16, STRIP_BYTES * 2 // row))
        return min(height, r.length), min(width, c.length)

    def __iter__(self):
        """(first output row, stop, the source rows it reads, sorted) of each strip."""
        ax = self.rows
        for o0 in range(0, ax.length, self.height):
            o1 = min(ax.length, o0 + self.height)
            needed = self.row_map[o0 * ax.stride : (o1 - 1) * ax.stride + ax.ke]
            yield o0, o1, np.unique(needed[needed >= 0])

    def compute(self, block: np.ndarray, o0: int, o1: int, index: np.ndarray):
        """The strip's filtered channels and resampled others, from ``block``, the source
        rows ``index`` (sorted).

        Returns
        -------
        y : ndarray of shape (o1 - o0, out_cols, filtered), ``self.dtype``
        rest : ndarray of shape (o1 - o0, out_cols, channels - filtered), window's values
        """
        r, c, f = self.rows, self.cols, self.filtered
        src = self._rows(block, o0, o1, index)  # (window rows, source cols, C)
        exact = self.window_dtype.kind in "ui" and rational(self.wd) is not None
        rounded = self.rounded if self.dtype == np.float32 and not exact else None
        y = np.empty((o1 - o0, c.length, f), self.out_dtype or rounded or self.dtype)
        rest = np.empty((o1 - o0, c.length, self.channels - f), self.window_dtype)
        at = (r.ke - 1 - (r.ke - 1) // 2, c.ke - 1 - (c.ke - 1) // 2)  # the delta's tap
        for t0 in range(0, c.length, self.width):
            t1 = min(c.length, t0 + self.width)
            xp = self._columns(src, t0, t1)  # (window rows, window cols, C)
            part = correlate_valid(xp[..., :f], self.wd, self.dtype, rounded, reuse=True)
            part = part[:: r.stride, :: c.stride][: o1 - o0, : t1 - t0]
            y[:, t0:t1] = self.finish(part) if self.finish else part
            rest[:, t0:t1] = xp[at[0] :: r.stride, at[1] :: c.stride, f:][: o1 - o0, : t1 - t0]
        return y, rest

    def _rows(self, block, o0, o1, index):
        """The window's rows (a view where they are the block's own, in order)."""
        r = self.rows
        rows = self.row_map[o0 * r.stride : (o1 - 1) * r.stride + r.ke]
        keep = rows >= 0
        if keep.all() and np.array_equal(rows, index):
            return block
        out = scratch("rows", (len(rows),) + block.shape[1:], self.window_dtype)
        out[keep] = block[np.searchsorted(index, rows[keep])]
        out[~keep] = self.value
        return out

    def _columns(self, src, t0, t1):
        """The window of output columns ``t0..t1``, padded (a view where it can be)."""
        c = self.cols
        cols = self.col_map[t0 * c.stride : (t1 - 1) * c.stride + c.ke]
        keep = cols >= 0
        if keep.all() and cols[-1] - cols[0] == len(cols) - 1 and src.dtype == self.window_dtype:
            return src[:, cols[0] : cols[-1] + 1]
        xp = scratch("window", (len(src), len(cols), self.channels), self.window_dtype)
        g0 = t0 * c.stride  # the window's first padded column; the source sits at before..
        a, b = max(0, c.before - g0), max(0, min(len(cols), c.before + c.n - g0))
        if a < b:  # the source's own columns: one plain copy
            xp[:, a:b] = src[:, g0 + a - c.before : g0 + b - c.before]
        for edge in (slice(0, a), slice(b, None)):  # the padding, by index
            xp[:, edge] = src[:, np.maximum(cols[edge], 0)]
            xp[:, edge][:, ~keep[edge]] = self.value
        return xp


def _window_dtype(source, value: float, work):
    """The source's integer dtype where it holds ``value`` exactly, else ``work``."""
    if source is None or np.dtype(source).kind not in "ui":
        return np.dtype(work) if source is None else np.result_type(source, work)
    info = np.iinfo(source)
    return np.dtype(source) if float(value).is_integer() and info.min <= value <= info.max else work


def run_strips(strips: Strips, read, finish=None, threads: int = THREADS):
    """Each strip's result in order, computed on ``threads`` threads as ``read`` reads ahead.

    ``read(index)`` returns the source rows ``index`` (sorted, unique) as (rows, cols,
    channels); strips come top to bottom, and but for wrapped edges each reads from
    where the last began or later. ``finish(y, rest)``, run on the same threads, makes
    what is yielded (pixels, say) of each strip's result.
    """

    from concurrent.futures import ThreadPoolExecutor

    def task(block, o0, o1, index):
        y, rest = strips.compute(block, o0, o1, index)
        return finish(y, rest) if finish else (y, rest)

    with ThreadPoolExecutor(threads) as pool:
        pending = []
        for o0, o1, index in strips:
            pending.append(pool.submit(task, read(index), o0, o1, index))
            if len(pending) > threads:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
