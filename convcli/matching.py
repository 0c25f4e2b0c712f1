"""Where a template occurs: the best positions of a score map, apart from each other.

:func:`match` is the library's ``convcli match``: the score map of
:mod:`convcli.engine.match`, then :func:`peaks`, a greedy non-maximum suppression (the
best score is taken, everything closer to it than the minimum distance is dropped,
and so on), with parabolic sub-sample peaks on request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine.match import LOWER_IS_BETTER, score_map
from .errors import ResourceError


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


MAX_KEPT = 1 << 22  # windows past a threshold that Candidates holds (40 bytes each)


class Candidates:
    """:func:`peaks` of a score map that arrives in pieces (blocks of a long signal, strips
    of an image), holding only the positions that can still be a match.

    Every position that scores past the floor is kept with its value and its neighbours'
    (for ``subsample``); the floor is ``threshold``, raised with ``top`` to the N-th best
    match so far, and after each piece the same greedy choice as :func:`peaks` is made
    among what is kept. The kept positions are few once the floor is high; with
    ``threshold`` alone they are every window past it, at most :data:`MAX_KEPT`.

    Parameters
    ----------
    nd : int
        Axes of the map, 1 or 2.
    shape : tuple of int
        The whole map's shape (for the neighbours at its edges).
    top, min_distance, threshold, lower_is_better, subsample
        As for :func:`peaks`.
    """

    def __init__(
        self,
        shape,
        top=1,
        min_distance=None,
        threshold=None,
        lower_is_better=False,
        subsample=False,
    ):
        nd = len(shape)
        self.shape, self.top, self.lower, self.subsample = (
            tuple(shape),
            top,
            lower_is_better,
            subsample,
        )
        self.d = (1,) * nd if min_distance is None else tuple(np.broadcast_to(min_distance, (nd,)))
        self.floor = (
            -np.inf if threshold is None else (-threshold if lower_is_better else threshold)
        )
        self.pos = np.empty((0, nd), dtype=np.int64)  # (m, nd)
        self.val = np.empty(0)  # (m,), larger is better
        self.side = np.empty((0, nd if subsample else 0, 2))  # (m, nd, 2): raw scores either side
        # N picks drop at most N-1 boxes of positions: all N are among the first ``reach``
        self.reach = None if top is None else top * math.prod(2 * k - 1 for k in self.d)
        self.top_value = -np.inf  # the best score of every window seen

    def add(self, piece: np.ndarray, start: int, first: int, count: int) -> None:
        """Windows ``start + first .. start + first + count - 1`` (along axis 0) of the map.

        ``piece`` of shape (m,) or (m, cols) holds windows ``start ..`` and, where the map
        has them, the one before ``first`` and the one after the last (for their scores).
        """
        s = np.negative(piece, dtype=np.float64) if self.lower else np.asarray(piece, np.float64)
        inner = s[first : first + count]
        best = float(inner.max())
        self.top_value = max(self.top_value, best)
        floor = self.floor
        if self.top == 1:
            floor = max(floor, best)
        elif self.top is not None and np.isfinite(inner).all():
            found = _greedy_argmax(inner.copy(), self.top, self.d)  # a floor that culls most
            if len(found) == self.top:
                floor = max(floor, float(inner[found[-1]]))
        flat = np.flatnonzero(inner >= floor)
        flat = flat[_best_first(inner.ravel()[flat], self.reach)]
        rel = np.stack(np.unravel_index(flat, inner.shape), axis=1)  # (m, nd) in ``inner``
        rel[:, 0] += first  # (m, nd) in ``piece``
        sides = np.empty((len(rel), 0, 2))
        if self.subsample:
            sides = np.stack([self._sides(piece, rel, a) for a in range(s.ndim)], axis=1)
        values = s[tuple(rel.T)]
        rel[:, 0] += start  # (m, nd) in the map
        if self.top is None and len(self.val) + len(values) > MAX_KEPT:
            raise ResourceError(
                f"more than {MAX_KEPT:,} windows score past the threshold: give a "
                "stricter --threshold, or --top N"
            )
        self.pos = np.concatenate([self.pos, rel])
        self.val = np.concatenate([self.val, values])
        self.side = np.concatenate([self.side, sides])
        self._prune()

    def _sides(self, piece, rel, axis):
        """(m, 2) raw scores of each position's neighbours along ``axis`` (NaN past an edge)."""
        out = np.full((len(rel), 2), np.nan)
        for j, step in enumerate((-1, 1)):
            q = rel.copy()
            q[:, axis] += step
            ok = (q[:, axis] >= 0) & (q[:, axis] < piece.shape[axis])
            out[ok, j] = piece[tuple(q[ok].T)]
        return out

    def _prune(self) -> None:
        picks = self._choose()
        if self.top is not None and len(picks) == self.top:
            self.floor = max(self.floor, float(self.val[picks[-1]]))
        keep = np.flatnonzero(self.val >= self.floor)
        keep = keep[_best_first(self.val[keep], self.reach)]
        self.pos, self.val, self.side = self.pos[keep], self.val[keep], self.side[keep]

    def _choose(self) -> list[int]:
        """Indices of the greedy choice among the kept positions, best first: the best
        left is taken and every position in its box dropped, as :func:`peaks` does (the
        kept positions are in map order, so ``argmax`` breaks ties as it does)."""
        left = np.ones(len(self.val), dtype=bool)
        values = np.where(left, self.val, -np.inf)
        d = np.asarray(self.d)
        picks: list[int] = []
        while self.top is None or len(picks) < self.top:
            i = int(np.argmax(values)) if len(values) else 0
            if not len(values) or values[i] == -np.inf:
                break
            picks.append(i)
            values[(np.abs(self.pos - self.pos[i]) < d).all(axis=1)] = -np.inf
        return picks

    @property
    def best(self) -> float:
        """The best score of every window seen (the lowest for sqdiff scores)."""
        return -self.top_value if self.lower else self.top_value

    def matches(self) -> list[Match]:
        """The matches, best first, as :func:`peaks` gives them for the whole map."""
        out = []
        for i in self._choose():
            p = tuple(int(v) for v in self.pos[i])
            value = -self.val[i] if self.lower else self.val[i]
            where = self._refined(p, value, self.side[i]) if self.subsample else p
            out.append(Match(where, float(value)))
        return out

    def _refined(self, p, b, sides) -> tuple[float, ...]:
        refined = []
        for i, (a, c) in zip(p, sides):
            if np.isnan(a) or np.isnan(c):
                refined.append(float(i))
                continue
            bend = a - 2 * b + c
            offset = 0.5 * (a - c) / bend if bend else 0.0
            refined.append(i + float(np.clip(offset, -0.5, 0.5)))
        return tuple(refined)


def _best_first(values: np.ndarray, count: int | None):
    """Which of ``values`` (in map order) are the first ``count`` by value, ties by
    position, as the greedy choice meets them; kept in map order."""
    if count is None or len(values) <= count:
        return slice(None)
    return np.sort(np.argsort(-values, kind="stable")[:count])
