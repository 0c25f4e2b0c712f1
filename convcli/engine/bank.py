"""CNN filter banks: im2col + one matrix product, forward and backward.

Layouts, fixed here once: images ``(B, H, W, C)``; filter banks ``(K, C, kh, kw)``
(PyTorch's OIHW); outputs ``(B, H', W', K)``. The kernels here *correlate* (as CNN
frameworks do); ``convolve`` flips them before calling.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..geometry import effective_length, valid_length
from .blas import one_thread
from .padding import pad_pairs


def im2col(xp: np.ndarray, kshape, stride, dilation) -> np.ndarray:
    """Patches of padded ``xp`` (B, Hp, Wp, C) as a matrix (B*H'*W', kh*kw*C)."""
    (kh, kw), (sh, sw), (dh, dw) = kshape, stride, dilation
    ke = (effective_length(kh, dh), effective_length(kw, dw))
    win = sliding_window_view(xp, ke, axis=(1, 2))  # (B, H'', W'', C, keh, kew)
    win = win[:, ::sh, ::sw, :, ::dh, ::dw]  # (B, H', W', C, kh, kw)
    b, ho, wo, c = win.shape[:4]
    if c == 1:  # one contiguous copy per tap, then a transposed view: 4x faster to gather
        taps = np.empty((kh, kw, b, ho, wo), dtype=xp.dtype)
        for i in range(kh):
            for j in range(kw):
                taps[i, j] = win[..., 0, i, j]
        return taps.reshape(kh * kw, b * ho * wo).T  # (B*H'*W', kh*kw), F-ordered
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(b * ho * wo, kh * kw * c)


def _matrix(w: np.ndarray) -> np.ndarray:
    """Filter bank (K, C, kh, kw) as the matrix (kh*kw*C, K) that im2col rows multiply."""
    k = w.shape[0]
    return w.transpose(2, 3, 1, 0).reshape(-1, k)  # (kh, kw, C, K) -> (kh*kw*C, K)


def bank_forward(
    x,
    w,
    bias=None,
    stride=(1, 1),
    pairs=((0, 0), (0, 0)),
    dilation=(1, 1),
    pad_mode="zeros",
    pad_value=0.0,
    keep_cols=False,
):
    """Correlate a batch of images with a filter bank.

    Parameters
    ----------
    x : ndarray of shape (B, H, W, C)
    w : ndarray of shape (K, C, kh, kw)
    bias : ndarray of shape (K,), optional
    stride, dilation : (int, int)
    pairs : ((top, bottom), (left, right)) padding
    keep_cols : bool
        Also return the im2col matrix, which the backward pass needs.

    Returns
    -------
    y : ndarray of shape (B, H', W', K)
    cols : ndarray of shape (B*H'*W', kh*kw*C), only with ``keep_cols``
    """
    xp = pad_pairs(x, ((0, 0),) + tuple(pairs), pad_mode, pad_value)
    b, hp, wp, _ = xp.shape
    kh, kw = w.shape[2:]
    ho = valid_length(hp, kh, stride[0], dilation[0])
    wo = valid_length(wp, kw, stride[1], dilation[1])
    cols = im2col(xp, (kh, kw), stride, dilation)
    with one_thread():
        y = cols @ _matrix(w).astype(np.result_type(cols, w), copy=False)  # (B*H'*W', K)
    if bias is not None:
        y += bias
    y = y.reshape(b, ho, wo, -1)  # (B, H', W', K)
    return (y, cols) if keep_cols else y


def bank_backward(
    dy, cols, x_shape, w, stride=(1, 1), pairs=((0, 0), (0, 0)), dilation=(1, 1), need_dx=True
):
    """Gradients of :func:`bank_forward` (zero padding) with respect to x, w and bias.

    Parameters
    ----------
    dy : ndarray of shape (B, H', W', K)
    cols : ndarray of shape (B*H'*W', kh*kw*C), as the forward pass returned it
    x_shape : (B, H, W, C)
    w : ndarray of shape (K, C, kh, kw)

    Returns
    -------
    dx : ndarray of shape (B, H, W, C), or None without ``need_dx`` (a first layer)
    dw : ndarray of shape (K, C, kh, kw)
    db : ndarray of shape (K,)
    """
    b, h, wd, c = x_shape
    k, _, kh, kw = w.shape
    _, ho, wo, _ = dy.shape
    dy2 = dy.reshape(-1, k)  # (M, K)
    with one_thread():
        dw = (cols.T @ dy2).reshape(kh, kw, c, k).transpose(3, 2, 0, 1)  # (K, C, kh, kw)
        db = np.ones(len(dy2), dy2.dtype) @ dy2  # a matrix-vector product: 20x a column sum
        if not need_dx:
            return None, dw, db
        taps = w.transpose(2, 3, 0, 1).reshape(kh * kw, k, c)  # (kh*kw, K, C)
        dcols = dy2 @ taps  # (kh*kw, M, C): one contiguous block per tap
    (top, bottom), (left, right) = pairs
    dxp = np.zeros((b, h + top + bottom, wd + left + right, c), dtype=dcols.dtype)
    (sh, sw), (dh, dwl) = stride, dilation
    for t in range(kh * kw):  # col2im: scatter each tap's gradient back onto the input
        i, j = divmod(t, kw)
        dxp[
            :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dwl : j * dwl + sw * (wo - 1) + 1 : sw
        ] += dcols[t].reshape(b, ho, wo, c)
    return dxp[:, top : top + h, left : left + wd], dw, db


def bank_naive(xp: np.ndarray, w: np.ndarray, bias=None, stride=(1, 1), dilation=(1, 1)):
    """Reference for :func:`bank_forward`: one output pixel and filter at a time. Tests only.

    ``xp`` is (B, Hp, Wp, C), already padded; returns (B, H', W', K) in float64.
    """
    b, hp, wp, c = xp.shape
    k, _, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    ho, wo = valid_length(hp, kh, sh, dh), valid_length(wp, kw, sw, dw)
    y = np.zeros((b, ho, wo, k))
    for n, i, j, f in np.ndindex(b, ho, wo, k):
        window = xp[
            n, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw
        ]  # (kh, kw, C)
        y[n, i, j, f] = np.sum(window * w[f].transpose(1, 2, 0))
    return y + (0 if bias is None else np.asarray(bias, dtype=float))
