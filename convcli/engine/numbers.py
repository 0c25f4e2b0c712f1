"""The engine's numbers: what dtypes it computes in, and the guards that keep results true.

Integers (and Gaussian integers) are exact; a result that could leave int64 is computed
in float64 with a warning, never wrapped; ``pad_value`` is one finite real number.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import messages
from ..errors import DataError

INT64_LIMIT = 2.0**63 * (1 - 1e-6)  # below 2**63 by more than the float rounding of a bound
FLOAT_EXACT = 2.0**53  # integers a float64 (and each part of a complex128) holds exactly


def as_engine_array(a, what: str) -> np.ndarray:
    """``a`` as int64, float32/float64 or complex64/complex128 (bool and integers exact).

    Unsigned and Python integers beyond int64 become float64 with a warning (never wrap).

    >>> as_engine_array(np.array([2**64 - 1], np.uint64), 'input').dtype.name
    'float64'
    """
    a = np.asarray(a)
    kind = a.dtype.kind
    if kind == "O":
        a = _from_objects(a, what)
        kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.int64)
    if kind == "u" and a.dtype.itemsize == 8 and a.size and int(a.max()) >= 2**63:
        messages.warning(f"the {what} holds integers beyond int64: computed in float64")
        return a.astype(np.float64)
    if kind in "iu":
        return a.astype(np.int64, copy=False)
    if kind == "f":
        return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)
    if kind == "c":
        return a if a.dtype in (np.complex64, np.complex128) else a.astype(np.complex128)
    raise DataError(f"the {what} must be numbers, not {a.dtype}")


def _from_objects(a: np.ndarray, what: str) -> np.ndarray:
    """An object array of Python numbers (big integers, say) as a numeric array."""
    values = a.ravel().tolist()
    if not all(isinstance(v, numbers.Number) for v in values):
        raise DataError(f"the {what} must be numbers, not {a.dtype}")
    if all(isinstance(v, numbers.Integral) for v in values):
        if all(-(2**63) <= v < 2**63 for v in values):
            return a.astype(np.int64)
        messages.warning(f"the {what} holds integers beyond int64: computed in float64")
        return a.astype(np.float64)
    kind = np.complex128 if any(isinstance(v, complex) for v in values) else np.float64
    return a.astype(kind)


def check_pad_value(value):
    """``value`` as one finite real number (int kept exact), or a DataError saying why not.

    >>> check_pad_value(np.float32(2.5)), check_pad_value(3)
    (2.5, 3)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    raise DataError(f"pad_value must be one finite real number, not {value!r}")


def exact_bound(x: np.ndarray, w: np.ndarray, pad_value=0) -> float:
    """An upper bound on every output magnitude of a convolution of ``x`` with ``w``.

    ``max |x| * sum |w|``, with the constant padding's value counted among ``x``.
    """
    if x.size == 0 or w.size == 0:
        return 0.0
    peak = max(abs(float(x.max())), abs(float(x.min())), abs(float(pad_value)))
    return peak * float(np.abs(w.astype(np.float64)).sum())


def guard_int64(x: np.ndarray, w: np.ndarray, pad_value=0):
    """``x, w`` unchanged when an integer result fits int64, else both as float64 (warned).

    The caller then computes directly: each output rounded once, not an FFT's error
    of ``eps * max |y|`` on every output (zeros stay zeros).
    """
    if x.dtype.kind != "i" or w.dtype.kind != "i":
        return x, w
    bound = exact_bound(x, w, pad_value)
    if bound < INT64_LIMIT:
        return x, w
    messages.warning(
        f"the integer result could reach {bound:.3g}, beyond int64: computed in "
        "float64 (rounded past 2**53)"
    )
    return x.astype(np.float64), w.astype(np.float64)


def is_gaussian(a: np.ndarray) -> bool:
    """Whether ``a`` holds only (Gaussian) integers that float64 parts hold exactly."""
    if a.dtype.kind == "i":
        return True
    if a.dtype.kind != "c":
        return False
    parts = (a.real, a.imag)
    return all(
        np.array_equal(p, np.round(p)) and (p.size == 0 or np.abs(p).max() < FLOAT_EXACT)
        for p in parts
    )


def all_finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no NaN or infinity (a sum first: one pass, no mask)."""
    if a.dtype.kind not in "fc":
        return True
    with np.errstate(all="ignore"):
        total = a.sum()
    return bool(np.isfinite(total)) or bool(np.isfinite(a).all())
