"""Template matching scores: OpenCV's six ``matchTemplate`` methods, by FFT and running sums.

Symbols: input ``x`` of shape ``(n_0, ..., n_{nd-1}, C)``, template ``t`` of shape
``(k_0, ..., k_{nd-1}, C)``, optional mask ``m`` of shape ``(k_0, ..., k_{nd-1})``
(shared by the channels, as a PNG's alpha is). A window is ``x[i:i+k]``; the map has one
score per window, shape ``(n_a - k_a + 1, ...)``. Sums run over the window and the channels::

    ccorr          sum(t*x)                        (with a mask: sum(m*t * m*x))
    sqdiff         sum((t - x)**2)                 (sum((m*(t - x))**2))
    ccoeff         sum(t'*x'), t' = t - mean(t), x' = x - mean(x), per channel
                   (with a mask: t' = m*(t - mean_m(t)), mean_m weighted by m; x' alike)
    *-normed       the above over sqrt(sum(t**2) * sum(x**2)) (t', x' for ccoeff)

``ccoeff-normed`` is Pearson's r of template and window (OpenCV's TM_CCOEFF_NORMED).
A window (or template) with no variance (no energy, for ccorr-normed and
sqdiff-normed) has no normalised score: it scores 0 (1 for sqdiff-normed, whose best
is 0), never NaN, as OpenCV's rule gives; normalised scores that rounding carries past
1 are clipped to it. The fast route correlates strips of the input with the template
by FFT (overlap-save: each strip of ``B`` rows gives ``B - k_0 + 1`` windows; OpenCV's
``dft`` and ``mulSpectrums`` on its packed spectra, in float32 when both operands are)
and takes window sums in float64 (:mod:`convcli.engine.windows`), from which
:mod:`convcli.engine.matchscore` makes the score; :func:`score_map_naive` is its
loop-per-window twin.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import DataError, ShapeError
from . import windows
from .matchscore import ROUNDING, finish, normed, tolerance, tolerance_for

SCORES = ("ccoeff-normed", "ccoeff", "ccorr", "ccorr-normed", "sqdiff", "sqdiff-normed")
LOWER_IS_BETTER = ("sqdiff", "sqdiff-normed")
THREADS = 2  # strips computed at once (each FFT on one thread)
CHUNK_CELLS = 1 << 17  # scores of a strip finished at once: float64 arrays of 1 MB
STRIP_CELLS = 3 << 20  # samples of a streamed strip's transform (~24 MB in float64)
WHOLE_CELLS = 5 << 20  # of a strip in memory, where the input is held anyway
SMALL_CELLS = 1 << 18  # inputs matched in memory in one strip


def _check(x, t, ndim, mask):
    """Arrays as (n..., C) and (k..., C) float, the mask as (k...) or None, and nd."""
    x, t = np.asarray(x), np.asarray(t)
    for a, what in ((x, "input"), (t, "template")):
        if a.dtype.kind not in "biuf":
            raise DataError(f"the {what} must be real numbers, not {a.dtype}")
        if a.size == 0:
            raise ShapeError(f"the {what} is empty")
        if not np.isfinite(a).all():
            raise DataError(f"the {what} holds NaN or infinity")
    nd = x.ndim if ndim is None else ndim
    if nd not in (1, 2) or x.ndim not in (nd, nd + 1) or t.ndim not in (nd, nd + 1):
        raise ShapeError(
            f"cannot match a {t.ndim}-D template in a {x.ndim}-D input sliding over {nd} axes"
        )
    x = x if x.ndim > nd else x[..., None]  # (n..., C)
    t = t if t.ndim > nd else t[..., None]  # (k..., C)
    if t.shape[-1] != x.shape[-1]:
        if t.shape[-1] != 1:
            raise ShapeError(f"the template has {t.shape[-1]} channels, the input {x.shape[-1]}")
        t = np.repeat(t, x.shape[-1], axis=-1)  # one template for every channel
    if any(k > n for k, n in zip(t.shape[:nd], x.shape[:nd])):
        raise ShapeError(
            f"the template ({_size(t.shape[:nd])}) is larger than the input ({_size(x.shape[:nd])})"
        )
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != t.shape[:nd]:
            raise ShapeError(f"the mask is {_size(mask.shape)}, the template {_size(t.shape[:nd])}")
        if (mask < 0).any() or not mask.any():
            raise DataError("the mask must be at least 0 and not all 0")
    return x, t, mask, nd


def _size(shape) -> str:
    return "x".join(str(n) for n in shape)


def _dtype(x_dtype, t_dtype, score):
    """float32 transforms when both operands are float32 (as OpenCV's), else float64; and
    float64 for the sqdiff scores, whose best is a difference of near-equal sums."""
    single = x_dtype == np.float32 and t_dtype == np.float32
    return np.float32 if single and score not in LOWER_IS_BETTER else np.float64


def score_map(x, t, score: str = "ccoeff-normed", *, ndim: int | None = None, mask=None):
    """The score of template ``t`` at every position in ``x`` (OpenCV's ``matchTemplate``).

    Parameters
    ----------
    x : array_like of shape (n,), (n, C), (rows, cols) or (rows, cols, C)
        The input: a signal, (frames, channels) audio, a matrix or an image.
    t : array_like of shape (k,), (k, C), (kh, kw) or (kh, kw, C)
        The template; one channel is matched against every channel of ``x``.
    score : str
        One of :data:`SCORES` (see the module docstring for their definitions).
    ndim : int, optional
        Axes that slide, 1 or 2; default ``x.ndim`` (no channel axis).
    mask : array_like of shape (k,) or (kh, kw), optional
        Weights of the template's samples (0 ignores one), as OpenCV's ``mask``.

    Returns
    -------
    ndarray of shape (n - k + 1,) or (rows - kh + 1, cols - kw + 1)
        float32 when ``x`` and ``t`` are float32 (and the score is not a sqdiff), else
        float64.

    Examples
    --------
    >>> score_map([0, 1, 2, 3, 2, 1, 0], [1, 2, 3]).round(6).tolist()
    [1.0, 1.0, 0.0, -1.0, -1.0]
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    x, t, mask, nd = _check(x, t, ndim, mask)
    k, n = t.shape[:nd], x.shape[:nd]
    dtype = _dtype(x.dtype, t.dtype, score)
    out = np.empty(tuple(a - b + 1 for a, b in zip(n, k)), dtype=dtype)
    plan = _Plan(x, t, mask, score, nd, dtype)
    starts = range(0, out.shape[0], plan.step)
    run = lambda r0: _strip_into(plan, x, out, r0)  # noqa: E731
    if len(starts) == 1:
        run(0)
    else:
        with ThreadPoolExecutor(THREADS) as pool:
            for done in [pool.submit(run, r0) for r0 in starts]:
                done.result()
    return out


def _variance_of(deviations, squares) -> float:
    """A template's energy about its mean, or 0 where it is within rounding of it (a
    template with no variance but for its last digits has none)."""
    energy = float(deviations.sum())
    return energy if energy > ROUNDING * float(squares.sum()) else 0.0


def _strip_rows(k: int, n: int, across: int, nd: int, whole: bool) -> int:
    """Rows (samples, for a signal) of a strip's transform. Streamed: about 4 templates
    tall and at most :data:`STRIP_CELLS`, recycled by malloc rather than mapped afresh.
    In memory: the input in :data:`THREADS` strips (fewer windows lost to overlap), each
    at most :data:`WHOLE_CELLS`. A signal's are twice the template (powers of 2 would
    be faster, but the longer blocks hold more candidates for ``--top``: 30 MB more)."""
    import cv2

    if nd == 1:
        rows = cv2.getOptimalDFTSize(max(2 * k, 1 << 16))
        return min(rows, cv2.getOptimalDFTSize(n))
    cap = max(2 * k, (WHOLE_CELLS if whole else STRIP_CELLS) // across)
    if not whole:
        want = max(4 * k, 256)
    elif n * across <= SMALL_CELLS:
        want = n  # one strip: threads cost more than they give
    else:  # strips of equal rows, as many as a multiple of the threads
        per_round = THREADS * (cap - k + 1)
        strips = THREADS * -(-(n - k + 1) // per_round)
        want = -(-(n - k + 1) // strips) + k - 1
    rows = cv2.getOptimalDFTSize(min(want, cap))
    while rows > max(2 * k, cap):
        smaller = cv2.getOptimalDFTSize(rows * 7 // 8)
        if smaller >= rows:
            break
        rows = smaller
    return min(rows, cv2.getOptimalDFTSize(n))


def _strip_into(plan, x, out, r0) -> None:
    stop = min(r0 + plan.step, out.shape[0])
    plan.strip(x[r0 : stop + plan.k[0] - 1], out=out[r0:stop])


class _Plan:
    """What every strip shares: the template's spectra at the strip size, its constants."""

    def __init__(self, x, t, mask, score, nd, dtype, stream=None):
        import cv2

        self.score, self.nd, self.dtype, self.k = score, nd, dtype, t.shape[:nd]
        self.count = math.prod(self.k)
        shape = x.shape if stream is None else stream[0]
        across = tuple(cv2.getOptimalDFTSize(n) for n in shape[1:nd])
        rows = _strip_rows(self.k[0], shape[0], math.prod(across), nd, stream is None)
        self.size = (rows,) + across
        self.grid = self.size if nd == 2 else (1, rows)  # the 2-D array OpenCV transforms
        self.step = self.size[0] - self.k[0] + 1
        t = t.astype(np.float64)
        self.mask = mask
        self._mine = threading.local()  # each thread's buffers, reused strip after strip
        m = np.ones(self.k) if mask is None else mask
        m2 = (m * m)[..., None]  # (k..., 1)
        if score.startswith("ccoeff"):
            if stream is None:
                self.centre = x.mean(axis=tuple(range(nd)), dtype=np.float64)  # (C,)
            else:
                self.centre = np.zeros(t.shape[-1]) if stream[2] is None else stream[2]
            wsum = m.sum()
            mean_t = (m[..., None] * t).sum(axis=tuple(range(nd))) / wsum  # (C,)
            a = m2 * (t - mean_t)  # (k..., C)
            self.a0 = a.sum(axis=tuple(range(nd)))  # (C,): 0 without a mask
            self.t_energy = _variance_of(m2 * (t - mean_t) ** 2, m2 * t * t)
            self.wsum, self.m2sum = wsum, float(m2.sum())
        else:
            self.centre = None
            a = m2 * t
            self.t_energy = float((m2 * t * t).sum())
        if stream is None:
            self.tolerance = tolerance(x, self.centre, self.k, nd)
        else:
            self.tolerance = tolerance_for(shape, self.k, nd, stream[1])
        self.spectrum = self._spectra(a)  # one packed spectrum of the kernel per channel
        if mask is not None:
            self.m_spec, self.m2_spec = self._spectra(m[..., None]), self._spectra(m2)

    def _scratch(self, name: str, shape) -> np.ndarray:
        """This thread's buffer ``name`` of ``shape`` in the transforms' dtype, made once."""
        a = getattr(self._mine, name, None)
        if a is None or a.shape != shape:
            a = np.empty(shape, self.dtype)
            setattr(self._mine, name, a)
        return a

    def _padded(self, a, minus=None, reuse=False):
        """``a`` (n..., C) less ``minus`` (C,), channels first and zero-padded to :attr:`grid`,
        in the transforms' dtype: the buffer (C, *grid) and a's part of it (C, n...);
        ``reuse``: the thread's own buffer (overwritten by its next strip)."""
        c = a.shape[-1]
        shape = (c,) + self.grid
        buf = self._scratch("padded", shape) if reuse else np.empty(shape, self.dtype)
        planes = buf[:, 0] if self.nd == 1 else buf  # (C, size) or (C, rows, cols)
        part = planes[(slice(None),) + tuple(slice(0, n) for n in a.shape[:-1])]
        less = np.zeros(c) if minus is None else minus
        np.subtract(
            np.moveaxis(a, -1, 0), less.reshape((c,) + (1,) * self.nd), out=part, casting="unsafe"
        )
        planes[:, a.shape[0] :] = 0
        if self.nd == 2:
            planes[:, : a.shape[0], a.shape[1] :] = 0
        return buf, part

    def _spectra(self, a):
        """OpenCV's packed (CCS) spectrum of each channel of ``a`` (n..., C) at the strip size."""
        import cv2

        return [cv2.dft(plane) for plane in self._padded(a)[0]]

    def _corr(self, spec_x, spec_k, valid, per_channel=False, spent=False):
        """Valid correlation from spectra: summed over channels, or a list of one per channel.
        ``spent``: ``spec_x`` is not needed after, so the products are made in it."""
        import cv2

        inverse = cv2.DFT_INVERSE | cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE
        crop = (0, slice(0, valid[0])) if self.nd == 1 else tuple(slice(0, v) for v in valid)
        last = len(spec_k) - 1
        products = [
            cv2.mulSpectrums(s, spec_k[min(c, last)], 0, s if spent else None, conjB=True)
            for c, s in enumerate(spec_x)
        ]
        if per_channel:
            return [cv2.dft(p, flags=inverse)[crop] for p in products]
        total = products[0]
        for p in products[1:]:
            total += p
        return cv2.dft(total, flags=inverse)[crop]

    def strip(self, xs, out=None):
        """Scores of the windows that lie wholly in ``xs`` (rows r0 .. r0 + len - 1), in
        ``out`` if given."""
        import cv2

        valid = tuple(n - k + 1 for n, k in zip(xs.shape[: self.nd], self.k))
        buf, part = self._padded(xs, self.centre, True)  # centred: (C, *grid), (C, rows[, cols])
        spectra = self._scratch("spectra", buf.shape)  # (C, *grid), packed
        spec = [cv2.dft(p, dst=d) for p, d in zip(buf, spectra)]  # (nonzeroRows: slower)
        channels = list(part)
        cross = self._corr(spec, self.spectrum, valid, spent=self.mask is None)
        if self.mask is not None:
            squares = self._spectra(np.square(np.moveaxis(part, 0, -1), dtype=np.float64))
            s2 = self._corr(squares, self.m2_spec, valid, per_channel=True)
            s1 = q1 = None
            if self.centre is not None:
                s1 = self._corr(spec, self.m_spec, valid, per_channel=True)
                q1 = self._corr(spec, self.m2_spec, valid, per_channel=True)
            return finish(self, cross, s1, s2, q1, out)
        if self.nd == 1:
            s1 = [windows.along_signal(a, self.k[0]) for a in channels]
            s2 = [windows.along_signal(np.square(a, dtype=np.float64), self.k[0]) for a in channels]
            out = np.empty(cross.shape, self.dtype) if out is None else out
            return finish(self, cross, s1, s2, s1, out)
        return self._by_rows(part, cross, out)

    def _by_rows(self, part, cross, out=None):
        """A 2-D strip's scores a few rows at a time, so that every array stays in cache;
        ``part`` (C, rows, cols), the channels' sums made together."""
        out = np.empty(cross.shape, dtype=self.dtype) if out is None else out
        run = windows.DownRows(part, self.k[0])
        chunk = max(1, CHUNK_CELLS // (cross.shape[1] * len(part)))
        for r0 in range(0, cross.shape[0], chunk):
            count = min(chunk, cross.shape[0] - r0)
            sums, squares = run.take(count)  # (C, count, cols)
            s1 = windows.along_rows(sums, self.k[1])  # (C, count, cols - kw + 1)
            s2 = windows.along_rows(squares, self.k[1])
            finish(self, cross[r0 : r0 + count], s1, s2, s1, out[r0 : r0 + count])
        return out


def signal_plan(t, frames: int, score: str = "ccoeff-normed", peak: float = 1.0):
    """The plan of a signal read block by block: ``plan.strip(x[r0:r0 + plan.step + k - 1])``
    scores windows ``r0 .. r0 + plan.step - 1`` as :func:`score_map` would (``peak`` bounds
    the samples; uncentred, so the scores agree to rounding, not bit for bit).

    Parameters
    ----------
    t : ndarray of shape (k, C), float32 or float64
    frames : int
        The signal's length.
    """
    return piece_plan(t, (frames, t.shape[1]), score, peak)


def piece_plan(t, shape, score="ccoeff-normed", peak=1.0, centre=None, mask=None):
    """The plan of an input read in pieces along axis 0 (blocks of a signal, strips of an
    image): ``plan.strip(x[r0:r0 + plan.step + k_0 - 1])`` scores windows ``r0 ..
    r0 + plan.step - 1`` as :func:`score_map` would, to rounding.

    Parameters
    ----------
    t : ndarray of shape (k, C) or (kh, kw, C), float32 or float64
        float32 makes float32 transforms (but for the sqdiff scores), as :func:`score_map`
        does for float32 operands.
    shape : tuple of int
        The whole input's, (n, C) or (rows, cols, C).
    peak : float
        A bound on ``|x - centre|`` (what rounding can leave of a constant window's variance).
    centre : ndarray of shape (C,), optional
        Subtracted from every sample for the ccoeff scores (a mean estimate keeps the
        sums small); default 0.
    mask : ndarray of shape (k,) or (kh, kw), optional
    """
    nd = len(shape) - 1
    dtype = _dtype(t.dtype, t.dtype, score)
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
    return _Plan(None, t, mask, score, nd, dtype, stream=(tuple(shape), peak, centre))


def score_map_naive(
    x, t, score: str = "ccoeff-normed", *, ndim: int | None = None, mask=None
) -> np.ndarray:
    """:func:`score_map` by the definitions, one window at a time, in float64 (for tests)."""
    x, t, mask, nd = _check(x, t, ndim, mask)
    x, t = x.astype(np.float64), t.astype(np.float64)
    k = t.shape[:nd]
    m = (np.ones(k) if mask is None else mask)[..., None]  # (k..., 1)
    out = np.empty(tuple(a - b + 1 for a, b in zip(x.shape, k)))
    centre = x.mean(axis=tuple(range(nd))) if score.startswith("ccoeff") else None
    limit = tolerance(x, centre, k, nd)
    x = x if centre is None else x - centre  # r is the same; the sums are smaller
    for index in np.ndindex(out.shape):
        w = x[tuple(slice(i, i + ka) for i, ka in zip(index, k))]  # (k..., C)
        out[index] = _naive_one(w, t, m, score, limit)
    return out


def _naive_one(w, t, m, score, tolerance) -> float:
    axes = tuple(range(w.ndim - 1))
    if score.startswith("ccoeff"):
        tp = m * (t - (m * t).sum(axes) / m.sum())
        wp = m * (w - (m * w).sum(axes) / m.sum())
        num, wvar = (tp * wp).sum(), (wp * wp).sum()
        tvar = _variance_of(tp * tp, (m * t) ** 2)
        tol = 1e-9 * ((m * w) ** 2).sum() + tolerance
    else:
        d = m * (t - w) if score.startswith("sqdiff") else None
        num = (d * d).sum() if d is not None else (m * t * m * w).sum()
        wvar, tvar, tol = ((m * w) ** 2).sum(), ((m * t) ** 2).sum(), tolerance
    if not score.endswith("normed"):
        return float(num)
    worst = 1.0 if score == "sqdiff-normed" else 0.0
    return float(normed(np.array([num]), np.array([wvar]), tvar, np.array([tol]), worst)[0])
