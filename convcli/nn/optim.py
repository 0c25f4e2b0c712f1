"""Optimizers that update parameter arrays in place."""

from __future__ import annotations

import numpy as np


class SGD:
    """Stochastic gradient descent with (classical) momentum."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.velocity = lr, momentum, {}

    def step(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            v = self.velocity.get(i)
            v = -self.lr * g if v is None else self.momentum * v - self.lr * g
            self.velocity[i] = v
            p += v


class Adam:
    """Adam with bias correction (Kingma & Ba, 2015), its moments kept in the parameters' dtype."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        self.t += 1
        c1, c2 = 1 - self.b1**self.t, 1 - self.b2**self.t
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.m:
                self.m[i], self.v[i] = np.zeros_like(p), np.zeros_like(p)
            m, v = self.m[i], self.v[i]
            m *= self.b1  # in place: no new arrays per step
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * (g * g)
            step = np.sqrt(v / c2)
            step += self.eps
            np.divide(m, step, out=step)
            step *= self.lr / c1
            p -= step.astype(p.dtype, copy=False)


def make(name: str, lr: float | None, momentum: float):
    if name == "sgd":
        return SGD(lr if lr is not None else 0.02, momentum)
    return Adam(lr if lr is not None else 0.002)
