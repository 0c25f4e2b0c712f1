"""The text of ``--steps --grad``: a small convolution as a computational graph.

Each output ``y`` sums the inputs ``x`` times the weights ``w`` it is joined to; for
``L = sum(DY * y)`` every ``x`` and ``w`` receives ``DY`` times its partner along each
edge that reaches it. The edges are enumerated here by the naive loop (pad, slide,
pair), so the sums read are the sums computed; the tests hold their totals against
:func:`convcli.grad.conv_grad` (the engine's rule) and that against ``torch.autograd``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from .engine.padding import pad_pairs
from .errors import ShapeError
from .grad import Layer, layer
from .steps import _check_count, _factor, _num, _wrap

MAX_EDGES = 1000


def _edges(lay: Layer, ndim: int):
    """(output, x or None, padded value, w) index tuples, one per multiply of the layer."""
    n = tuple(ax.n for ax in lay.geometry)
    source = pad_pairs(np.arange(int(np.prod(n))).reshape(n), lay.pairs, lay.pad_mode)
    inside = pad_pairs(np.ones(n, bool), lay.pairs, "zeros")
    constant = lay.pad_mode in ("zeros", "constant")
    kshape = tuple(ax.k for ax in lay.geometry)
    for i in itertools.product(*(range(ax.length) for ax in lay.geometry)):
        for f in range(lay.out_channels):
            for c in lay.uses(f):
                for j in itertools.product(*(range(k) for k in kshape)):
                    p = tuple(
                        a * ax.stride + b * ax.dilation for a, b, ax in zip(i, j, lay.geometry)
                    )
                    x = (
                        None
                        if constant and not inside[p]
                        else (np.unravel_index(source[p], n) + (c,))
                    )
                    yield i + (f,), x, j, c, f


class _Names:
    """How y, x, w and DY are written: channel and filter indices only where there are several."""

    def __init__(self, lay: Layer, shape_w: tuple, correlate: bool, ndim: int):
        self.lay, self.correlate, self.ndim = lay, correlate, ndim
        self.kshape = tuple(ax.k for ax in lay.geometry)
        self.channels = lay.xc.shape[-1] > 1 and not lay.repeated
        self.outputs = lay.out_channels > 1

    @staticmethod
    def index(values) -> str:
        return "[" + ",".join(str(int(v)) for v in values) + "]"

    def y(self, o) -> str:
        return self.index(o if self.outputs else o[:-1])

    def x(self, xi) -> str:
        return "x" + self.index(xi if self.channels else xi[:-1])

    def w_index(self, j, c, f) -> tuple:
        """The index of the kernel's own tap (the slid kernel is flipped for a convolution)."""
        taps = j if self.correlate else tuple(k - 1 - t for k, t in zip(self.kshape, j))
        if self.lay.kind == "bank":
            return (f, c) + taps
        return taps + ((c,) if self.lay.kind == "per-channel" else ())

    def w(self, j, c, f) -> str:
        return "w" + self.index(self.w_index(j, c, f))

    def weight(self, j, c, f):
        return self.lay.taps(f, c)[j]


def grad_steps(
    x,
    w,
    dy,
    *,
    ndim: int,
    mode=None,
    pad=None,
    pad_mode="zeros",
    pad_value=0.0,
    stride=1,
    dilation=1,
    correlate=False,
    bias=None,
    layout="oihw",
    precision=None,
) -> str:
    """The computational graph of a small convolution and each gradient as a sum over its edges.

    Parameters
    ----------
    x, w, dy, ndim, mode, pad, pad_mode, pad_value, stride, dilation, correlate, bias, layout
        As in :func:`convcli.grad.conv_grad`.
    precision : int, optional
        Print numbers as ``%.Ng``.

    Returns
    -------
    str
        Lines ending in a newline: each ``y`` as its sum of ``x*w`` edges, then
        ``dL/dx``, ``dL/dw`` (and ``dL/db``) entry by entry, then the rule they add up to.

    Raises
    ------
    ShapeError
        For more than 64 outputs or 1000 edges, or a DY of the wrong size.

    Examples
    --------
    >>> print(grad_steps([1, 2, 3], [1, -1], [1, 1], ndim=1, mode='valid'), end='')
    the graph: each y sums x times w along its edges (L = sum(DY * y))
    y[0] = x[0]*w[1] + x[1]*w[0] = 1*(-1) + 2*1 = 1
    y[1] = x[1]*w[1] + x[2]*w[0] = 2*(-1) + 3*1 = 1
    each gradient sums DY times the partner along every edge that reaches it:
    dL/dx[0] = DY[0]*w[1] = 1*(-1) = -1
    dL/dx[1] = DY[0]*w[0] + DY[1]*w[1] = 1*1 + 1*(-1) = 0
    dL/dx[2] = DY[1]*w[0] = 1*1 = 1
    dL/dw[0] = DY[0]*x[1] + DY[1]*x[2] = 1*2 + 1*3 = 5
    dL/dw[1] = DY[0]*x[0] + DY[1]*x[1] = 1*1 + 1*2 = 3
    the rule (convolution slides w flipped):
      dL/dx = the full convolution of DY with the flipped kernel (= the full
        correlation of DY with w, unflipped)
      dL/dw = the valid correlation of x with DY, reversed (the flipped kernel's
        gradient turned back into w's order)
    """
    from .grad import _as_output

    lay = layer(
        x,
        w,
        ndim=ndim,
        mode=mode,
        pad=pad,
        pad_mode=pad_mode,
        pad_value=pad_value,
        stride=stride,
        dilation=dilation,
        correlate=correlate,
        layout=layout,
    )
    out = tuple(ax.length for ax in lay.geometry) + (lay.out_channels,)
    _check_count(int(np.prod(out)))
    dyc = _as_output(dy, out)  # (*out, F)
    edges = list(_edges(lay, ndim))
    if len(edges) > MAX_EDGES:
        raise ShapeError(
            f"--steps --grad draws at most {MAX_EDGES} edges; this layer has "
            f"{len(edges)} (use a smaller input or kernel, or drop --steps)"
        )
    names = _Names(lay, np.shape(w), correlate, ndim)
    xp = pad_pairs(lay.xc, lay.pairs, lay.pad_mode, lay.pad_value)
    bias = None if bias is None else np.broadcast_to(np.asarray(bias, float), (out[-1],))
    lines = ["the graph: each y sums x times w along its edges (L = sum(DY * y))"]
    lines += _forward_lines(edges, lay, xp, names, bias, precision)
    lines.append("each gradient sums DY times the partner along every edge that reaches it:")
    lines += _grad_lines(edges, lay, dyc, names, bias, precision)
    return "\n".join(lines + _rule(lay, correlate)) + "\n"


def _forward_lines(edges, lay, xp, names, bias, precision) -> list[str]:
    by_output = defaultdict(list)
    for o, xi, j, c, f in edges:
        by_output[o].append((xi, j, c, f))
    lines = []
    for o, terms in by_output.items():
        symbols, numbers, total = [], [], 0
        for xi, j, c, f in terms:
            value = xp[
                tuple(a * ax.stride + b * ax.dilation for a, b, ax in zip(o[:-1], j, lay.geometry))
                + (c,)
            ]
            if xi is None and value == 0:
                continue  # zero padding: no edge, nothing added
            weight = names.weight(j, c, f)
            symbols.append(
                f"{names.x(xi) if xi is not None else _factor(value)}*{names.w(j, c, f)}"
            )
            numbers.append(f"{_factor(value, precision)}*{_factor(weight, precision)}")
            total = total + value * weight
        if bias is not None:
            symbols.append(f"b[{o[-1]}]")
            numbers.append(_factor(bias[o[-1]], precision))
            total = total + bias[o[-1]]
        lines += _sum_line(f"y{names.y(o)}", symbols, numbers, total, precision)
    return lines


def _sum_line(head, symbols, numbers, total, precision) -> list[str]:
    if not symbols:
        return [f"{head} = 0 (its window holds only zero padding)"]
    return _wrap(
        f"{head} = {' + '.join(symbols)} = {' + '.join(numbers)} ", f"= {_num(total, precision)}"
    )


def _grad_lines(edges, lay, dyc, names, bias, precision) -> list[str]:
    to_x, to_w = defaultdict(list), defaultdict(list)
    for o, xi, j, c, f in edges:
        if xi is not None:
            to_x[tuple(int(v) for v in xi)].append((o, j, c, f))
        to_w[(j, c, f)].append((o, xi))
    lines = []
    for xi in sorted(to_x):
        terms = [
            (f"DY{names.y(o)}*{names.w(j, c, f)}", dyc[o], names.weight(j, c, f))
            for o, j, c, f in to_x[xi]
        ]
        lines += _grad_line(f"dL/d{names.x(xi)}", terms, precision)
    for key in sorted(to_w, key=lambda k: names.w_index(*k)):
        j, c, f = key
        xs = lay.xc[..., 0] if lay.repeated else lay.xc
        terms = [
            (
                f"DY{names.y(o)}*{names.x(xi)}",
                dyc[o],
                xs[tuple(xi[:-1]) + (0 if lay.repeated else xi[-1],)],
            )
            for o, xi in to_w[key]
            if xi is not None
        ]
        lines += _grad_line(f"dL/d{names.w(j, c, f)}", terms, precision)
    if bias is not None:
        for f in range(dyc.shape[-1]):
            dys = dyc[..., f].ravel()
            symbols = [f"DY{names.y(o + (f,))}" for o in np.ndindex(dyc.shape[:-1])]
            lines += _wrap(
                f"dL/db[{f}] = {' + '.join(symbols)} ", f"= {_num(dys.sum(), precision)}"
            )
    return lines


def _grad_line(head, terms, precision) -> list[str]:
    if not terms:
        return [f"{head} = 0 (no edge reaches it)"]
    symbols = " + ".join(t[0] for t in terms)
    numbers = " + ".join(f"{_factor(a, precision)}*{_factor(b, precision)}" for _, a, b in terms)
    total = sum(a * b for _, a, b in terms)
    return _wrap(f"{head} = {symbols} = {numbers} ", f"= {_num(total, precision)}")


def _rule(lay: Layer, correlate: bool) -> list[str]:
    stride = max(ax.stride for ax in lay.geometry)
    dilation = max(ax.dilation for ax in lay.geometry)
    if correlate:
        lines = [
            "the rule (--correlate slides w as it is, as CNN layers do):",
            "  dL/dx = the full convolution of DY with w (convolution flips w: the "
            "rotation by 180 degrees of CNN back-propagation)",
            "  dL/dw = the valid correlation of x with DY, not flipped",
        ]
    else:
        lines = [
            "the rule (convolution slides w flipped):",
            "  dL/dx = the full convolution of DY with the flipped kernel (= the full "
            "correlation of DY with w, unflipped)",
            "  dL/dw = the valid correlation of x with DY, reversed (the flipped kernel's "
            "gradient turned back into w's order)",
        ]
    if any(ax.before or ax.after for ax in lay.geometry):
        held = (
            "the padding holds constants, so no edge reaches x from it"
            if lay.pad_mode in ("zeros", "constant")
            else f"{lay.pad_mode} padding copies x, so each copy's gradient adds onto its sample"
        )
        lines.append(f"  x here is the padded input; {held}")
    if stride > 1:
        lines.append(
            f"  stride {stride}: DY is spread out with {stride - 1} zero(s) between "
            "its samples first"
        )
    if dilation > 1:
        lines.append(
            f"  dilation {dilation}: the kernel's taps (and the lags of dL/dw) are {dilation} apart"
        )
    if lay.kind == "bank":
        lines.append(
            "  filter bank: dL/dx[..,c] sums over the filters f; dL/dw[f,c] pairs "
            "channel c of x with DY[..,f]; dL/db[f] = the sum of DY[..,f]"
        )
    return [text for line in lines for text in _wrap_rule(line)]


def _wrap_rule(line: str) -> list[str]:
    import textwrap

    return textwrap.wrap(
        line,
        80,
        subsequent_indent="    " if line.startswith("  ") else "  ",
        break_on_hyphens=False,
    )
