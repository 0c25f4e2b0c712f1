"""Finite-difference gradient checks (float64) for every layer and loss."""

import numpy as np
import pytest

from convcli.nn import layers as L
from convcli.nn import losses

RNG = np.random.default_rng(0)


def numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        out[i] = (up - down) / (2 * eps)
    return grad


def check_layer(layer, x, reseed=None):
    """Compare backward() with finite differences of sum(forward * probe)."""
    layer.params = [p.astype(np.float64) for p in layer.params]
    probe = None

    def value():
        if reseed:
            reseed()
        y = layer.forward(x, train=True)
        return float((y * probe).sum())

    if reseed:
        reseed()
    y = layer.forward(x, train=True)
    probe = RNG.normal(size=y.shape)
    dx = layer.backward(probe.copy())
    if dx is not None:
        np.testing.assert_allclose(dx, numeric_gradient(value, x), rtol=1e-5, atol=1e-7)
    for p, g in zip(layer.params, layer.grads):
        np.testing.assert_allclose(g, numeric_gradient(value, p), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "stride,pad,dilation",
    [((1, 1), (0, 0), (1, 1)), ((2, 1), (1, 2), (1, 1)), ((1, 2), (1, 1), (2, 1))],
)
def test_conv2d(stride, pad, dilation):
    layer = L.Conv2D(3, 4, (3, 2), stride, pad, dilation, RNG)
    check_layer(layer, RNG.normal(size=(2, 6, 7, 3)))


def test_dense():
    check_layer(L.Dense(12, 5, RNG), RNG.normal(size=(3, 2, 2, 3)))


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "kernel,stride,pad,ceil,shape",
    [
        ((2, 2), None, (0, 0), False, (2, 6, 4, 3)),  # the reshape fast path
        ((3, 3), (2, 2), (1, 1), False, (2, 7, 6, 2)),
        ((2, 2), (2, 2), (0, 0), True, (1, 5, 5, 2)),  # ceil mode overhang
    ],
)
def test_pooling(kind, kernel, stride, pad, ceil, shape):
    from convcli.geometry import pool_length

    out = tuple(
        pool_length(shape[i + 1], kernel[i], (stride or kernel)[i], pad[i], 1, ceil)
        for i in range(2)
    )
    check_layer(L.Pool2D(kind, kernel, stride, pad, ceil, out), RNG.normal(size=shape))


def test_dropout_with_a_fixed_mask():
    layer = L.Dropout(0.4)

    def reseed():
        layer.rng = np.random.default_rng(5)

    check_layer(layer, RNG.normal(size=(4, 6)), reseed)


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 3, 2)])
def test_batchnorm(shape):
    check_layer(L.BatchNorm(shape[-1]), RNG.normal(size=shape))


@pytest.mark.parametrize("layer", [L.ReLU(), L.Tanh(), L.Sigmoid(), L.Flatten()])
def test_activations(layer):
    check_layer(layer, RNG.normal(size=(3, 2, 2, 2)) + 0.05)


@pytest.mark.parametrize("name", ["softmax", "svm", "mse"])
def test_losses(name):
    scores = RNG.normal(size=(6, 5)) * 2
    labels = RNG.integers(0, 5, size=6)
    fn = losses.LOSSES[name]
    _, grad = fn(scores, labels)
    np.testing.assert_allclose(
        grad, numeric_gradient(lambda: fn(scores, labels)[0], scores), rtol=1e-5, atol=1e-7
    )


def test_softmax_is_stable_for_huge_scores():
    loss, grad = losses.softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([0]))
    assert loss == pytest.approx(0.0) and np.isfinite(grad).all()


def test_l2_penalty_is_half_lambda_w_squared():
    layer = L.Dense(3, 2, RNG)
    layer.params = [p.astype(np.float64) for p in layer.params]
    layer.grads = [np.zeros_like(p) for p in layer.params]
    w = layer.params[0]
    assert losses.l2_penalty([layer], 0.1) == pytest.approx(0.05 * (w**2).sum())
    np.testing.assert_allclose(layer.grads[0], 0.1 * w)
    assert not layer.grads[1].any()  # biases are not regularised


def test_adam_bias_correction_makes_the_first_step_lr_sized():
    from convcli.nn.optim import SGD, Adam

    p = np.array([1.0, -1.0])
    Adam(lr=0.1).step([p], [np.array([0.001, -5.0])])
    np.testing.assert_allclose(p, [0.9, -0.9], atol=1e-4)
    q = np.array([1.0])
    opt = SGD(lr=0.1, momentum=0.5)
    opt.step([q], [np.array([1.0])])
    opt.step([q], [np.array([1.0])])
    np.testing.assert_allclose(q, [1 - 0.1 - 0.15])
