"""Max and average pooling with PyTorch's geometry, and a naive twin of plain loops.

Sizes come from :func:`convcli.geometry.pool_length` (the one home of pooling sizes,
shared with ``outsize`` and the CNN). Max pooling pads with ``-inf``; average pooling
counts the padding in its divisor (PyTorch's default ``count_include_pad=True``) but
not the overhang of ceil mode.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ArgumentError, DataError, ShapeError
from ..geometry import per_axis, pool_length

OPS = ("max", "avg")


def pool_geometry(shape, size, stride=None, pad=0, ceil=False):
    """Per-axis ``(k, s, p, out)`` of pooling the leading axes of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        The pooled axes' lengths ``(n_0, ..., n_{nd-1})``.
    size, stride, pad : int or sequence of int
        Window, step (default: the window) and padding on both sides, per axis.
    ceil : bool
        PyTorch's ``ceil_mode``.

    Returns
    -------
    list of (k, s, p, out) tuples, one per axis
    """
    nd = len(shape)
    k = per_axis(size, nd, "--size")
    s = per_axis(stride if stride is not None else k, nd, "--stride")
    p = per_axis(pad, nd, "--pad")
    return [(k[i], s[i], p[i], pool_length(shape[i], k[i], s[i], p[i], 1, ceil)) for i in range(nd)]


def _check(x, ndim, op):
    x = np.asarray(x)
    if op not in OPS:
        raise ArgumentError(f"unknown pooling {op!r}; expected max or avg")
    if x.ndim < ndim:
        raise ShapeError(f"{ndim}-D pooling needs at least {ndim} axes, the data has {x.ndim}")
    if x.size == 0:
        raise ShapeError("the input is empty")
    if op == "max" and x.dtype.kind == "c":
        raise DataError("max pooling needs real numbers, not complex: pool magnitudes or one part")
    return x


def _divisors(shape, geometry):
    """Window sizes clipped to the padded input, as PyTorch divides: (out_0, ..., out_{nd-1})."""
    per_axis_counts = []
    for n, (k, s, p, out) in zip(shape, geometry):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, n + p)
        per_axis_counts.append(end - start)
    return math.prod(np.ix_(*per_axis_counts))


def pool(
    x, size, *, stride=None, pad=0, ceil=False, op: str = "max", ndim: int | None = None
) -> np.ndarray:
    """Max or average pooling of the leading ``ndim`` axes of ``x``, each channel alone.

    Parameters
    ----------
    x : array_like of shape (n_0, ..., n_{ndim-1}, *channels)
        A signal (frames, channels) or an image (rows, cols[, channels]).
    size : int or sequence of int
        Window length per pooled axis.
    stride : int or sequence of int, optional
        Step between windows; default the window (non-overlapping).
    pad : int or sequence of int
        Padding on both sides of each pooled axis, at most half the window.
    ceil : bool
        Round the output length up, as PyTorch's ``ceil_mode``.
    op : {'max', 'avg'}
    ndim : int, optional
        Number of pooled axes; default ``x.ndim``.

    Returns
    -------
    ndarray of shape (out_0, ..., out_{ndim-1}, *channels)
        The input's dtype for ``max``, float64 (float32 for float32 input) for ``avg``.

    Examples
    --------
    >>> pool([1, 3, 2, 5, 4], 2).tolist()
    [3, 5]
    >>> pool([1, 3, 2, 5, 4], 2, pad=1, op='avg').tolist()
    [0.5, 2.5, 4.5]
    """
    x = _check(x, ndim or np.ndim(x), op)
    nd = ndim or x.ndim
    geometry = pool_geometry(x.shape[:nd], size, stride, pad, ceil)
    integer = x.dtype.kind in "iub"
    if op == "max":  # integers stay integers: 2**63 - 1 is no float64
        work = x.astype(np.int64) if integer else x
        fill = np.iinfo(np.int64).min if integer else -np.inf
    else:
        work, fill = (x.astype(np.float64) if integer else x), 0
    widths = []
    for n, (k, s, p, out) in zip(x.shape, geometry):
        need = (out - 1) * s + k  # the padded length the windows reach (ceil may overhang)
        widths.append((p, max(0, need - n - p)))
    xp = np.pad(work, widths + [(0, 0)] * (x.ndim - nd), constant_values=fill)
    axes = tuple(range(nd))
    win = sliding_window_view(xp, [g[0] for g in geometry], axis=axes)  # (*spans, *ch, *k)
    win = win[tuple(slice(None, None, g[1]) for g in geometry)]
    win = win[tuple(slice(0, g[3]) for g in geometry)]  # (*out, *ch, *k)
    window_axes = tuple(range(x.ndim, x.ndim + nd))
    if op == "max":
        y = win.max(axis=window_axes)
        return y.astype(x.dtype) if integer else y
    divisor = _divisors(x.shape[:nd], geometry).reshape(
        [g[3] for g in geometry] + [1] * (x.ndim - nd)
    )
    return (win.sum(axis=window_axes) / divisor).astype(work.dtype, copy=False)


def pool_naive(
    x, size, *, stride=None, pad=0, ceil=False, op: str = "max", ndim: int | None = None
) -> np.ndarray:
    """:func:`pool` by plain loops over outputs and window taps: the reference."""
    x = _check(x, ndim or np.ndim(x), op)
    nd = ndim or x.ndim
    geometry = pool_geometry(x.shape[:nd], size, stride, pad, ceil)
    out_shape = tuple(g[3] for g in geometry) + x.shape[nd:]
    y = np.zeros(out_shape, dtype=np.float64)
    for index in itertools.product(*(range(g[3]) for g in geometry)):
        best, total, count = None, 0.0, 1
        for tap in itertools.product(*(range(g[0]) for g in geometry)):
            pos = [index[a] * geometry[a][1] - geometry[a][2] + tap[a] for a in range(nd)]
            if all(0 <= pos[a] < x.shape[a] for a in range(nd)):
                value = x[tuple(pos)].astype(np.float64)
                best = value if best is None else np.maximum(best, value)
                total = total + value
        for a, (k, s, p, _) in enumerate(geometry):
            start = index[a] * s - p
            count *= min(start + k, x.shape[a] + p) - start
        y[index] = best if op == "max" else total / count
    return y.astype(x.dtype) if op == "max" and x.dtype.kind in "iub" else y
