"""convcli.gradsteps: the graph's sums add up to the engine's gradients, and read as the rule."""

import re

import numpy as np
import pytest

from convcli.errors import ShapeError
from convcli.grad import conv_grad
from convcli.gradsteps import grad_steps


def _totals(text, name):
    """{index: total} of the lines ``dL/d<name>[i,j] = ... = total``, wrapped lines joined."""
    joined = re.sub(r"\n {6}", " ", text)
    found = {}
    for index, total in re.findall(rf"^dL/d{name}\[([\d,]+)\] = .*= (\S+)$", joined, re.M):
        found[tuple(int(i) for i in index.split(","))] = float(total)
    for index in re.findall(rf"^dL/d{name}\[([\d,]+)\] = 0 \(no edge reaches it\)$", joined, re.M):
        found[tuple(int(i) for i in index.split(","))] = 0.0
    return found


def _held(text, g, x_shape, w_shape):
    dx, dw = np.zeros(x_shape), np.zeros(w_shape)
    for index, total in _totals(text, "x").items():
        dx[index] = total
    for index, total in _totals(text, "w").items():
        dw[index] = total
    np.testing.assert_allclose(dx, g.dx.reshape(x_shape))
    np.testing.assert_allclose(dw, g.dw.reshape(w_shape))


@pytest.mark.parametrize(
    "options",
    [
        dict(mode="full"),
        dict(mode="valid"),
        dict(pad=1, stride=2),
        dict(mode="same", dilation=2),
        dict(pad=(2, 1), pad_mode="replicate"),
        dict(pad=2, pad_mode="circular", stride=3),
    ],
    ids=str,
)
@pytest.mark.parametrize("correlate", [False, True])
def test_the_1d_graph_sums_to_the_gradients(options, correlate):
    x, w = [0, 1, 2, 3, 4], [1, -1, 2]
    dy = np.arange(1, _length(x, w, options) + 1)
    g = conv_grad(x, w, dy, ndim=1, correlate=correlate, **options)
    text = grad_steps(x, w, dy, ndim=1, correlate=correlate, **options)
    _held(text, g, (5,), (3,))
    assert max(len(line) for line in text.splitlines()) <= 80


def _length(x, w, options):
    from convcli import convolve

    return len(convolve(x, w, **options))


def test_the_tutorial_example_names_the_rule_and_the_flip():
    text = grad_steps([0, 1, 2, 3, 4], [1, -1, 2], np.ones(7), ndim=1, mode="full")
    assert "y[0] = x[0]*w[0] = 0*1 = 0" in text
    assert "dL/dx = the full convolution of DY with the flipped kernel" in text
    assert "the valid correlation of x with DY, reversed" in re.sub(r"\n\s+", " ", text)
    text = grad_steps([0, 1, 2, 3, 4], [1, -1, 2], np.ones(3), ndim=1, mode="valid", correlate=True)
    assert "y[0] = x[0]*w[0] + x[1]*w[1] + x[2]*w[2]" in text
    assert "dL/dx = the full convolution of DY with w" in text
    assert "not flipped" in text


def test_stride_and_dilation_are_named_in_the_rule():
    text = grad_steps(np.arange(9), [1, 2], np.ones(3), ndim=1, mode="valid", stride=3, dilation=2)
    flat = re.sub(r"\n\s+", " ", text)
    assert "stride 3: DY is spread out with 2 zero(s) between its samples" in flat
    assert "dilation 2" in flat


def test_the_2d_graph_of_a_filter_bank_sums_to_the_gradients_and_the_bias(samples):
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    dy = np.arange(18).reshape(3, 3, 2) % 5 - 2
    for correlate in (False, True):
        g = conv_grad(x, w, dy, ndim=2, pad=1, stride=2, correlate=correlate, bias=[1, 0])
        text = grad_steps(x, w, dy, ndim=2, pad=1, stride=2, correlate=correlate, bias=[1, 0])
        _held(text, g, x.shape, w.shape)
        db = [
            float(v)
            for v in re.findall(r"^dL/db\[\d\] = .*= (\S+)$", re.sub(r"\n {6}", " ", text), re.M)
        ]
        assert db == g.db.tolist()
        assert "filter bank: dL/dx[..,c] sums over the filters" in re.sub(r"\n\s+", " ", text)


def test_a_2d_matrix_with_reflect_padding_sums_to_the_gradients():
    x = np.arange(20).reshape(4, 5) % 7 - 3
    w = np.array([[1, 2], [0, -1], [3, 1]])
    dy = np.ones((4, 3))
    g = conv_grad(x, w, dy, ndim=2, pad=(1, 1, 0, 1), pad_mode="reflect", stride=(1, 2))
    text = grad_steps(x, w, dy, ndim=2, pad=(1, 1, 0, 1), pad_mode="reflect", stride=(1, 2))
    _held(text, g, x.shape, w.shape)
    assert "reflect padding copies x" in re.sub(r"\n\s+", " ", text)


def test_too_many_edges_is_an_error_that_says_so():
    with pytest.raises(ShapeError, match=r"^--steps --grad draws at most 1000 edges"):
        grad_steps(np.ones((8, 8)), np.ones((5, 5)), np.ones((8, 8)), ndim=2, mode="same")
