"""Output sizes and padding: the one place where convcli's geometry is computed.

Symbols per axis: input length ``n``, kernel length ``k``, stride ``s``, dilation
``d``, effective kernel length ``ke = d*(k-1) + 1``, padding ``(before, after)``.
The engine, the ``outsize`` command and the CNN all call these functions; this
module imports nothing heavier than the standard library so ``outsize`` starts fast.
"""

from __future__ import annotations

import math

from .errors import ArgumentError, ShapeError

MODES = ("full", "same", "valid")
METHODS = ("auto", "direct", "fft")  # the engine's; here, where the CLI reads it lightly
PAD_MODES = ("zeros", "constant", "replicate", "symmetric", "reflect", "circular")
PAD_ALIASES = {"edge": "replicate", "wrap": "circular", "zero": "zeros"}


def effective_length(k: int, d: int = 1) -> int:
    """Length ``d*(k-1) + 1`` that a kernel of ``k`` taps spans at dilation ``d``."""
    return d * (k - 1) + 1


def valid_length(n: int, k: int, stride: int = 1, dilation: int = 1) -> int:
    """Outputs of a valid correlation of ``n`` (padded) samples: ``(n - ke)//s + 1``.

    The one formula behind ``Axis.length`` and every kernel that sizes its own output.
    """
    return (n - effective_length(k, dilation)) // stride + 1


def mode_padding(k: int, mode: str, d: int = 1) -> tuple[int, int]:
    """Implicit ``(before, after)`` padding of one axis for a SciPy mode.

    ``same`` starts at index ``(ke-1)//2`` of the full result, as
    ``scipy.signal.convolve`` does: ``ceil((ke-1)/2)`` before, ``floor`` after.
    """
    ke = effective_length(k, d)
    if mode == "full":
        return ke - 1, ke - 1
    if mode == "same":
        return ke - 1 - (ke - 1) // 2, (ke - 1) // 2
    if mode == "valid":
        return 0, 0
    raise ArgumentError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


class Axis:
    """The geometry of one axis of a convolution, computed once.

    ``ke`` is the effective kernel length, ``span`` the padded input's length,
    ``length`` the number of outputs ``floor((n + before + after - ke)/s) + 1`` and
    ``uncovered`` the padded samples at the end that no kernel position reaches.
    """

    __slots__ = (
        "n",
        "k",
        "stride",
        "dilation",
        "before",
        "after",
        "ke",
        "span",
        "length",
        "uncovered",
    )

    def __init__(self, n: int, k: int, stride: int, dilation: int, before: int, after: int):
        self.n, self.k, self.stride, self.dilation = n, k, stride, dilation
        self.before, self.after = before, after
        self.ke = effective_length(k, dilation)
        self.span = n + before + after
        self.length = valid_length(self.span, k, stride, dilation)
        self.uncovered = (self.span - self.ke) % stride if self.span >= self.ke else 0

    def __repr__(self) -> str:
        return (
            f"Axis(n={self.n}, k={self.k}, stride={self.stride}, dilation={self.dilation}, "
            f"before={self.before}, after={self.after})"
        )


def per_axis(value, ndim: int, name: str) -> tuple:
    """Broadcast an int (or a sequence of length 1) to ``ndim`` axes."""
    if isinstance(value, int):
        return (value,) * ndim
    value = tuple(value)
    if len(value) == 1:
        return value * ndim
    if len(value) != ndim:
        raise ArgumentError(f"{name} needs 1 or {ndim} values, got {len(value)}")
    return value


def _pad_pairs(pad, ndim: int) -> tuple[tuple[int, int], ...]:
    """Explicit padding as ``(before, after)`` per axis.

    Accepts ``P``, ``(P,)``, ``(before, after)`` for 1-D, ``(P_axis0, P_axis1, ...)``,
    ``((b0, a0), (b1, a1))`` or the flat ``(b0, a0, b1, a1, ...)`` of ``2*ndim`` values.
    """
    if isinstance(pad, int):
        return ((pad, pad),) * ndim
    pad = tuple(pad)
    if pad and all(isinstance(p, (tuple, list)) for p in pad):
        pairs = tuple((int(b), int(a)) for b, a in pad)
        if len(pairs) == 1:
            pairs = pairs * ndim
    elif len(pad) == 1:
        pairs = ((pad[0], pad[0]),) * ndim
    elif len(pad) == 2 * ndim:
        pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(ndim))
    elif len(pad) == ndim:
        pairs = tuple((p, p) for p in pad)
    else:
        raise ArgumentError(f"padding needs 1, {ndim} or {2 * ndim} values, got {len(pad)}")
    if len(pairs) != ndim:
        raise ArgumentError(f"padding needs {ndim} axes, got {len(pairs)}")
    if any(b < 0 or a < 0 for b, a in pairs):
        raise ArgumentError("padding cannot be negative")
    return pairs


def axes(n, k, mode: str | None = "valid", *, pad=None, stride=1, dilation=1) -> tuple[Axis, ...]:
    """The geometry of every axis of a convolution.

    Parameters
    ----------
    n, k : int or sequence of int
        Input and kernel lengths per axis.
    mode : {'full', 'same', 'valid'} or None
        Implicit padding; must be None or 'valid' when ``pad`` is given.
    pad : int or sequence, optional
        Explicit padding (see ``_pad_pairs``), followed by a 'valid' convolution.
    stride, dilation : int or sequence of int
    """
    n = (n,) if isinstance(n, int) else tuple(n)
    k = per_axis(k, len(n), "kernel")
    nd = len(n)
    s = per_axis(stride, nd, "stride")
    d = per_axis(dilation, nd, "dilation")
    if any(v < 1 for v in s + d):
        raise ArgumentError("stride and dilation must be at least 1")
    if any(v < 1 for v in k):
        raise ShapeError("the kernel is empty")
    if pad is not None:
        if mode not in (None, "valid"):
            raise ArgumentError(f"padding is said one way: --pad or --mode {mode}, not both")
        pairs = _pad_pairs(pad, nd)
    else:
        pairs = tuple(mode_padding(k[i], mode or "valid", d[i]) for i in range(nd))
    return tuple(Axis(n[i], k[i], s[i], d[i], *pairs[i]) for i in range(nd))


def check_nonempty(geometry: tuple[Axis, ...]) -> None:
    """Raise ShapeError, naming both lengths, when a result would have no samples."""
    for i, ax in enumerate(geometry):
        if ax.n < 1:
            raise ShapeError("the input is empty")
        if ax.length < 1:
            where = f" on axis {i}" if len(geometry) > 1 else ""
            raise ShapeError(
                f"empty result{where}: the kernel spans {ax.ke} samples but the "
                f"(padded) input has only {ax.span} (input length {ax.n}, kernel length {ax.k})"
            )


def output_size(n, k, mode: str | None = "valid", *, pad=None, stride=1, dilation=1):
    """Output shape of a convolution, as the engine produces it.

    Parameters
    ----------
    n : int or sequence of int
        Input length per convolved axis.
    k : int or sequence of int
        Kernel length per axis.
    mode : {'full', 'same', 'valid'}, default 'valid'
    pad, stride, dilation
        As in :func:`convcli.convolve`.

    Returns
    -------
    int or tuple of int
        An int when ``n`` is an int, else one length per axis.

    Examples
    --------
    >>> output_size(5, 3, 'full')
    7
    >>> output_size((5, 5), 3, pad=1, stride=2)
    (3, 3)
    """
    geometry = axes(n, k, mode, pad=pad, stride=stride, dilation=dilation)
    check_nonempty(geometry)
    lengths = tuple(ax.length for ax in geometry)
    return lengths[0] if isinstance(n, int) else lengths


def transposed_length(n: int, k: int, stride=1, pad=0, dilation=1, output_padding=0) -> int:
    """PyTorch's ``ConvTranspose`` output length."""
    if output_padding >= max(stride, dilation):
        raise ArgumentError("output padding must be smaller than the stride or the dilation")
    length = (n - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1
    if length < 1:
        raise ShapeError(f"empty result: transposed convolution of length {n} gives {length}")
    return length


def check_pool_pad(kernel, pad) -> None:
    """PyTorch's rule: a pool's padding is at most half its window, on every axis."""
    for k, p in zip(kernel, pad):
        if p > k // 2:
            raise ArgumentError(f"pool padding {p} must be at most half the window {k}")


def pool_length(n: int, k: int, stride=None, pad=0, dilation=1, ceil_mode=False) -> int:
    """PyTorch's ``MaxPool``/``AvgPool`` output length, with its ceil-mode rule."""
    s = stride or k
    check_pool_pad((k,), (pad,))
    span = n + 2 * pad - effective_length(k, dilation)
    length = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (length - 1) * s >= n + pad:
        length -= 1  # the last window must start inside the input or the left padding
    if length < 1:
        raise ShapeError(f"empty result: a pool of {k} does not fit an input of {n}")
    return length
