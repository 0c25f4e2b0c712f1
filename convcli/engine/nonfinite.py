"""NaN and infinity: one result on every method.

The rule: output ``i`` is ``sum_j xp[i*s + j*d] * w[j]`` over the kernel's *nonzero*
taps ``j``, in IEEE arithmetic, where ``xp`` is the padded input (zero padding
included). A zero tap (dilation's gaps among them) adds nothing, not even ``0 * inf``.
That is what :func:`direct.shift_add` computes. Every method therefore runs on the
input with its non-finite values set to 0 (an FFT would spread one NaN over the whole
result), and then the blocks of output rows whose windows hold a non-finite value are
recomputed by :func:`direct.shift_add`. A non-finite kernel tap reaches every output:
then the whole result is computed that way.
"""

from __future__ import annotations

import numpy as np

from .direct import shift_add
from .padding import pad_pairs


def cleaned(x: np.ndarray) -> np.ndarray:
    """``x`` with NaN and infinities set to 0."""
    return np.where(np.isfinite(x), x, 0).astype(x.dtype, copy=False)


def by_rule(x, wf, geometry, pad_mode, pad_value) -> np.ndarray:
    """The whole result by the rule (``wf`` in correlation orientation)."""
    xp = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
    return shift_add(
        xp,
        wf,
        len(geometry),
        tuple(ax.stride for ax in geometry),
        tuple(ax.dilation for ax in geometry),
    )


def affected_rows(xp: np.ndarray, ax) -> np.ndarray:
    """Boolean mask of the output rows (axis 0) whose windows reach a non-finite row of ``xp``.

    Output ``i`` reads rows ``i*s .. i*s + ke - 1``; a bad row ``r`` reaches outputs
    ``ceil((r - ke + 1) / s) .. floor(r / s)``.
    """
    bad = np.flatnonzero(~np.isfinite(xp.reshape(len(xp), -1)).all(axis=1))
    lo = np.maximum(0, -(-(bad - ax.ke + 1) // ax.stride))
    hi = np.minimum(ax.length - 1, bad // ax.stride)
    keep = lo <= hi
    marks = np.zeros(ax.length + 1, np.int64)
    np.add.at(marks, lo[keep], 1)
    np.add.at(marks, hi[keep] + 1, -1)
    return np.cumsum(marks[:-1]) > 0


def patch(y: np.ndarray, x, wf, geometry, pad_mode, pad_value) -> np.ndarray:
    """Recompute by the rule the rows of ``y`` whose windows hold a non-finite sample of ``x``.

    Parameters
    ----------
    y : ndarray of shape (out_0, ..., *channels)
        The result of any method on ``cleaned(x)``.
    x : ndarray of shape (n_0, ..., *channels)
        The original input, non-finite values and all.
    wf : ndarray, the (finite) kernel in correlation orientation
    geometry : tuple of convcli.geometry.Axis

    Returns
    -------
    ndarray, ``y`` itself, patched in place (as a writable, promoted copy if need be)
    """
    xp = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
    ax = geometry[0]
    rows = affected_rows(xp, ax)
    if not rows.any():
        return y
    y = y.astype(np.result_type(y, xp, wf), copy=True)
    nd = len(geometry)
    strides = tuple(a.stride for a in geometry)
    dilations = tuple(a.dilation for a in geometry)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):  # runs [a, b) of affected rows
        block = xp[a * ax.stride : (b - 1) * ax.stride + ax.ke]
        y[a:b] = shift_add(block, wf, nd, strides, dilations)
    return y
