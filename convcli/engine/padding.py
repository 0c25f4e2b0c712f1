"""Padding of N-D arrays: MATLAB ``padarray`` semantics with NumPy underneath."""

from __future__ import annotations

import math

import numpy as np

from .. import messages
from ..errors import ArgumentError, ResourceError, ShapeError
from ..geometry import PAD_ALIASES as ALIASES
from ..geometry import PAD_MODES
from .numbers import check_pad_value

_NUMPY = {
    "replicate": "edge",
    "symmetric": "symmetric",
    "reflect": "reflect",
    "circular": "wrap",
}


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux: MemAvailable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(elements: int, itemsize: int = 8, copies: float = 2.0) -> None:
    """Refuse, before allocating, a result that would not fit in available memory."""
    need = elements * itemsize * copies
    have = available_memory()
    if need > have:
        raise ResourceError(
            f"the result would need about {_size(need)} of memory but only "
            f"{_size(have)} is available"
        )


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} EB"


def canonical_mode(mode: str) -> str:
    """The canonical name of a pad mode, resolving the aliases ``edge`` and ``wrap``."""
    name = ALIASES.get(mode, mode)
    if name not in PAD_MODES:
        raise ArgumentError(f"unknown pad mode {mode!r}; expected one of {', '.join(PAD_MODES)}")
    return name


def is_zero_padding(mode: str, value: float = 0.0) -> bool:
    """True when the padding holds zeros, which FFTs get for free."""
    name = canonical_mode(mode)
    return name == "zeros" or (name == "constant" and value == 0)


def _constant_dtype(dtype, value) -> np.dtype:
    """The dtype that holds an integer array of ``dtype`` padded with ``value`` exactly.

    A fraction pads as float64; a whole number beyond ``dtype`` widens it to int64, and
    one beyond int64 pads as float64 with a warning, never wrapped.
    """
    if not float(value).is_integer():
        return np.dtype(np.float64)
    info = np.iinfo(dtype)
    if info.min <= int(value) <= info.max:
        return np.dtype(dtype)
    if -(2**63) <= int(value) < 2**63 and np.can_cast(dtype, np.int64):
        return np.dtype(np.int64)
    messages.warning(f"the pad value {value:.6g} is beyond int64: padded as float64")
    return np.dtype(np.float64)


def pad_pairs(x: np.ndarray, pairs, mode: str = "zeros", value: float = 0.0) -> np.ndarray:
    """Pad the leading axes of ``x`` by ``(before, after)`` pairs; later axes are left alone.

    Parameters
    ----------
    x : ndarray of shape (n_0, ..., n_m, *channels)
    pairs : sequence of (int, int), one per leading axis
    mode : str
        One of ``PAD_MODES`` or an alias.
    value : float
        What ``constant`` padding holds.
    """
    name = canonical_mode(mode)
    widths = [tuple(p) for p in pairs] + [(0, 0)] * (x.ndim - len(pairs))
    if not any(b or a for b, a in widths):
        return x
    if name == "zeros" or (name == "constant" and value == 0):
        out = np.zeros([n + b + a for n, (b, a) in zip(x.shape, widths)], x.dtype)
        out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, widths))] = x
        return out  # np.pad's general machinery costs 0.1 ms a call
    if name == "constant":
        if np.issubdtype(x.dtype, np.integer):
            x = x.astype(_constant_dtype(x.dtype, value), copy=False)
        return np.pad(x, widths, mode="constant", constant_values=value)
    for axis, (b, a) in enumerate(widths):
        if (b or a) and x.shape[axis] == 0:
            raise ShapeError(f"cannot {name}-pad an empty axis {axis}")
    return np.pad(x, widths, mode=_NUMPY[name])


def pad(x, size, mode: str = "zeros", value: float = 0.0, direction: str = "both") -> np.ndarray:
    """Pad an array as MATLAB's ``padarray`` does.

    Parameters
    ----------
    x : array_like of any shape
    size : int or sequence of int
        Padding per axis. An int pads every axis; a sequence pads the first
        ``len(size)`` axes and leaves the rest alone.
    mode : {'zeros', 'constant', 'replicate', 'symmetric', 'reflect', 'circular'}
        Aliases ``edge`` and ``wrap`` are accepted.
    value : float
        What ``constant`` padding holds.
    direction : {'both', 'pre', 'post'}

    Returns
    -------
    ndarray
        ``x`` padded, of the same dtype unless a non-integer value pads integers.

    Examples
    --------
    >>> pad([1, 2, 3], 2, mode='symmetric').tolist()
    [2, 1, 1, 2, 3, 3, 2]
    """
    x = np.asarray(x)
    value = check_pad_value(value)
    sizes = (size,) * x.ndim if isinstance(size, int) else tuple(size)
    if len(sizes) > x.ndim:
        raise ShapeError(f"padding names {len(sizes)} axes but the data has {x.ndim}")
    if any(p < 0 for p in sizes):
        raise ArgumentError("padding cannot be negative")
    if direction not in ("both", "pre", "post"):
        raise ArgumentError(f"unknown direction {direction!r}; expected both, pre or post")
    pre = direction in ("both", "pre")
    post = direction in ("both", "post")
    pairs = [(p if pre else 0, p if post else 0) for p in sizes]
    shape = [n + b + a for n, (b, a) in zip(x.shape, pairs + [(0, 0)] * x.ndim)]
    check_memory(math.prod(shape), x.dtype.itemsize, 1.5)
    return pad_pairs(x, pairs, mode, value)
