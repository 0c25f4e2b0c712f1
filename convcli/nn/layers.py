"""CNN layers with forward and backward passes, float32, images as (B, H, W, C).

Every layer keeps what its backward pass needs from the last forward pass;
``params`` and ``grads`` are parallel lists that the optimizers update in place.
Convolution is the engine's filter-bank code: one convolution in the project.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine.bank import bank_backward, bank_forward

DTYPE = np.float32


class Layer:
    """A layer without parameters; subclasses override what they need."""

    params: list = []
    grads: list = []
    regularized: tuple = ()  # indices of params that L2 regularisation applies to

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Conv2D(Layer):
    """(B, H, W, C) -> (B, H', W', K) correlation with a (K, C, kh, kw) bank, He-initialised."""

    regularized = (0,)

    def __init__(self, c, k, kernel, stride=(1, 1), pad=(0, 0), dilation=(1, 1), rng=None):
        rng = rng or np.random.default_rng()
        fan_in = c * kernel[0] * kernel[1]
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(k, c) + tuple(kernel))
        self.params = [w.astype(DTYPE), np.zeros(k, DTYPE)]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.stride, self.dilation = tuple(stride), tuple(dilation)
        self.pairs = ((pad[0], pad[0]), (pad[1], pad[1]))
        self.need_dx = True

    def forward(self, x, train):
        w, b = self.params
        y, self.cols = bank_forward(x, w, b, self.stride, self.pairs, self.dilation, keep_cols=True)
        self.x_shape = x.shape
        return y

    def backward(self, dy):
        dx, dw, db = bank_backward(
            dy,
            self.cols,
            self.x_shape,
            self.params[0],
            self.stride,
            self.pairs,
            self.dilation,
            need_dx=self.need_dx,
        )
        self.grads = [dw, db]
        return dx


class Dense(Layer):
    """(B, ...) flattened to (B, n_in) -> (B, n_out)."""

    regularized = (0,)

    def __init__(self, n_in, n_out, rng=None):
        rng = rng or np.random.default_rng()
        w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        self.params = [w.astype(DTYPE), np.zeros(n_out, DTYPE)]
        self.grads = [np.zeros_like(p) for p in self.params]

    def forward(self, x, train):
        self.x_shape = x.shape
        self.x = x.reshape(len(x), -1)  # (B, n_in)
        return self.x @ self.params[0] + self.params[1]

    def backward(self, dy):
        self.grads = [self.x.T @ dy, dy.sum(axis=0)]
        return (dy @ self.params[0].T).reshape(self.x_shape)


class Pool2D(Layer):
    """Max or average pooling with PyTorch's geometry (padding, ceil mode)."""

    def __init__(self, kind, kernel, stride=None, pad=(0, 0), ceil=False, out_hw=None):
        self.kind, self.k = kind, tuple(kernel)
        self.s = tuple(stride or kernel)
        self.p, self.out_hw = tuple(pad), out_hw

    def _simple(self, shape) -> bool:
        """Non-overlapping, unpadded windows that tile (B, H, W, C) exactly."""
        return (
            self.k == self.s
            and self.p == (0, 0)
            and shape[1] % self.k[0] == 0
            and shape[2] % self.k[1] == 0
        )

    def forward(self, x, train):
        self.x, self.x_shape = x, x.shape
        b, h, w, c = x.shape
        (kh, kw), (sh, sw) = self.k, self.s
        if self._simple(x.shape):  # non-overlapping windows: one strided view per tap, no copies
            views = [x[:, i::kh, j::kw] for i in range(kh) for j in range(kw)]  # (B, H', W', C)
            if self.kind == "avg":
                return sum(views[1:], views[0].copy()) / np.float32(kh * kw)
            y = views[0].copy()
            for v in views[1:]:
                np.maximum(y, v, out=y)
            self.y = y
            return y
        ho, wo = self.out_hw
        fill = -np.inf if self.kind == "max" else 0.0
        need_h, need_w = (ho - 1) * sh + kh, (wo - 1) * sw + kw
        xp = np.full((b, need_h, need_w, c), fill, dtype=x.dtype)
        top, left = self.p
        xp[:, top : top + h, left : left + w] = x[:, : need_h - top, : need_w - left]
        win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # (B,H',W',C,kh,kw)
        win = win.reshape(b, ho, wo, c, kh * kw)
        if self.kind == "avg":  # PyTorch counts padding, not the overhang of ceil mode
            inside = np.zeros((need_h, need_w), dtype=x.dtype)
            inside[: h + 2 * top, : w + 2 * left] = 1
            counts = sliding_window_view(inside, (kh, kw))[::sh, ::sw].sum(axis=(2, 3))
            self.divisor = counts[None, :, :, None]  # (1, H', W', 1)
            return win.sum(axis=-1) / self.divisor
        self.argmax = win.argmax(axis=-1)
        return np.take_along_axis(win, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        b, h, w, c = self.x_shape
        (kh, kw), (sh, sw) = self.k, self.s
        if self._simple(self.x_shape):
            dx = np.zeros(self.x_shape, dtype=dy.dtype)
            if self.kind == "avg":
                share = dy / np.float32(kh * kw)
                for i in range(kh):
                    for j in range(kw):
                        dx[:, i::kh, j::kw] = share
                return dx
            free = np.ones(dy.shape, dtype=bool)  # the first maximum of a window takes it all
            for i in range(kh):
                for j in range(kw):
                    hit = free & (self.x[:, i::kh, j::kw] == self.y)
                    dx[:, i::kh, j::kw] = dy * hit
                    free &= ~hit
            return dx
        _, ho, wo, _ = dy.shape
        dxp = np.zeros((b, (ho - 1) * sh + kh, (wo - 1) * sw + kw, c), dtype=dy.dtype)
        for i in range(kh):
            for j in range(kw):
                if self.kind == "max":
                    share = (self.argmax == i * kw + j) * dy
                else:
                    share = dy / self.divisor
                dxp[:, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw] += share
        top, left = self.p
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        rows, cols = min(h, dxp.shape[1] - top), min(w, dxp.shape[2] - left)
        dx[:, :rows, :cols] = dxp[:, top : top + rows, left : left + cols]
        return dx


class Dropout(Layer):
    """Inverted dropout: scaled at training time, the identity at evaluation."""

    def __init__(self, p=0.5, rng=None):
        self.p, self.rng = p, rng or np.random.default_rng()

    def forward(self, x, train):
        if not train or self.p == 0:
            self.mask = None
            return x
        self.mask = (self.rng.random(x.shape, dtype=np.float32) >= self.p) / DTYPE(1 - self.p)
        return x * self.mask

    def backward(self, dy):
        return dy if self.mask is None else dy * self.mask


class BatchNorm(Layer):
    """Per-channel normalisation over the batch (and the image axes), with running statistics."""

    def __init__(self, channels, momentum=0.1, eps=1e-5):
        self.params = [np.ones(channels, DTYPE), np.zeros(channels, DTYPE)]  # gamma, beta
        self.grads = [np.zeros_like(p) for p in self.params]
        self.running = [np.zeros(channels, DTYPE), np.ones(channels, DTYPE)]  # mean, var
        self.momentum, self.eps = momentum, eps

    def forward(self, x, train):
        axes = tuple(range(x.ndim - 1))
        if train:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            n = x.size // x.shape[-1]
            m = self.momentum
            self.running[0] = (1 - m) * self.running[0] + m * mean
            self.running[1] = (1 - m) * self.running[1] + m * var * n / max(n - 1, 1)
        else:
            mean, var = self.running
        self.inv = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv
        return self.xhat * self.params[0] + self.params[1]

    def backward(self, dy):
        axes = tuple(range(dy.ndim - 1))
        n = dy.size // dy.shape[-1]
        self.grads = [(dy * self.xhat).sum(axis=axes), dy.sum(axis=axes)]
        dxhat = dy * self.params[0]
        return (self.inv / n) * (
            n * dxhat - dxhat.sum(axis=axes) - self.xhat * (dxhat * self.xhat).sum(axis=axes)
        )


class ReLU(Layer):
    def forward(self, x, train):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class Tanh(Layer):
    def forward(self, x, train):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y**2)


class Sigmoid(Layer):
    def forward(self, x, train):
        self.y = 0.5 * (1 + np.tanh(0.5 * x))  # stable for large |x|
        return self.y

    def backward(self, dy):
        return dy * self.y * (1 - self.y)


class Flatten(Layer):
    def forward(self, x, train):
        self.x_shape = x.shape
        return x.reshape(len(x), -1)  # (B, H*W*C)

    def backward(self, dy):
        return dy.reshape(self.x_shape)
