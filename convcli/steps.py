"""The text of ``--steps``: a small convolution or pooling worked by hand, as the seed teaches it.

Pure rendering: the arithmetic here is the naive loop (flip, pad, slide, multiply, add),
so that what the learner reads is what is computed; the tests hold it against the engine.
Every line fits in 80 columns.
"""

from __future__ import annotations

import itertools
import textwrap

import numpy as np

from .errors import ShapeError
from .geometry import axes, check_nonempty

MAX_OUTPUTS = 64
WIDTH = 80
_VALID_NOTE = "valid = the window lies wholly inside the input (what --mode valid keeps)"


def _num(v, precision=None) -> str:
    from .io.arrays import format_number

    return format_number(v, precision)


def _factor(v, precision=None) -> str:
    """A number as a factor: negative numbers in brackets, so ``2*(-1)`` reads plainly."""
    text = _num(v, precision)
    return f"({text})" if text.startswith("-") else text


def _check_count(count: int) -> None:
    if count > MAX_OUTPUTS:
        raise ShapeError(
            f"--steps shows at most {MAX_OUTPUTS} output samples; this result has "
            f"{count} (use a smaller input, a larger --stride, or drop --steps)"
        )


def _matrix(a, precision=None, indent: str = "  ") -> list[str]:
    """Rows of a 1-D or 2-D array, right-aligned in columns."""
    rows = np.atleast_2d(a)
    cells = [[_num(v, precision) for v in row] for row in rows.tolist()]
    width = max(len(c) for row in cells for c in row)
    return [indent + " ".join(c.rjust(width) for c in row) for row in cells]


def _input_lines(xp, pairs, precision) -> list[str]:
    """The (padded) input, channel by channel; a padded signal shows ``|`` around the input."""
    channels = xp.shape[-1]
    lines = []
    for c in range(channels):
        indent = "    " if channels > 1 else "  "
        if channels > 1:
            lines.append(f"  channel {c + 1}:")
        if len(pairs) == 1 and any(pairs[0]):
            values = [_num(v, precision) for v in xp[:, c].tolist()]
            (b, a), n = pairs[0], len(values)
            parts = (values[:b], values[b : n - a], values[n - a :])
            lines += _wrap(indent + " | ".join(" ".join(p) for p in parts if p))
        else:
            lines += _matrix(xp[..., c], precision, indent)
    return lines


def _wrap(line: str, tail: str = "") -> list[str]:
    """``line + tail`` in lines of at most 80 columns; ``tail`` (``= 5  valid``) stays whole."""
    glued = tail.replace(" ", "\0")  # textwrap breaks only at ASCII whitespace
    lines = textwrap.wrap(line + glued, WIDTH, subsequent_indent="      ", break_on_hyphens=False)
    return [text.replace("\0", " ") for text in lines]


def _label(index, channel=None) -> str:
    inside = ",".join(str(i) for i in index)
    return f"y[{inside}]" + (f" (channel {channel + 1})" if channel is not None else "")


def _window_text(window, precision=None) -> str:
    if window.ndim == 1:
        return " ".join(_num(v, precision) for v in window.tolist())
    return (
        "[" + "; ".join(" ".join(_num(v, precision) for v in row) for row in window.tolist()) + "]"
    )


def _as_channels(x, nd):
    """``x`` as (spatial..., C) with one trailing channel axis."""
    x = np.asarray(x)
    return x.reshape(x.shape[:nd] + (-1,))


def _bank(w, layout):
    """A 4-D filter bank as (K, C, kh, kw)."""
    w = np.asarray(w)
    return w.transpose(3, 2, 0, 1) if layout == "hwio" else w  # (kh,kw,C,K) -> (K,C,kh,kw)


def _padding_line(geometry, pad_mode, pad_value) -> str:
    if all(ax.before == ax.after == 0 for ax in geometry):
        return "input (no padding):"
    what = {"zeros": "zeros", "constant": f"value {_num(pad_value)}"}.get(pad_mode, pad_mode)
    names = [""] if len(geometry) == 1 else ["rows ", "cols "]
    amounts = "; ".join(
        f"{name}{ax.before} before, {ax.after} after" for name, ax in zip(names, geometry)
    )
    return f"padded input ({amounts}; {what}):"


def conv_steps(
    x,
    w,
    *,
    ndim: int,
    mode: str | None = None,
    pad=None,
    pad_mode: str = "zeros",
    pad_value: float = 0.0,
    stride=1,
    dilation=1,
    correlate: bool = False,
    bias=None,
    layout: str = "oihw",
    precision: int | None = None,
) -> str:
    """The worked computation of a small convolution, line by line.

    Parameters
    ----------
    x : array_like of shape (n_0, ..., n_{ndim-1}, *channels)
        The input as the engine receives it: a signal (n,) or (frames, channels), a
        matrix (rows, cols) or an image (rows, cols, channels).
    w : array_like of shape (k_0, ..., k_{ndim-1}[, channels]) or (K, C, kh, kw)
        The kernel; a 4-D filter bank is a CNN layer (``layout='hwio'`` for (kh, kw, C, K)).
    ndim : {1, 2}
        Number of convolved axes.
    mode, pad, pad_mode, pad_value, stride, dilation, correlate, bias, layout
        As in :func:`convcli.convolve` (``mode=None`` with ``pad=None`` means ``valid``).
    precision : int, optional
        Print numbers as ``%.Ng``.

    Returns
    -------
    str
        Lines ending in a newline: the kernel (flipped, or "not flipped"), the padded
        input, then one line per output sample with its window, products and sum,
        marked ``valid`` where the window lies wholly inside the input.

    Raises
    ------
    ShapeError
        For more than 64 output samples, or an empty result.

    Examples
    --------
    >>> print(conv_steps([0, 1, 2, 3, 4], [1, -1, 2], ndim=1, mode='valid'), end='')
    kernel: 1 -1 2
    flipped (convolution slides the kernel reversed): 2 -1 1
    input (no padding):
      0 1 2 3 4
    y[0]  window 0 1 2  ->  0*2 + 1*(-1) + 2*1 = 1  valid
    y[1]  window 1 2 3  ->  1*2 + 2*(-1) + 3*1 = 3  valid
    y[2]  window 2 3 4  ->  2*2 + 3*(-1) + 4*1 = 5  valid
    valid = the window lies wholly inside the input (what --mode valid keeps)
    """
    from .engine.padding import pad_pairs

    x = np.asarray(x)
    bank = np.ndim(w) == 4
    w = _bank(w, layout) if bank else np.asarray(w)
    kshape = w.shape[2:] if bank else w.shape[:ndim]
    geometry = axes(
        x.shape[:ndim],
        kshape,
        mode if pad is None else None,
        pad=pad,
        stride=stride,
        dilation=dilation,
    )
    check_nonempty(geometry)
    spatial = tuple(ax.length for ax in geometry)
    xc = _as_channels(x, ndim)  # (*n, C)
    if not bank and w.ndim > ndim:
        w = w.reshape(w.shape[:ndim] + (-1,))  # (*k, C): a kernel per channel
        if xc.shape[-1] == 1:  # mono through a stereo kernel: one copy per kernel column
            xc = np.repeat(xc, w.shape[-1], axis=-1)
    channels = xc.shape[-1]
    outputs = int(np.prod(spatial)) * (w.shape[0] if bank else channels)
    _check_count(outputs)
    flipped = w[..., ::-1, ::-1] if bank else np.flip(w, axis=tuple(range(ndim)))
    taps = w if correlate else flipped
    lines = _kernel_lines(w, taps, ndim, bank, correlate, precision)
    xp = pad_pairs(xc, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
    lines.append(_padding_line(geometry, pad_mode, pad_value))
    lines += _input_lines(xp, [(ax.before, ax.after) for ax in geometry], precision)
    bias = None if bias is None else np.broadcast_to(np.asarray(bias, float), (w.shape[0],))
    for index in itertools.product(*(range(n) for n in spatial)):
        window = _window(xp, index, geometry)  # (*k, C)
        valid = _is_valid(index, geometry)
        if bank:
            for f in range(w.shape[0]):
                lines += _bank_line(index, f, window, taps[f], bias, valid, precision)
        else:
            for c in range(channels):
                kernel = taps if taps.ndim == ndim else taps[..., c]
                lines += _line(
                    index, c if channels > 1 else None, window[..., c], kernel, valid, precision
                )
    lines.append(_VALID_NOTE)
    return "\n".join(lines) + "\n"


def _kernel_lines(w, taps, ndim, bank, correlate, precision) -> list[str]:
    if bank:
        head = [
            f"filter bank: {w.shape[0]} filters of {w.shape[1]} channel(s), "
            f"{w.shape[2]}x{w.shape[3]} taps"
        ]
        if correlate:
            return head + [
                "not flipped (--correlate slides each filter as it is, as CNN frameworks do)"
            ]
        return head + ["each filter flipped (convolution); --correlate would not flip"]
    if ndim == 1 and w.ndim == 1:
        head = [f"kernel: {_window_text(w, precision)}"]
        if correlate:
            return head + ["not flipped (--correlate slides the kernel as it is)"]
        return head + [
            f"flipped (convolution slides the kernel reversed): {_window_text(taps, precision)}"
        ]
    head = ["kernel:"] + _matrix(w if w.ndim <= 2 else w[..., 0], precision)
    if correlate:
        return head + ["not flipped (--correlate slides the kernel as it is)"]
    return (
        head
        + ["flipped (convolution slides the kernel reversed):"]
        + _matrix(taps if taps.ndim <= 2 else taps[..., 0], precision)
    )


def _window(xp, index, geometry):
    """The padded input under the kernel's taps for output ``index``: (*k, C)."""
    slices = tuple(
        slice(i * ax.stride, i * ax.stride + ax.ke, ax.dilation) for i, ax in zip(index, geometry)
    )
    return xp[slices]


def _is_valid(index, geometry) -> bool:
    return all(
        ax.before <= i * ax.stride and i * ax.stride + ax.ke <= ax.before + ax.n
        for i, ax in zip(index, geometry)
    )


def _products(window, kernel, precision):
    terms = [
        f"{_factor(a, precision)}*{_factor(b, precision)}"
        for a, b in zip(window.ravel().tolist(), kernel.ravel().tolist())
    ]
    return terms, (window * kernel).sum()


def _line(index, channel, window, kernel, valid, precision) -> list[str]:
    terms, total = _products(window, kernel, precision)
    mark = "  valid" if valid else ""
    text = (
        f"{_label(index, channel)}  window {_window_text(window, precision)}  ->  "
        f"{' + '.join(terms)} "
    )
    return _wrap(text, f"= {_num(total, precision)}{mark}")


def _bank_line(index, f, window, taps, bias, valid, precision) -> list[str]:
    """One output of a CNN layer: a sum per input channel, then the bias and the total."""
    lines, total = [f"{_label(index + (f,))}  filter {f + 1}:"], 0
    for c in range(window.shape[-1]):
        terms, subtotal = _products(window[..., c], taps[c], precision)
        lines += _wrap(f"  channel {c + 1}: {' + '.join(terms)} ", f"= {_num(subtotal, precision)}")
        total = total + subtotal
    bias_text = ""
    if bias is not None:
        bias_text = f" + bias {_factor(bias[f], precision)}"
        total = total + bias[f]
    lines.append(
        f"  sum over channels{bias_text} = {_num(total, precision)}" + ("  valid" if valid else "")
    )
    return lines


def pool_steps(
    x,
    size,
    *,
    ndim: int,
    stride=None,
    pad=0,
    ceil: bool = False,
    op: str = "max",
    precision: int | None = None,
) -> str:
    """The worked computation of a small pooling: each window and its maximum or mean.

    Parameters
    ----------
    x : array_like of shape (n_0, ..., n_{ndim-1}, *channels)
    size, stride, pad, ceil, op
        As in :func:`convcli.engine.pool.pool`.
    ndim : {1, 2}
        Number of pooled axes.

    Returns
    -------
    str
        The padded input, then one line per output sample with its window and result.

    Examples
    --------
    >>> print(pool_steps([1, 3, 2, 5, 4], 2, ndim=1), end='')
    max pooling, window 2, stride 2, no padding
    input:
      1 3 2 5 4
    y[0]  window 1 3  ->  max = 3  valid
    y[1]  window 2 5  ->  max = 5  valid
    valid = the window lies wholly inside the input (what --mode valid keeps)
    """
    from .engine.pool import pool_geometry

    xc = _as_channels(x, ndim).astype(float)
    geometry = pool_geometry(xc.shape[:ndim], size, stride, pad, ceil)
    channels = xc.shape[-1]
    _check_count(int(np.prod([g[3] for g in geometry])) * channels)
    lines = _wrap(_pool_head(geometry, op, ceil))
    fill = -np.inf if op == "max" else 0.0
    widths = [
        (p, max(0, (out - 1) * s + k - n - p)) for n, (k, s, p, out) in zip(xc.shape, geometry)
    ]
    xp = np.pad(xc, widths + [(0, 0)], constant_values=fill)
    lines.append("padded input:" if any(g[2] for g in geometry) else "input:")
    lines += _input_lines(xp, widths, precision)
    for index in itertools.product(*(range(g[3]) for g in geometry)):
        slices = tuple(slice(i * s, i * s + k) for i, (k, s, _, _) in zip(index, geometry))
        valid = all(
            i * s >= p and i * s + k <= p + n
            for i, n, (k, s, p, _) in zip(index, xc.shape, geometry)
        )
        for c in range(channels):
            window = xp[slices][..., c]
            lines += _pool_line(
                index,
                c if channels > 1 else None,
                window,
                op,
                _divisor(index, xc.shape, geometry),
                valid,
                precision,
            )
    lines.append(_VALID_NOTE)
    return "\n".join(lines) + "\n"


def _pool_head(geometry, op, ceil) -> str:
    def each(i):
        values = [g[i] for g in geometry]
        return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))

    name = "max" if op == "max" else "average"
    padding = f"padding {each(2)}" if any(g[2] for g in geometry) else "no padding"
    if op == "max" and any(g[2] for g in geometry):
        padding += " (-inf, never the maximum)"
    elif any(g[2] for g in geometry):
        padding += " (zeros, counted in the mean)"
    return f"{name} pooling, window {each(0)}, stride {each(1)}, {padding}" + (
        ", ceil mode" if ceil else ""
    )


def _divisor(index, shape, geometry) -> int:
    """PyTorch's divisor: the window clipped to the padded input (not ceil's overhang)."""
    count = 1
    for i, n, (k, s, p, _) in zip(index, shape, geometry):
        start = i * s - p
        count *= min(start + k, n + p) - start
    return count


def _pool_line(index, channel, window, op, divisor, valid, precision) -> list[str]:
    mark = "  valid" if valid else ""
    shown = _window_text(window, precision)
    if op == "max":
        head, result = "", f"max = {_num(window.max(), precision)}"
    else:
        finite = window[np.isfinite(window)]
        head = f"sum {_num(finite.sum(), precision)} / {divisor} "
        result = f"= {_num(finite.sum() / divisor, precision)}"
    return _wrap(f"{_label(index, channel)}  window {shown}  ->  {head}", result + mark)
