"""``convolve`` and ``correlate``: argument checks, geometry, and the choice of method."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..geometry import METHODS, axes, check_nonempty
from . import keepsize, ndfilter, nonfinite
from .bank import bank_forward
from .costs import choose_method
from .cplx import complex_run
from .direct import correlate_direct, separable
from .numbers import all_finite, as_engine_array, check_pad_value, exact_bound, guard_int64
from .padding import canonical_mode, check_memory, is_zero_padding, pad_pairs
from .spectral import dilate, fft_window, oa_full, polyphase_valid


def _resolve_method(method, geometry, x, w, nd, zero_pad) -> str:
    if method not in METHODS:
        raise ArgumentError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if nd == 0:
        return "direct"  # no axis to transform: the convolution is a product
    channels = max(1, x.size // max(1, math.prod(x.shape[:nd])))
    if method == "auto" and x.size * w.size < 50_000 * channels:
        return "direct"  # too small for a transform to pay off
    nonzero = int(np.count_nonzero(w.reshape(w.shape[:nd] + (-1,)).any(axis=-1)))
    if nd == 2 and x.dtype.kind == "f" and separable(w) is not None:
        nonzero = w.shape[0] + w.shape[1]  # a column pass and a row pass
        if ndfilter.applies(geometry, canonical_mode("zeros" if zero_pad else "replicate")):
            nonzero = max(1, nonzero // 4)  # compiled passes: a quarter of a numpy pass per tap
    single = x.dtype == w.dtype == np.float32
    chosen = (
        choose_method(geometry, channels, nonzero, zero_pad, single) if method == "auto" else method
    )
    if chosen != "direct" and x.dtype.kind == w.dtype.kind == "i":
        # integer inputs promise exact integer outputs: FFT only where rounding makes it exact
        points = sum(ax.n + ax.ke for ax in geometry)
        if exact_bound(x, w) * 2.0**-52 * 8 * math.log2(points + 2) * (nd + 1) >= 0.25:
            chosen = "direct"
    return chosen


def _spectral(x, wc, nd, geometry, method, zero_pad, pad_mode, pad_value):
    """Convolve by FFT or overlap-add; ``wc`` is in convolution orientation."""
    wd = dilate(wc, nd, [ax.dilation for ax in geometry])
    if nd == 1 and geometry[0].stride > 1:  # polyphase: only the kept outputs are computed
        ax = geometry[0]
        xp = pad_pairs(x, [(ax.before, ax.after)], pad_mode, pad_value)
        wf = np.flip(wd, 0).reshape(ax.ke, -1)  # (ke, C or 1), correlation orientation
        y = polyphase_valid(xp.reshape(ax.span, -1), wf, ax.stride, method == "fft")
        return y.reshape((ax.length,) + x.shape[1:])
    if zero_pad:
        starts = [ax.ke - 1 - ax.before for ax in geometry]
    else:
        x = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
        starts = [ax.ke - 1 for ax in geometry]
    lengths = [ax.length for ax in geometry]
    strides = [ax.stride for ax in geometry]
    if method == "oa":
        full = oa_full(x.reshape(x.shape[0], -1), wd.reshape(wd.shape[0], -1))  # (frames, C)
        y = crop(full, starts[0], lengths[0], strides[0])
        return y.reshape((lengths[0],) + x.shape[1:])
    return fft_window(x, wd, nd, starts, lengths, strides)


def crop(full: np.ndarray, start: int, length: int, stride: int = 1) -> np.ndarray:
    """Rows ``start + i*stride`` of a full convolution, zero where they fall outside it."""
    stop = start + stride * (length - 1) + 1
    if start >= 0 and stop <= len(full):
        return full[start:stop:stride]
    out = np.zeros((length,) + full.shape[1:], full.dtype)
    index = start + stride * np.arange(length)
    inside = (index >= 0) & (index < len(full))
    out[inside] = full[index[inside]]
    return out


def _convolve_1d(x, wc, ax):
    """1-D with zero padding, unit stride and dilation: np.convolve, no padded copy."""
    x2 = x.reshape(len(x), -1)  # (n, C)
    w2 = wc.reshape(len(wc), -1)
    mode = "valid" if (ax.before, ax.after) == (0, 0) else "full"
    start = 0 if mode == "valid" else ax.ke - 1 - ax.before
    columns = [
        np.convolve(
            x2[:, c], np.ascontiguousarray(w2[:, c if w2.shape[1] > 1 else 0]), mode
        )  # a strided kernel can take np.convolve's slow path
        for c in range(x2.shape[1])
    ]
    y = columns[0][:, None] if len(columns) == 1 else np.stack(columns, axis=1)
    return crop(y, start, ax.length).reshape((ax.length,) + x.shape[1:])


def _run(x, w, flip, mode, pad, pad_mode, pad_value, stride, dilation, method, ndim, bias, layout):
    """Checks done once; complex operands as real convolutions; 0-d results as NumPy scalars."""
    x = as_engine_array(x, "input")
    w = as_engine_array(w, "kernel")
    pad_value = check_pad_value(pad_value)
    if mode is None and pad is None:
        mode = "full"

    def real(a, b, value, offset):
        return _real(
            a, b, flip, mode, pad, pad_mode, value, stride, dilation, method, ndim, offset, layout
        )

    if x.dtype.kind == "c" or w.dtype.kind == "c":
        y = complex_run(real, x, w, pad_value, bias)
    else:
        y = real(x, w, pad_value, bias)
    return y[()] if y.ndim == 0 else y


def _real(x, w, flip, mode, pad, pad_mode, pad_value, stride, dilation, method, ndim, bias, layout):
    """A real convolution (int64, float32 or float64 operands)."""
    exact = x.dtype.kind == w.dtype.kind == "i"
    x, w = guard_int64(x, w, pad_value if canonical_mode(pad_mode) == "constant" else 0)
    if exact and x.dtype.kind == "f":
        method = "direct"  # integers beyond int64: the nearest floats, not an FFT's noise
    if (
        _plain_1d(x, w, mode, pad, pad_mode, stride, dilation, method, ndim)
        and all_finite(x)
        and all_finite(w)
    ):
        k = len(w)
        full = np.convolve(x, w if flip else w[::-1])  # what most calls are: skip the planning
        return full if mode == "full" else full[(k - 1) // 2 : (k - 1) // 2 + len(x)]
    if w.ndim == 4 and ndim in (None, 2):
        return _bank(x, w, flip, mode, pad, pad_mode, pad_value, stride, dilation, bias, layout)
    if bias is not None:
        raise ShapeError("a bias needs a 4-D filter bank (K, C, kh, kw)")
    nd = w.ndim if ndim is None else ndim
    if w.ndim < nd or x.ndim < nd:
        raise ShapeError(
            f"a {nd}-D convolution needs a {nd}-D input and kernel, got {x.ndim}-D and {w.ndim}-D"
        )
    if w.ndim > nd and w.shape[nd:] != x.shape[nd:]:
        raise ShapeError(
            f"the kernel has {_channels(w, nd)} channel(s) but the input has {_channels(x, nd)}"
        )
    geometry = axes(x.shape[:nd], w.shape[:nd], mode, pad=pad, stride=stride, dilation=dilation)
    check_nonempty(geometry)
    _check_size(geometry, _channels(x, nd))
    zero_pad = is_zero_padding(pad_mode, pad_value)
    chosen = _resolve_method(method, geometry, x, w, nd, zero_pad)
    if not all_finite(w):  # a non-finite tap reaches every output: all by the rule
        wf = np.flip(w, tuple(range(nd))) if flip else w
        return nonfinite.by_rule(x, wf, geometry, pad_mode, pad_value)
    if not all_finite(x):  # any method on the finite part, then the blocks that hold the rest
        y = _compute(nonfinite.cleaned(x), w, flip, geometry, chosen, zero_pad, pad_mode, pad_value)
        wf = np.flip(w, tuple(range(nd))) if flip else w
        return nonfinite.patch(y, x, wf, geometry, pad_mode, pad_value)
    if keepsize.takes(x, w, geometry, method, pad_mode):  # float32 images: OpenCV's passes
        wf = np.flip(w, (0, 1)) if flip else w
        return keepsize.correlate_same(x, wf, geometry, pad_mode, pad_value)
    return _compute(x, w, flip, geometry, chosen, zero_pad, pad_mode, pad_value)


def _compute(x, w, flip, geometry, chosen, zero_pad, pad_mode, pad_value):
    """The chosen method on finite operands."""
    nd = len(geometry)
    spatial = tuple(range(nd))
    unit = all(ax.stride == ax.dilation == 1 for ax in geometry)
    if chosen == "direct" and nd == 1 and zero_pad and unit:
        return _convolve_1d(x, w if flip else w[::-1], geometry[0])
    if chosen == "direct":
        wf = np.flip(w, spatial) if flip else w  # correlation orientation
        factors = separable(wf) if nd == 2 and x.dtype.kind == "f" else None
        if factors is not None and ndfilter.applies(geometry, canonical_mode(pad_mode)):
            return ndfilter.correlate_separable(
                x, factors, geometry, canonical_mode(pad_mode), pad_value
            ).astype(np.result_type(x, w), copy=False)
        xp = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
        stride_t = tuple(ax.stride for ax in geometry)
        return correlate_direct(xp, wf, nd, stride_t, tuple(ax.dilation for ax in geometry))
    wc = w if flip else np.flip(w, spatial)  # convolution orientation
    y = _spectral(x, wc, nd, geometry, chosen, zero_pad, pad_mode, pad_value)
    if x.dtype.kind == w.dtype.kind == "i":
        return np.rint(y).astype(np.int64)
    return y


def _plain_1d(x, w, mode, pad, pad_mode, stride, dilation, method, ndim) -> bool:
    """A 1-D full/same convolution, small or with a short kernel, with only zero padding.

    The cost model picks the direct method for all of these (a short kernel never
    pays for a transform), so they skip the planning.
    """
    return (
        x.ndim == w.ndim == 1
        and ndim in (None, 1)
        and pad is None
        and mode in ("full", "same")
        and pad_mode in ("zeros", "zero")
        and stride in (1, (1,))
        and dilation in (1, (1,))
        and method in ("auto", "direct")
        and len(w) > 0
        and len(x) > 0
        and (x.size * w.size < 50_000 or len(w) <= 32)
    )


def _check_size(geometry, channels) -> None:
    """Refuse results (and padded inputs, kernel spans) too large for memory, up front."""
    out = math.prod(ax.length for ax in geometry)
    span = math.prod(ax.span for ax in geometry) + math.prod(ax.ke for ax in geometry)
    if max(out, span) * channels > 1 << 24:  # small jobs skip reading /proc/meminfo
        check_memory(max(out, span) * channels)


def _channels(a, nd) -> int:
    return math.prod(a.shape[nd:])


def _bank(x, w, flip, mode, pad, pad_mode, pad_value, stride, dilation, bias, layout):
    """A CNN layer: (H, W[, C]) or (B, H, W, C) input, (K, C, kh, kw) bank -> (..., H', W', K)."""
    if layout not in ("oihw", "hwio"):
        raise ArgumentError(f"unknown layout {layout!r}; expected oihw or hwio")
    if layout == "hwio":
        w = w.transpose(3, 2, 0, 1)  # (kh, kw, C, K) -> (K, C, kh, kw)
    if x.ndim not in (2, 3, 4):
        raise ShapeError(f"a filter bank needs (H, W, C) or (B, H, W, C) input, got {x.ndim}-D")
    batch = x[None] if x.ndim == 3 else x[None, :, :, None] if x.ndim == 2 else x  # (B,H,W,C)
    k, c = w.shape[:2]
    if batch.shape[3] != c:
        raise ShapeError(
            f"the filter bank expects {c} input channel(s) but the input has {batch.shape[3]}"
        )
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64).reshape(-1)
        if bias.size != k:
            raise ShapeError(f"{bias.size} bias value(s) for {k} filter(s)")
    geometry = axes(batch.shape[1:3], w.shape[2:], mode, pad=pad, stride=stride, dilation=dilation)
    check_nonempty(geometry)
    _check_size(geometry, batch.shape[0] * max(k, c * w.shape[2] * w.shape[3]))
    wf = np.flip(w, (2, 3)) if flip else w
    if x.dtype.kind != "i" or wf.dtype.kind != "i" or bias is not None:
        batch = batch.astype(np.result_type(batch, wf, np.float32), copy=False)
    y = bank_forward(
        batch,
        wf,
        bias,
        tuple(ax.stride for ax in geometry),
        tuple((ax.before, ax.after) for ax in geometry),
        tuple(ax.dilation for ax in geometry),
        canonical_mode(pad_mode),
        pad_value,
    )
    return y if x.ndim == 4 else y[0]


def convolve(
    x,
    w,
    mode: str | None = None,
    *,
    pad=None,
    pad_mode: str = "zeros",
    pad_value: float = 0.0,
    stride=1,
    dilation=1,
    method: str = "auto",
    ndim: int | None = None,
    bias=None,
    layout: str = "oihw",
) -> np.ndarray:
    """Convolve ``x`` with ``w`` (the kernel flipped, as in SciPy and NumPy).

    Parameters
    ----------
    x : array_like of shape (n_0, ..., n_{ndim-1}, *channels)
        Signal or image. Axes past ``ndim`` are channels, each filtered alike.
        With a filter bank: (H, W), (H, W, C) or (B, H, W, C).
    w : array_like of shape (k_0, ..., k_{ndim-1}[, *channels]) or (K, C, kh, kw)
        Kernel. Trailing channel axes give each channel its own kernel; a 4-D
        kernel is a CNN filter bank (``layout='hwio'`` reads (kh, kw, C, K)).
    mode : {'full', 'same', 'valid'}, optional
        Implicit padding, centred as ``scipy.signal.convolve`` centres it;
        default 'full', or 'valid' after explicit ``pad``.
    pad : int or sequence of int, optional
        Explicit padding, then a 'valid' convolution: ``P``, ``(before, after)``
        in 1-D, one value per axis, or ``(b0, a0, b1, a1, ...)``.
    pad_mode : {'zeros', 'constant', 'replicate', 'symmetric', 'reflect', 'circular'}
        What implicit or explicit padding holds (aliases ``edge`` and ``wrap``).
    pad_value : float
        The value of ``constant`` padding: one finite real number (the real part of
        complex data pads with it, the imaginary part with 0).
    stride, dilation : int or sequence of int
    method : {'auto', 'direct', 'fft'}
    ndim : int, optional
        Number of convolved axes; default ``w.ndim`` (2 for a filter bank).
    bias : array_like of shape (K,), optional
        Added to each output channel of a filter bank.

    Returns
    -------
    ndarray of shape (out_0, ..., out_{ndim-1}, *channels) or (H', W', K)
        int64 (exact) when ``x`` and ``w`` are integers (float64 with a warning when
        the result could leave int64), float32 when both are float32, complex128
        (complex64 from single precision) when either is complex, Gaussian integers
        exact; else float64. 0-d operands give a NumPy scalar, ``x * w``. NaN and
        infinity give one result on every method (see :mod:`convcli.engine.nonfinite`).

    Examples
    --------
    >>> convolve([0, 1, 2, 3, 4], [1, -1, 2]).tolist()
    [0, 1, 1, 3, 5, 2, 8]
    >>> convolve([0, 1, 2, 3, 4], [1, -1, 2], 'valid').tolist()
    [1, 3, 5]
    >>> convolve([1 + 2j, 3], [1, 1j]).tolist()
    [(1+2j), (1+1j), 3j]
    """
    return _run(
        x, w, True, mode, pad, pad_mode, pad_value, stride, dilation, method, ndim, bias, layout
    )


def correlate(
    x,
    w,
    mode: str | None = None,
    *,
    pad=None,
    pad_mode: str = "zeros",
    pad_value: float = 0.0,
    stride=1,
    dilation=1,
    method: str = "auto",
    ndim: int | None = None,
    bias=None,
    layout: str = "oihw",
) -> np.ndarray:
    """Correlate ``x`` with ``w`` (the kernel unflipped, as CNN frameworks do).

    Same parameters and shapes as :func:`convolve`; ``correlate(x, w)`` equals
    ``convolve(x, w flipped along its convolved axes)``.

    Examples
    --------
    >>> correlate([0, 1, 2, 3, 4], [1, -1, 2], 'valid').tolist()
    [3, 5, 7]
    """
    return _run(
        x, w, False, mode, pad, pad_mode, pad_value, stride, dilation, method, ndim, bias, layout
    )
