"""Sums over sliding windows (box sums) in float64: the local sums template matching needs.

Three ways, each where it is cheapest: a running sum along the rows (OpenCV's box filter;
else pairwise doubling, ``log2 k`` additions of shifted slices), a running sum down the
rows of an image (one addition per row, a strip at a time), and cumulative sums along a
long signal.
:func:`box_sums_naive` is the twin that sums each window.
"""

from __future__ import annotations

import numpy as np


def along_rows(a: np.ndarray, k: int) -> np.ndarray:
    """Sums of ``k`` consecutive entries along the last axis: OpenCV's running box sums
    for a matrix, else by doubling.

    Parameters
    ----------
    a : ndarray of shape (..., n), float64
    k : int, 1 <= k <= n

    Returns
    -------
    ndarray of shape (..., n - k + 1), float64
    """
    n = a.shape[-1]
    if a.ndim >= 2 and a.dtype == np.float64 and a.flags.c_contiguous:
        import cv2

        rows = a.reshape(-1, n)  # (all rows, n)
        sums = cv2.boxFilter(
            rows, -1, (k, 1), anchor=(0, 0), normalize=False, borderType=cv2.BORDER_CONSTANT
        )
        return sums[:, : n - k + 1].reshape(a.shape[:-1] + (n - k + 1,))
    out_n = n - k + 1
    result, offset, width, p = None, 0, 1, a
    while True:
        if k & 1:  # a window of ``width`` entries, placed after the ones already summed
            piece = p[..., offset : offset + out_n]
            result = piece.copy() if result is None else np.add(result, piece, out=result)
            offset += width
        k >>= 1
        if not k:
            return result
        p = p[..., :-width] + p[..., width:]  # windows of 2*width entries
        width *= 2


def along_signal(a: np.ndarray, k: int) -> np.ndarray:
    """Sums of ``k`` consecutive entries along axis 0 of ``a`` (n,) or (n, C), by cumsum."""
    c = np.cumsum(a, axis=0, dtype=np.float64)
    s = np.empty((len(c) - k + 1,) + c.shape[1:])
    s[0] = c[k - 1]
    np.subtract(c[k:], c[: len(c) - k], out=s[1:])
    return s


class DownRows:
    """Sums of ``k`` consecutive rows of ``a`` and of ``a**2``, handed out a few rows at a
    time (each call continues where the last one ended), in float64.

    Parameters
    ----------
    a : ndarray of shape (rows, cols) or (C, rows, cols)
        Channels (leading axes) are summed apart, one NumPy call a row for all of them.
    k : int
        Rows per window; window ``i`` is ``a[..., i:i+k, :]``.
    """

    def __init__(self, a: np.ndarray, k: int):
        self.a, self.k, self.next_row = a, k, 0
        head = a[..., :k, :].astype(np.float64)
        self.run = head.sum(axis=-2)  # (..., cols)
        self.run2 = np.square(head).sum(axis=-2)

    def take(self, count: int):
        """The next ``count`` windows: two arrays of shape (..., count, cols)."""
        a, k, i0 = self.a, self.k, self.next_row
        sums = np.empty(a.shape[:-2] + (count, a.shape[-1]))
        squares = np.empty_like(sums)
        first = 0
        if i0 == 0:
            sums[..., 0, :], squares[..., 0, :] = self.run, self.run2
            first = 1
        enter = a[..., i0 + first + k - 1 : i0 + count + k - 1, :].astype(np.float64)
        leave = a[..., i0 + first - 1 : i0 + count - 1, :]
        d1 = enter - leave  # (..., count - first, cols)
        d2 = np.add(enter, leave, out=enter)
        d2 *= d1  # enter**2 - leave**2
        run, run2 = self.run, self.run2
        for j in range(count - first):
            run = np.add(run, d1[..., j, :], out=sums[..., first + j, :])
            run2 = np.add(run2, d2[..., j, :], out=squares[..., first + j, :])
        self.run, self.run2 = run.copy(), run2.copy()
        self.next_row = i0 + count
        return sums, squares


def box_sums(a: np.ndarray, k) -> np.ndarray:
    """Sums over every window of shape ``k`` of ``a`` (n,) or (rows, cols), in float64."""
    if a.ndim == 1:
        return along_signal(a, k[0])
    rows = DownRows(a, k[0])
    sums, _ = rows.take(a.shape[0] - k[0] + 1)
    return along_rows(sums, k[1])


def box_sums_naive(a: np.ndarray, k) -> np.ndarray:
    """:func:`box_sums` one window at a time (for tests)."""
    shape = tuple(n - ka + 1 for n, ka in zip(a.shape, k))
    out = np.empty(shape)
    for index in np.ndindex(shape):
        out[index] = a[tuple(slice(i, i + ka) for i, ka in zip(index, k))].sum(dtype=np.float64)
    return out
