"""Cross-correlation against lag, and the delay between two recordings of one scene.

``xcorr(x, y)[lag] = sum_n x[n + lag] * conj(y[n])``, summed over channels: SciPy's
``correlate(x, y)`` with ``correlation_lags(len(x), len(y), mode)``, and MATLAB's
``xcorr(x, y)`` (for inputs of one length), ``'normalized'`` dividing by
``sqrt(sum|x|**2 * sum|y|**2)`` so that a signal against itself gives 1 at lag 0.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

MODES = ("full", "same", "valid")


def _signal(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim not in (1, 2) or a.size == 0:
        raise ShapeError(
            f"the {what} must be a non-empty signal (n,) or (n, channels), not of shape {a.shape}"
        )
    return a if a.ndim == 2 else a[:, None]  # (n, C)


def xcorr(x, y=None, mode: str = "full", normalized: bool = True):
    """The cross-correlation of ``x`` and ``y`` at every lag (MATLAB ``xcorr``).

    Parameters
    ----------
    x : array_like of shape (n,) or (n, C)
    y : array_like of shape (m,) or (m, C), optional
        Default ``x`` (the autocorrelation). One channel pairs with every channel of ``x``.
    mode : {'full', 'same', 'valid'}
        Which lags, as ``scipy.signal.correlate`` and ``correlation_lags`` choose them.
    normalized : bool
        Divide by ``sqrt(sum|x|**2 * sum|y|**2)`` (all 0 if either is silent, never NaN).

    Returns
    -------
    lags : ndarray of shape (L,), int
    c : ndarray of shape (L,), float64 (complex128 for complex inputs)

    Examples
    --------
    >>> lags, c = xcorr([1, 2, 3], [1, 2, 3])
    >>> lags.tolist(), c.round(3).tolist()
    ([-2, -1, 0, 1, 2], [0.214, 0.571, 1.0, 0.571, 0.214])
    """
    from scipy.signal import correlate, correlation_lags

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    x = _signal(x, "input")
    y = x if y is None else _signal(y, "template")
    if y.shape[1] not in (1, x.shape[1]):
        raise ShapeError(f"the template has {y.shape[1]} channels, the input {x.shape[1]}")
    if mode == "valid" and len(y) > len(x):
        raise ShapeError(
            f"mode valid needs the second signal ({len(y)} samples) to be no "
            f"longer than the first ({len(x)})"
        )
    c = sum(correlate(x[:, i], y[:, min(i, y.shape[1] - 1)], mode=mode) for i in range(x.shape[1]))
    lags = correlation_lags(len(x), len(y), mode)
    if normalized:
        y_energy = np.sum(np.abs(y) ** 2) * (x.shape[1] if y.shape[1] == 1 else 1)
        scale = np.sqrt(np.sum(np.abs(x) ** 2) * y_energy)
        c = c / scale if scale > 0 else np.zeros_like(c, dtype=np.result_type(c, float))
    return lags, c


def finddelay(x, y) -> int:
    """How many samples ``y`` lags ``x`` (MATLAB ``finddelay``): negative if it leads.

    The lag of the largest ``|xcorr(y, x)|`` (normalised), the smallest such lag in
    size when several tie; ``y[n + d]`` then lines up with ``x[n]``.

    Parameters
    ----------
    x, y : array_like of shape (n,) or (n, C), and (m,) or (m, C)

    Examples
    --------
    >>> finddelay([0, 1, 2, 0, 0], [0, 0, 0, 1, 2])
    2
    """
    lags, c = xcorr(y, x, "full")
    size = np.abs(c)
    best = np.flatnonzero(size >= size.max() - 1e-12 * max(size.max(), 1e-300))
    return int(lags[best[np.argmin(np.abs(lags[best]))]])


def align(y, delay: int) -> np.ndarray:
    """``y`` moved ``delay`` samples earlier (later for a negative delay), zero-filled, its
    length kept (MATLAB ``alignsignals`` on the lagging signal).

    Parameters
    ----------
    y : ndarray of shape (n,) or (n, C)

    Returns
    -------
    ndarray of the shape of ``y``

    Examples
    --------
    >>> align(np.array([0, 0, 1, 2, 3]), 2).tolist()
    [1, 2, 3, 0, 0]
    """
    out = np.zeros_like(y)
    n = len(y)
    if delay >= 0:
        out[: max(n - delay, 0)] = y[delay:]
    else:
        out[-delay:] = y[: max(n + delay, 0)]
    return out
