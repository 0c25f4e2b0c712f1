"""Where a template occurs: the best positions of a score map, apart from each other.

:func:`match` is the library's ``convcli match``: the score map of
:mod:`convcli.engine.match`, then :func:`peaks`, a greedy non-maximum suppression (the
best score is taken, everything closer to it than the minimum distance is dropped,
and so on), with parabolic sub-sample peaks on request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine.match import LOWER_IS_BETTER, score_map


@dataclass(frozen=True)
class Match:
    """One match: where the window starts and how well it scores.

    ``position`` is ``(sample,)`` for a signal and ``(row, col)`` (the top-left corner)
    for an image or matrix; floats with ``subsample``, else ints.
    """

    position: tuple
    score: float


def default_distance(template_shape) -> tuple[int, ...]:
    """Half the template along each axis (at least 1): the default minimum distance."""
    return tuple(max(1, k // 2) for k in template_shape)


def peaks(
    scores: np.ndarray,
    top: int | None = 1,
    min_distance=None,
    threshold=None,
    lower_is_better: bool = False,
    subsample: bool = False,
) -> list[Match]:
    """The best positions of a score map, at least ``min_distance`` apart, best first.

    Parameters
    ----------
    scores : ndarray of shape (m,) or (rows, cols)
    top : int or None
        At most this many matches; None for every one past ``threshold``.
    min_distance : int or tuple of int, optional
        Matches closer than this along every axis are one match (default 1: all peaks).
    threshold : float, optional
        Only scores at least this (at most, when ``lower_is_better``).
    lower_is_better : bool
        Minima are matches (sqdiff scores).
    subsample : bool
        Refine each position by a parabola through the peak and its neighbours, per axis.

    Examples
    --------
    >>> [m.position for m in peaks(np.array([0, 3, 1, 0, 2, 0]), top=2)]
    [(1,), (4,)]
    """
    if top is None and threshold is None:
        raise ValueError("give top, threshold or both")
    nd = scores.ndim
    d = (1,) * nd if min_distance is None else tuple(np.broadcast_to(min_distance, (nd,)))
    s = -scores.astype(np.float64) if lower_is_better else scores.astype(np.float64)
    if threshold is None:
        found = _greedy_argmax(s, top, d)
    else:
        found = _greedy_above(s, -threshold if lower_is_better else threshold, top, d)
    return [
        Match(_refine(scores, p) if subsample else tuple(int(i) for i in p), float(scores[p]))
        for p in found
    ]


def _box(p, d, shape):
    return tuple(slice(max(0, i - (di - 1)), min(n, i + di)) for i, di, n in zip(p, d, shape))


def _greedy_argmax(s, top, d):
    """Repeatedly the best position left, its neighbourhood then ruled out."""
    found = []
    for _ in range(top):
        p = np.unravel_index(int(np.argmax(s)), s.shape)
        if s[p] == -np.inf:
            break
        found.append(p)
        s[_box(p, d, s.shape)] = -np.inf
    return found


def _greedy_above(s, threshold, top, d):
    """The same choice among the positions at or past ``threshold``, best first."""
    candidates = np.flatnonzero(s >= threshold)
    order = candidates[np.argsort(-s.ravel()[candidates], kind="stable")]
    ruled_out = np.zeros(s.shape, dtype=bool)
    found = []
    for flat in order:
        p = np.unravel_index(int(flat), s.shape)
        if ruled_out[p]:
            continue
        found.append(p)
        if top is not None and len(found) == top:
            break
        ruled_out[_box(p, d, s.shape)] = True
    return found


def _refine(scores, p) -> tuple[float, ...]:
    """Parabolic interpolation of the peak along each axis (within half a sample)."""
    refined = []
    for axis, i in enumerate(p):
        if 0 < i < scores.shape[axis] - 1:
            a, b, c = (float(scores[p[:axis] + (j,) + p[axis + 1 :]]) for j in (i - 1, i, i + 1))
            bend = a - 2 * b + c
            offset = 0.5 * (a - c) / bend if bend else 0.0
            refined.append(i + float(np.clip(offset, -0.5, 0.5)))
        else:
            refined.append(float(i))
    return tuple(refined)


def match(
    template,
    x,
    score: str = "ccoeff-normed",
    *,
    ndim: int | None = None,
    mask=None,
    top: int | None = 1,
    min_distance=None,
    threshold=None,
    subsample: bool = False,
) -> list[Match]:
    """Where ``template`` occurs in ``x``, best first (the library's ``convcli match``).

    Parameters
    ----------
    template : array_like of shape (k,), (k, C), (kh, kw) or (kh, kw, C)
    x : array_like of shape (n,), (n, C), (rows, cols) or (rows, cols, C)
    score : str
        ``'ccoeff-normed'`` (Pearson's r per window, OpenCV's TM_CCOEFF_NORMED), or
        ``'ccoeff'``, ``'ccorr'``, ``'ccorr-normed'``, ``'sqdiff'``, ``'sqdiff-normed'``
        (lower is better for the last two).
    ndim : int, optional
        Axes that slide (1 or 2); default ``x.ndim``, so pass it for channels.
    mask : array_like of shape (k,) or (kh, kw), optional
        Weights of the template's samples, as OpenCV's ``mask`` (a PNG's alpha).
    top, min_distance, threshold, subsample
        As for :func:`peaks`; ``min_distance`` defaults to half the template.

    Returns
    -------
    list of Match

    Examples
    --------
    >>> match([1, 2, 3], [0, 5, 1, 2, 3, 9, 2, 4, 6, 0], top=2)
    [Match(position=(2,), score=1.0), Match(position=(6,), score=1.0)]
    """
    scores = score_map(x, template, score, ndim=ndim, mask=mask)
    nd = scores.ndim
    if min_distance is None:
        min_distance = default_distance(np.shape(template)[:nd])
    return peaks(scores, top, min_distance, threshold, score in LOWER_IS_BETTER, subsample)
