"""Complex convolution as real ones: every real path (direct, FFT, overlap-add, banks) serves.

``(xr + i xi) * (wr + i wi) = (xr*wr - xi*wi) + i (xr*wi + xi*wr)``: two real
convolutions when one operand is real, four when both are complex. Padding is linear
in the data, so the real part pads with ``pad_value`` and the imaginary part with 0.
Gaussian integers (complex values with integer parts) convolve as int64 parts, so they
are exact as integers are; the result is complex128 (exact below 2**53 per part).
"""

from __future__ import annotations

import numpy as np

from .. import messages
from .numbers import FLOAT_EXACT, is_gaussian


def _parts(a: np.ndarray, exact: bool):
    """``(real, imag or None)``, as int64 when ``exact``."""
    if a.dtype.kind != "c":
        return a, None
    re, im = a.real.copy(), a.imag.copy()  # (ascontiguousarray makes 0-d 1-d)
    if exact:
        return re.astype(np.int64), im.astype(np.int64)
    return re, im


def _bound(x: np.ndarray, w: np.ndarray, pad_value) -> float:
    """``max(|re| + |im|)`` of x (and the padding) times ``sum(|re| + |im|)`` of w."""
    if x.size == 0 or w.size == 0:
        return 0.0
    peak = max(float((np.abs(x.real) + np.abs(x.imag)).max()), abs(float(pad_value)))
    return peak * float((np.abs(w.real) + np.abs(w.imag)).sum())


def complex_run(run, x: np.ndarray, w: np.ndarray, pad_value, bias=None):
    """Convolve complex ``x`` and/or ``w`` by real convolutions ``run(a, b, pad_value, bias)``.

    Parameters
    ----------
    run : callable
        A real convolution with every other option fixed; returns an ndarray.
    x, w : ndarray, at least one complex
    pad_value : int or float
        What constant padding holds (the real part's; the imaginary part pads with 0).
    bias : array_like, optional
        Added once, to the real part.

    Returns
    -------
    ndarray, complex128 (complex64 when every part is float32)
    """
    exact = is_gaussian(x) and is_gaussian(w) and float(pad_value).is_integer()
    if exact:
        bound = _bound(x, w, pad_value)
        if bound >= FLOAT_EXACT:
            messages.warning(
                f"the complex integer result could reach {bound:.3g}: parts "
                "beyond 2**53 are rounded to complex128"
            )
        exact = bound < 2.0**62  # int64 parts, and their sums, cannot wrap
    xr, xi = _parts(x, exact)
    wr, wi = _parts(w, exact)
    re = run(xr, wr, pad_value, bias)
    im = None if wi is None else run(xr, wi, pad_value, None)
    if xi is not None:
        if wi is not None:
            re = re - run(xi, wi, 0, None)
        cross = run(xi, wr, 0, None)
        im = cross if im is None else im + cross
    single = np.result_type(re, im) == np.float32
    out = np.empty(np.shape(re), np.complex64 if single else np.complex128)
    out.real = re
    out.imag = im
    return out
