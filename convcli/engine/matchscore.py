"""Scores from a window's sums: the arithmetic every route of ``convcli match`` ends in.

:func:`finish` turns the correlation with the template and the window's sums (of x and
of x**2, per channel) into one of :data:`convcli.engine.match.SCORES`; :func:`normed`
is OpenCV's rule for windows with no variance; :func:`tolerance` bounds what rounding
leaves of a variance that is truly 0.
"""

from __future__ import annotations

import math

import numpy as np

ROUNDING = 64 * np.finfo(np.float64).eps  # what rounding leaves of a score of exactly 1
ROUNDING32 = 8 * np.finfo(np.float32).eps  # and float32 transforms, on all but flat windows


def _total(arrays):
    """The sum of a list of arrays (faster than a reduction over a short trailing axis)."""
    total = arrays[0]
    for a in arrays[1:]:
        total = total + a
    return total


def tolerance(x, centre, k, nd) -> float:
    """What rounding can leave of a window's sums of squares that are truly 0: the error
    of running sums over the input's axes (``x`` centred by ``centre`` for ccoeff)."""
    top, bottom = x.max(axis=tuple(range(nd))), x.min(axis=tuple(range(nd)))
    if centre is not None:
        top, bottom = top - centre, bottom - centre
    return tolerance_for(x.shape, k, nd, float(np.maximum(np.abs(top), np.abs(bottom)).max()))


def tolerance_for(shape, k, nd, peak: float) -> float:
    """:func:`tolerance` for an input of ``shape`` whose samples ``|x| <= peak``."""
    spans = sum(n / ka for n, ka in zip(shape[:nd], k))
    return 16 * np.finfo(np.float64).eps * peak * peak * math.prod(k) * spans


def finish(plan, cross, s1, s2, q1, out=None):
    """The score from the window's sums (the sums may be overwritten), in ``out`` if given.

    ``cross``: sum of kernel*x over the channels; lists with one array per channel:
    ``s2`` sums of m^2 x^2, ``s1`` and ``q1`` sums of m x and m^2 x (ccoeff only; the same
    list without a mask).
    """
    score = plan.score
    fused = out is not None and out.dtype == np.float32 and plan.t_energy > 0
    if fused and score == "ccoeff-normed" and plan.mask is None:
        return _pearson32(plan, cross, s1, s2, out)
    energy = _total(s2)
    if score.startswith("ccoeff"):
        if plan.mask is None:
            num = cross
            var = _total([_variance(a, b, plan.count) for a, b in zip(s1, s2)])
        else:
            means = [a / plan.wsum for a in s1]  # the window's weighted mean, per channel
            num = cross - _total([u * a0 for u, a0 in zip(means, plan.a0)])
            var = _total([b - 2 * u * q + u * u * plan.m2sum for u, q, b in zip(means, q1, s2)])
        if score == "ccoeff":
            return _into(out, num)
        limit = np.multiply(energy, 1e-9)
        limit += plan.tolerance
        return normed(num, var, plan.t_energy, limit, out=out)
    if score == "ccorr":
        return _into(out, cross)
    if score == "ccorr-normed":
        return normed(cross, energy, plan.t_energy, plan.tolerance, out=out)
    num = np.maximum(energy - 2 * cross + plan.t_energy, 0)
    if score == "sqdiff":
        return _into(out, num)
    return normed(num, energy, plan.t_energy, plan.tolerance, worst=1.0, out=out)


def _pearson32(plan, cross, s1, s2, out):
    """ccoeff-normed without a mask, into float32 ``out``: :func:`normed`'s rule in
    OpenCV's fused passes (a third of NumPy's time), with :data:`ROUNDING32` for the
    float32 transforms' rounding."""
    import cv2

    var, scratch = np.empty(cross.shape), np.empty(cross.shape)  # (rows, cols) float64
    for c, (a, b) in enumerate(zip(s1, s2)):  # var = sum over channels of s2 - s1**2 / n
        cv2.multiply(a, a, dst=scratch, scale=1.0 / plan.count)
        if c == 0:
            cv2.subtract(b, scratch, dst=var)
        else:
            var += b
            var -= scratch
    cv2.scaleAdd(_total(s2), -1e-9, var, dst=scratch)  # the variance past 1e-9 of the energy
    bad = scratch <= plan.tolerance
    cv2.sqrt(var, dst=var)  # (below the tolerance it may be NaN: those are bad already)
    norm = var.astype(np.float32)  # the quotient is float32: so may its divisor be
    cv2.divide(cross, norm, dst=out, scale=1 / math.sqrt(plan.t_energy))
    size = np.abs(out)
    bad |= size >= 1.125
    np.copysign(1.0, out, out=out, where=size > 1 - ROUNDING32)
    np.copyto(out, 0.0, where=bad)
    return out


def _into(out, a):
    if out is None:
        return a
    out[...] = a
    return out


def _variance(s1, s2, count):
    """s2 - s1**2/count, in a new array."""
    v = np.multiply(s1, s1)
    v *= -1.0 / count
    v += s2
    return v


def normed(num, var, t_energy, limit, worst=0.0, out=None):
    """num / sqrt(var * t_energy) by OpenCV's rule (``var`` is overwritten), in ``out`` if
    given: a variance at most ``limit`` (none but rounding) gives ``worst``; values within
    rounding of 1 or past it are +-1 (so that equal windows tie, and the first is the
    match), and those far past it (noise) ``worst``."""
    ok = var > limit
    with np.errstate(divide="ignore", invalid="ignore"):
        np.multiply(var, t_energy, out=var)
        np.sqrt(var, out=var)
        r = np.divide(num, var, out=var)  # in var's float64 buffer: one array fewer
        size = np.abs(r)
        ok &= size < 1.125
    np.copysign(1.0, r, out=r, where=size > 1 - ROUNDING)
    np.copyto(r, worst, where=np.logical_not(ok, out=ok))
    return _into(out, r)
