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
by FFT (overlap-save: each strip of ``B`` rows gives ``B - k_0 + 1`` windows) and takes
window sums from cumulative sums of the strip in float64; :func:`score_map_naive` is its
loop-per-window twin.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import DataError, ShapeError
from . import windows

SCORES = ("ccoeff-normed", "ccoeff", "ccorr", "ccorr-normed", "sqdiff", "sqdiff-normed")
LOWER_IS_BETTER = ("sqdiff", "sqdiff-normed")
THREADS = 2  # strips computed at once (each FFT on one thread)
CHUNK_ROWS = 16  # rows of a strip finished at once: arrays of ~0.5 MB for 4000 columns


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


def _dtype(x, t):
    """float32 transforms when both operands are float32 (as OpenCV's), else float64."""
    return np.float32 if x.dtype == np.float32 and t.dtype == np.float32 else np.float64


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
        float32 when ``x`` and ``t`` are float32, else float64.

    Examples
    --------
    >>> score_map([0, 1, 2, 3, 2, 1, 0], [1, 2, 3]).round(6).tolist()
    [1.0, 1.0, 0.0, -1.0, -1.0]
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")
    x, t, mask, nd = _check(x, t, ndim, mask)
    k, n = t.shape[:nd], x.shape[:nd]
    dtype = _dtype(x, t)
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


def _strip_rows(k: int, n: int, across: int, nd: int) -> int:
    """Rows of a strip's transform: about 4 templates tall, and small enough that each of its
    float64 arrays (at most ~24 MB) is recycled by malloc rather than mapped afresh."""
    import scipy.fft as sfft

    want = max(4 * k, 256) if nd == 2 else max(2 * k, 1 << 16)
    cap = max(2 * k, (3 << 20) // across)
    rows = sfft.next_fast_len(min(want, cap), real=True)
    while rows > 2 * k and rows * across > 3 << 20:
        rows = sfft.next_fast_len(rows * 7 // 8, real=True)
    return min(rows, sfft.next_fast_len(n, real=True))


def _strip_into(plan, x, out, r0) -> None:
    stop = min(r0 + plan.step, out.shape[0])
    out[r0:stop] = plan.strip(x[r0 : stop + plan.k[0] - 1])


class _Plan:
    """What every strip shares: the template's spectra at the strip size, its constants."""

    def __init__(self, x, t, mask, score, nd, dtype, stream=None):
        import scipy.fft as sfft

        self.score, self.nd, self.dtype, self.k = score, nd, dtype, t.shape[:nd]
        self.count = math.prod(self.k)
        shape = x.shape if stream is None else stream[0]
        across = tuple(sfft.next_fast_len(n, real=True) for n in shape[1:nd])
        self.size = (_strip_rows(self.k[0], shape[0], math.prod(across), nd),) + across
        self.step = self.size[0] - self.k[0] + 1
        t = t.astype(np.float64)
        self.mask = mask
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
            self.t_energy = float((m2 * (t - mean_t) ** 2).sum())
            self.wsum, self.m2sum = wsum, float(m2.sum())
        else:
            self.centre = None
            a = m2 * t
            self.t_energy = float((m2 * t * t).sum())
        if stream is None:
            self.tolerance = _tolerance(x, self.centre, self.k, nd)
        else:
            self.tolerance = _tolerance_for(shape, self.k, nd, stream[1])
        self.spectrum = np.conj(self._rfft(a))  # (size..., C) spectrum of the kernel
        if mask is not None:
            self.m_spec = np.conj(self._rfft(m[..., None]))
            self.m2_spec = np.conj(self._rfft(m2))

    def _rfft(self, a, workers=1):
        import scipy.fft as sfft

        axes = tuple(range(self.nd))
        return sfft.rfftn(a.astype(self.dtype, copy=False), self.size, axes=axes, workers=workers)

    def _corr(self, spec_x, spec_k, valid, per_channel=False, spent=False):
        """Valid correlation from spectra: summed over channels, or a list of one per channel.
        ``spent``: ``spec_x`` is not needed after, so the sum is made in its first channel."""
        import scipy.fft as sfft

        axes = tuple(range(self.nd))
        crop = tuple(slice(0, v) for v in valid)
        last = spec_k.shape[-1] - 1
        if per_channel:
            products = [spec_x[..., c] * spec_k[..., min(c, last)] for c in range(spec_x.shape[-1])]
            return [sfft.irfftn(p, self.size, axes=axes)[crop] for p in products]
        total = np.multiply(spec_x[..., 0], spec_k[..., 0], out=spec_x[..., 0] if spent else None)
        for c in range(1, spec_x.shape[-1]):
            total += spec_x[..., c] * spec_k[..., min(c, last)]
        return sfft.irfftn(total, self.size, axes=axes, overwrite_x=True)[crop]

    def strip(self, xs):
        """Scores of the windows that lie wholly in ``xs`` (rows r0 .. r0 + len - 1)."""
        valid = tuple(n - k + 1 for n, k in zip(xs.shape[: self.nd], self.k))
        if self.centre is not None:
            xs = xs - self.centre.astype(xs.dtype if xs.dtype.kind == "f" else np.float64)
        spec = self._rfft(xs)  # (size..., C)
        cross = self._corr(spec, self.spectrum, valid, spent=self.mask is None)
        channels = [xs[..., c] for c in range(xs.shape[-1])]
        if self.mask is not None:
            squares = np.square(xs, dtype=np.float64)
            s2 = self._corr(self._rfft(squares), self.m2_spec, valid, per_channel=True)
            s1 = q1 = None
            if self.centre is not None:
                s1 = self._corr(spec, self.m_spec, valid, per_channel=True)
                q1 = self._corr(spec, self.m2_spec, valid, per_channel=True)
            return finish(self, cross, s1, s2, q1)
        if self.nd == 1:
            s1 = [windows.along_signal(a, self.k[0]) for a in channels]
            s2 = [windows.along_signal(np.square(a, dtype=np.float64), self.k[0]) for a in channels]
            return finish(self, cross, s1, s2, s1)
        return self._by_rows(channels, cross)

    def _by_rows(self, channels, cross):
        """A 2-D strip's scores a few rows at a time, so that every array stays in cache."""
        out = np.empty(cross.shape, dtype=self.dtype)
        runs = [windows.DownRows(a, self.k[0]) for a in channels]
        for r0 in range(0, cross.shape[0], CHUNK_ROWS):
            count = min(CHUNK_ROWS, cross.shape[0] - r0)
            s1, s2 = [], []
            for run in runs:
                sums, squares = run.take(count)  # (count, cols)
                s1.append(windows.along_rows(sums, self.k[1]))
                s2.append(windows.along_rows(squares, self.k[1]))
            out[r0 : r0 + count] = finish(self, cross[r0 : r0 + count], s1, s2, s1)
        return out


def _total(arrays):
    """The sum of a list of arrays (faster than a reduction over a short trailing axis)."""
    total = arrays[0]
    for a in arrays[1:]:
        total = total + a
    return total


def _tolerance(x, centre, k, nd) -> float:
    """What rounding can leave of a window's sums of squares that are truly 0: the error
    of running sums over the input's axes (``x`` centred by ``centre`` for ccoeff)."""
    top, bottom = x.max(axis=tuple(range(nd))), x.min(axis=tuple(range(nd)))
    if centre is not None:
        top, bottom = top - centre, bottom - centre
    return _tolerance_for(x.shape, k, nd, float(np.maximum(np.abs(top), np.abs(bottom)).max()))


def _tolerance_for(shape, k, nd, peak: float) -> float:
    spans = sum(n / ka for n, ka in zip(shape[:nd], k))
    return 16 * np.finfo(np.float64).eps * peak * peak * math.prod(k) * spans


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
        float32 makes float32 transforms, as :func:`score_map` does for float32 operands.
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
    dtype = np.float32 if t.dtype == np.float32 else np.float64
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
    return _Plan(None, t, mask, score, nd, dtype, stream=(tuple(shape), peak, centre))


def finish(plan, cross, s1, s2, q1):
    """The score from the window's sums (the sums may be overwritten).

    ``cross``: sum of kernel*x over the channels; lists with one array per channel:
    ``s2`` sums of m^2 x^2, ``s1`` and ``q1`` sums of m x and m^2 x (ccoeff only; the same
    list without a mask).
    """
    score = plan.score
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
            return num
        limit = np.multiply(energy, 1e-9)
        limit += plan.tolerance
        return _normed(num, var, plan.t_energy, limit)
    if score == "ccorr":
        return cross
    if score == "ccorr-normed":
        return _normed(cross, energy, plan.t_energy, plan.tolerance)
    num = np.maximum(energy - 2 * cross + plan.t_energy, 0)
    if score == "sqdiff":
        return num
    return _normed(num, energy, plan.t_energy, plan.tolerance, worst=1.0)


def _variance(s1, s2, count):
    """s2 - s1**2/count, in a new array."""
    v = np.multiply(s1, s1)
    v *= -1.0 / count
    v += s2
    return v


def _normed(num, var, t_energy, limit, worst=0.0):
    """num / sqrt(var * t_energy) by OpenCV's rule (``var`` is overwritten): a variance
    at most ``limit`` (none but rounding) gives ``worst``, values that rounding carried
    just past 1 are 1 and those far past it (noise) ``worst``."""
    ok = var > limit
    with np.errstate(divide="ignore", invalid="ignore"):
        np.multiply(var, t_energy, out=var)
        np.sqrt(var, out=var)
        r = np.divide(num, var, out=var)  # in var's float64 buffer: one array fewer
        ok &= np.abs(r) < 1.125
    np.minimum(r, 1.0, out=r)  # minimum and maximum: much faster than np.clip
    if not worst:
        np.maximum(r, -1.0, out=r)
    np.copyto(r, worst, where=np.logical_not(ok, out=ok))
    return r


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
    tolerance = _tolerance(x, centre, k, nd)
    x = x if centre is None else x - centre  # r is the same; the sums are smaller
    for index in np.ndindex(out.shape):
        w = x[tuple(slice(i, i + ka) for i, ka in zip(index, k))]  # (k..., C)
        out[index] = _naive_one(w, t, m, score, tolerance)
    return out


def _naive_one(w, t, m, score, tolerance) -> float:
    axes = tuple(range(w.ndim - 1))
    if score.startswith("ccoeff"):
        tp = m * (t - (m * t).sum(axes) / m.sum())
        wp = m * (w - (m * w).sum(axes) / m.sum())
        num, wvar, tvar = (tp * wp).sum(), (wp * wp).sum(), (tp * tp).sum()
        tol = 1e-9 * ((m * w) ** 2).sum() + tolerance
    else:
        d = m * (t - w) if score.startswith("sqdiff") else None
        num = (d * d).sum() if d is not None else (m * t * m * w).sum()
        wvar, tvar, tol = ((m * w) ** 2).sum(), ((m * t) ** 2).sum(), tolerance
    if not score.endswith("normed"):
        return float(num)
    worst = 1.0 if score == "sqdiff-normed" else 0.0
    return float(_normed(np.array([num]), np.array([wvar]), tvar, np.array([tol]), worst)[0])
