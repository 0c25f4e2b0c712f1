"""Gradients of a convolution layer: dL/dx, dL/dw and dL/db for L = sum(DY * y).

The rules the seed tutorial reaches by drawing the 1-D convolution as a computational
graph, computed with the engine's own ``convolve`` and ``correlate``. In the correlation
form every layer slides ``wf`` (the kernel as it is with ``correlate=True``, flipped for
a convolution) over the padded input ``xp``: ``y[i] = sum_j xp[i*s + j*d] * wf[j] + b``.
Each ``xp[m]`` and ``wf[j]`` then receives ``DY[i]`` times its partner along every
edge of the graph, which sums to

- ``dL/dxp = full convolution of DY with wf`` (DY spread out with ``s - 1`` zeros
  between samples, ``wf``'s taps ``d`` apart), then ``dL/dx`` gathers the padding back
  onto the samples it copied (nothing for zeros, the edge sample for ``replicate``...);
- ``dL/dwf = valid correlation of xp with DY`` (DY's samples ``s`` apart, lags ``d`` apart),
  flipped back to ``dL/dw`` for a convolution;
- ``dL/db = sum of DY`` over the positions of each output channel.

:func:`convcli.gradsteps.grad_steps` writes the same sums edge by edge, and the tests
hold both against ``torch.autograd``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine import convolve, correlate
from .engine.padding import canonical_mode, pad_pairs
from .errors import DataError, ShapeError
from .geometry import axes, check_nonempty


@dataclass(frozen=True)
class Gradients:
    """dL/dx (the input's shape), dL/dw (the kernel's) and dL/db (one per filter, or None)."""

    dx: np.ndarray
    dw: np.ndarray
    db: np.ndarray | None = None

    def as_dict(self) -> dict:
        """``{"dx": ..., "dw": ..., "db": ...}`` as nested lists (``db`` None without a bias)."""
        return {
            "dx": self.dx.tolist(),
            "dw": self.dw.tolist(),
            "db": None if self.db is None else self.db.tolist(),
        }


@dataclass(frozen=True)
class Layer:
    """A convolution reduced to the correlation form the gradients are taken in.

    ``xc`` is the input as (*n, C); ``wf`` the slid kernel, (K, C, *k) for a bank or
    (*k) / (*k, C) otherwise; ``kind`` says how output channels use input channels:
    ``shared`` (one kernel filters every channel), ``per-channel`` (column c filters
    channel c) or ``bank`` (every filter sums over every channel).
    """

    xc: np.ndarray
    wf: np.ndarray
    kind: str
    geometry: tuple
    pad_mode: str
    pad_value: float
    repeated: bool = False  # a mono input copied once per kernel column

    @property
    def pairs(self) -> list:
        return [(ax.before, ax.after) for ax in self.geometry]

    @property
    def out_channels(self) -> int:
        return self.wf.shape[0] if self.kind == "bank" else self.xc.shape[-1]

    def taps(self, f: int, c: int) -> np.ndarray:
        """The slid kernel that output channel ``f`` applies to input channel ``c``: (*k)."""
        if self.kind == "bank":
            return self.wf[f, c]
        return self.wf if self.kind == "shared" else self.wf[..., c]

    def uses(self, f: int) -> range:
        """The input channels output channel ``f`` sums over."""
        return range(self.xc.shape[-1]) if self.kind == "bank" else range(f, f + 1)


def layer(
    x,
    w,
    *,
    ndim: int,
    mode=None,
    pad=None,
    pad_mode="zeros",
    pad_value=0.0,
    stride=1,
    dilation=1,
    correlate=False,
    layout="oihw",
) -> Layer:
    """The :class:`Layer` of a convolution given as the engine's arguments."""
    x, w = _real(x, "input"), _real(w, "kernel")
    bank = w.ndim == 4
    if bank and layout == "hwio":
        w = w.transpose(3, 2, 0, 1)  # (kh, kw, C, K) -> (K, C, kh, kw)
    spatial = tuple(range(2, 4)) if bank else tuple(range(ndim))
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
    xc = x.reshape(x.shape[:ndim] + (-1,))  # (*n, C)
    kind, repeated = ("bank" if bank else "shared" if w.ndim == ndim else "per-channel"), False
    if kind == "per-channel":
        w = w.reshape(w.shape[:ndim] + (-1,))  # (*k, C)
        if xc.shape[-1] == 1 and w.shape[-1] > 1:  # mono through a stereo kernel
            xc, repeated = np.repeat(xc, w.shape[-1], axis=-1), True
        if w.shape[-1] != xc.shape[-1]:
            raise ShapeError(
                f"the kernel has {w.shape[-1]} channel(s) but the input has {xc.shape[-1]}"
            )
    if bank and w.shape[1] != xc.shape[-1]:
        raise ShapeError(
            f"the filter bank expects {w.shape[1]} input channel(s) but the input "
            f"has {xc.shape[-1]}"
        )
    wf = w if correlate else np.flip(w, spatial)
    return Layer(xc, wf, kind, tuple(geometry), canonical_mode(pad_mode), pad_value, repeated)


def _real(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind == "c":
        raise DataError(f"--grad takes real numbers; the {what} is complex")
    return a.astype(np.int64) if a.dtype.kind in "biu" else a.astype(np.float64)


def forward(lay: Layer, bias=None) -> np.ndarray:
    """The layer's output as (*out, F), by the same sums the gradients differentiate."""
    xp = pad_pairs(lay.xc, lay.pairs, lay.pad_mode, lay.pad_value)
    nd = len(lay.geometry)
    outs = []
    for f in range(lay.out_channels):
        y = sum(
            correlate(
                xp[..., c],
                lay.taps(f, c),
                "valid",
                ndim=nd,
                stride=[ax.stride for ax in lay.geometry],
                dilation=[ax.dilation for ax in lay.geometry],
            )
            for c in lay.uses(f)
        )
        outs.append(y if bias is None else y + bias[f])
    return np.stack(outs, axis=-1)  # (*out, F)


def _spread(dy: np.ndarray, geometry) -> np.ndarray:
    """DY with ``s - 1`` zeros between samples on each axis (what stride skipped)."""
    shape = [(ax.length - 1) * ax.stride + 1 for ax in geometry]
    up = np.zeros(shape, dy.dtype)
    up[tuple(slice(None, None, ax.stride) for ax in geometry)] = dy
    return up


def input_grad_padded(dy: np.ndarray, wf: np.ndarray, geometry) -> np.ndarray:
    """dL/dxp for one channel pair: the full convolution of spread DY with ``wf``, (*span)."""
    full = convolve(
        _spread(dy, geometry),
        wf,
        "full",
        ndim=len(geometry),
        dilation=[ax.dilation for ax in geometry],
    )
    out = np.zeros([ax.span for ax in geometry], full.dtype)
    out[tuple(slice(0, n) for n in full.shape)] = full  # the uncovered tail gets nothing
    return out


def kernel_grad(xp: np.ndarray, dy: np.ndarray, geometry) -> np.ndarray:
    """dL/dwf for one channel pair: the valid correlation of ``xp`` with DY, (*k)."""
    lags = correlate(
        xp,
        dy,
        "valid",
        ndim=len(geometry),
        dilation=[ax.stride for ax in geometry],
        stride=[ax.dilation for ax in geometry],
    )
    return lags[tuple(slice(0, ax.k) for ax in geometry)]


def unpad(dxp: np.ndarray, lay: Layer) -> np.ndarray:
    """Fold dL/dxp (*span, C) back onto the input (*n, C): each padded sample's copy adds in."""
    n = tuple(ax.n for ax in lay.geometry)
    if lay.pad_mode in ("zeros", "constant"):  # padding holds constants: no edge reaches x
        return dxp[tuple(slice(ax.before, ax.before + ax.n) for ax in lay.geometry)]
    source = pad_pairs(np.arange(math.prod(n)).reshape(n), lay.pairs, lay.pad_mode)
    dx = np.zeros((math.prod(n), dxp.shape[-1]), dxp.dtype)
    np.add.at(dx, source.ravel(), dxp.reshape(-1, dxp.shape[-1]))
    return dx.reshape(n + (dxp.shape[-1],))


def conv_grad(
    x,
    w,
    dy,
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
) -> Gradients:
    """The gradients of ``L = sum(dy * y)`` for ``y`` the convolution of ``x`` with ``w``.

    Parameters
    ----------
    x : array_like of shape (n_0, ..., n_{ndim-1}, *channels)
        The input as :func:`convcli.convolve` takes it.
    w : array_like of shape (k_0, ..., k_{ndim-1}[, channels]) or (K, C, kh, kw)
        The kernel, or a filter bank (``layout='hwio'``: (kh, kw, C, K)).
    dy : array_like
        dL/dy, of the output's shape (or any shape with as many numbers, read in
        row-major order).
    ndim, mode, pad, pad_mode, pad_value, stride, dilation, correlate, bias, layout
        As in :func:`convcli.convolve`.

    Returns
    -------
    Gradients
        ``dx`` of ``x``'s shape, ``dw`` of ``w``'s, ``db`` of shape (K,) when a bias
        is given (else None). int64 where every number is an integer, else float64.

    Raises
    ------
    ShapeError
        When ``dy`` does not have as many numbers as the output.

    Examples
    --------
    >>> g = conv_grad([0, 1, 2, 3, 4], [1, -1, 2], [1, 1, 1], ndim=1, mode='valid')
    >>> g.dx.tolist(), g.dw.tolist()
    ([2, 1, 2, 0, 1], [9, 6, 3])
    """
    x = np.asarray(x)
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
    dyc = _as_output(dy, out)  # (*out, F)
    xp = pad_pairs(lay.xc, lay.pairs, lay.pad_mode, lay.pad_value)
    dxp = np.zeros(xp.shape, np.result_type(dyc, lay.wf))
    dwf = np.zeros(lay.wf.shape, np.result_type(dyc, xp))
    for f in range(lay.out_channels):
        for c in lay.uses(f):
            dxp[..., c] += input_grad_padded(dyc[..., f], lay.taps(f, c), lay.geometry)
            grad = kernel_grad(xp[..., c], dyc[..., f], lay.geometry)
            _add_kernel_grad(dwf, grad, lay.kind, f, c)
    dx = unpad(dxp, lay)
    if lay.repeated:
        dx = dx.sum(axis=-1, keepdims=True)  # the copies of the mono input add up
    return Gradients(
        dx.reshape(x.shape),
        _unslide(dwf, lay, correlate, np.shape(w), layout),
        None if bias is None else dyc.reshape(-1, out[-1]).sum(axis=0),
    )


def _as_output(dy, out: tuple) -> np.ndarray:
    dy = _real(dy, "DY")
    if dy.size != math.prod(out):
        raise ShapeError(
            f"DY has {dy.size} number(s) but the output is "
            f"{'x'.join(map(str, _shown(out)))} ({math.prod(out)} numbers)"
        )
    return dy.reshape(out)


def _shown(out: tuple) -> tuple:
    return out[:-1] if out[-1] == 1 else out


def _add_kernel_grad(dwf, grad, kind, f, c) -> None:
    if kind == "bank":
        dwf[f, c] += grad
    elif kind == "shared":
        dwf += grad  # one kernel filters every channel: its gradient sums over them
    else:
        dwf[..., c] += grad


def _unslide(dwf, lay: Layer, correlate: bool, shape: tuple, layout: str) -> np.ndarray:
    """dL/dwf back in the kernel's own orientation, layout and shape."""
    spatial = tuple(range(2, 4)) if lay.kind == "bank" else tuple(range(len(lay.geometry)))
    dw = dwf if correlate else np.flip(dwf, spatial)
    if lay.kind == "bank" and layout == "hwio":
        dw = dw.transpose(2, 3, 1, 0)  # (K, C, kh, kw) -> (kh, kw, C, K)
    return np.ascontiguousarray(dw).reshape(shape)
