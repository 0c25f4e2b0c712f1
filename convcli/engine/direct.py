"""Direct (spatial-domain) valid correlation with stride and dilation.

Every direct path computes ``y[i] = sum_j xp[i*s + j*d] * wf[j]`` over the leading
``nd`` axes of an already padded ``xp``; trailing axes are channels, filtered by
the same kernel or, when ``wf`` has them too, each by its own. Only the kept
(strided) outputs are computed.
"""

from __future__ import annotations

import numpy as np

from ..geometry import effective_length, valid_length


def correlate_naive(xp: np.ndarray, wf: np.ndarray, nd: int, stride, dilation) -> np.ndarray:
    """Reference implementation: one window at a time. For tests only."""
    k = wf.shape[:nd]
    ke = [effective_length(k[a], dilation[a]) for a in range(nd)]
    out = [valid_length(xp.shape[a], k[a], stride[a], dilation[a]) for a in range(nd)]
    kernel = wf.reshape(k + (1,) * (xp.ndim - wf.ndim) + wf.shape[nd:])
    y = np.zeros(tuple(out) + xp.shape[nd:], dtype=np.result_type(xp, wf, np.float64))
    for i in np.ndindex(*out):
        window = tuple(
            slice(i[a] * stride[a], i[a] * stride[a] + ke[a], dilation[a]) for a in range(nd)
        )
        y[i] = (xp[window] * kernel).sum(axis=tuple(range(nd)))
    return y


def correlate_direct(xp: np.ndarray, wf: np.ndarray, nd: int, stride, dilation) -> np.ndarray:
    """Valid correlation of padded ``xp`` with ``wf``, computing only the kept outputs.

    Parameters
    ----------
    xp : ndarray of shape (n_0, ..., n_{nd-1}, *channels)
    wf : ndarray of shape (k_0, ..., k_{nd-1}) or (k_0, ..., k_{nd-1}, *channels)
    nd : int
        Number of leading (convolved) axes.
    stride, dilation : tuple of int, one per axis

    Returns
    -------
    ndarray of shape (out_0, ..., out_{nd-1}, *channels)
        int64 when both inputs are integers (exact), else floating.
    """
    if nd == 1 and (stride[0] == 1 or dilation[0] == 1):
        return _correlate_1d(xp, wf, stride[0], dilation[0])
    factors = separable(wf) if nd == 2 and xp.dtype.kind == "f" else None
    if factors is not None:  # rows then columns: kh + kw passes instead of kh * kw
        u, v = (f.astype(np.result_type(xp, wf)) for f in factors)
        rows = shift_add(xp, u[:, None], 2, (stride[0], 1), (dilation[0], 1))
        return shift_add(rows, v[None, :], 2, (1, stride[1]), (1, dilation[1]))
    return shift_add(xp, wf, nd, stride, dilation)


def separable(w: np.ndarray):
    """``(u, v)`` with ``w == outer(u, v)`` for a rank-one 2-D kernel worth splitting, else None.

    Box, Gaussian and Sobel kernels are rank one (to the rounding of their dtype);
    splitting pays from 3x3 up.
    """
    if w.ndim != 2 or min(w.shape) < 2 or w.size < 9 or w.dtype.kind == "c" or not np.any(w):
        return None
    if not np.isfinite(w).all():
        return None  # LAPACK's SVD of NaN or infinity never returns
    tolerance = 100 * np.finfo(w.dtype if w.dtype.kind == "f" else np.float64).eps
    u, s, vt = np.linalg.svd(w.astype(np.float64))
    if s[1:].sum() > tolerance * s[0]:
        return None
    return u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])


def shift_add(xp, wf, nd, stride, dilation):
    """Accumulate one shifted, strided view of ``xp`` per nonzero kernel tap.

    Zero taps are skipped (``0 * inf`` never enters): this is the engine's rule for
    non-finite values (see :mod:`convcli.engine.nonfinite`).
    """
    k = wf.shape[:nd]
    out = tuple(valid_length(xp.shape[a], k[a], stride[a], dilation[a]) for a in range(nd))
    y = np.zeros(out + xp.shape[nd:], dtype=np.result_type(xp, wf))
    tmp = np.empty_like(y)
    for j in np.ndindex(*k):
        tap = wf[j]
        if not np.any(tap):
            continue  # sparse kernels (echoes, dilated designs) cost only their taps
        view = tuple(
            slice(j[a] * dilation[a], j[a] * dilation[a] + stride[a] * (out[a] - 1) + 1, stride[a])
            for a in range(nd)
        )
        np.multiply(xp[view], tap, out=tmp)
        y += tmp
    return y


def _correlate_1d(xp, wf, s, d):
    """1-D by ``np.correlate`` (SIMD dot products), split into phases for stride or dilation."""
    channels = xp.shape[1:]
    x2 = xp.reshape(xp.shape[0], -1)  # (n, C)
    w2 = wf.reshape(wf.shape[0], -1)  # (k, C) or (k, 1)
    k = w2.shape[0]
    out = valid_length(x2.shape[0], k, s, d)
    y = np.zeros((out, x2.shape[1]), dtype=np.result_type(xp, wf))
    for c in range(x2.shape[1]):
        xc = x2[:, c]
        wc = np.ascontiguousarray(w2[:, c if w2.shape[1] > 1 else 0])  # see _correlate_short
        if s > 1:  # polyphase: y[i] = sum_r sum_q x[(i+q)s + r] w[qs + r]
            phases = split_phases(xc, s, out + -(-k // s) - 1)  # (s, out + m - 1)
            for r in range(min(s, k)):
                _correlate_short(phases[r], wc[r::s], y[:, c])
        elif d > 1:  # outputs i = m*d + r read only samples of phase r
            for r in range(min(d, out)):
                y[r::d, c] = np.correlate(xc[r::d], wc, "valid")[: len(y[r::d])]
        else:
            y[:, c] = np.correlate(xc, wc, "valid")
    return y.reshape((out,) + channels)


def split_phases(x: np.ndarray, s: int, length: int) -> np.ndarray:
    """``(s, length)`` contiguous rows ``x[r::s]``, zero past the end of ``x`` (1-D ``x``)."""
    need = s * length
    if len(x) < need:
        x = np.concatenate([x[:need], np.zeros(need - len(x), x.dtype)])
    return x[:need].reshape(length, s).T.copy()  # one pass, not s strided ones


# np.correlate runs kernels of up to 11 taps as vectorised shifted multiply-adds (0.13 ns
# a tap per output) and longer ones as one dot product per output (6-8 ns each plus 0.1 ns
# a tap), so the short phases of a strided kernel are summed in pieces of at most 11 taps.
SHORT_TAPS = 11


def _correlate_short(x, w, y):
    """Add the valid correlation of ``x`` and ``w``, ``len(y)`` outputs, into ``y``."""
    if not np.any(w):
        return
    w = np.ascontiguousarray(w)  # a strided kernel sends np.correlate down a 15x slower path
    pieces = -(-len(w) // SHORT_TAPS)
    if w.dtype.kind != "f" or pieces == 1 or pieces > 6:
        y += np.correlate(x[: len(y) + len(w) - 1], w, "valid")
        return
    size = -(-len(w) // pieces)  # even pieces: 16 taps as 8 + 8, not 11 + 5
    for q in range(0, len(w), size):
        piece = w[q : q + size]
        y += np.correlate(x[q : q + len(y) + len(piece) - 1], piece, "valid")
