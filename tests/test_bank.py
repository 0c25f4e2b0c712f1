"""Filter banks (CNN layers) against torch.nn.functional.conv2d."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import convolve, correlate
from convcli.engine.bank import bank_backward, bank_forward, bank_naive
from convcli.errors import ShapeError

try:
    import torch

    F = torch.nn.functional
except ImportError:  # the naive twin still holds the fast bank without PyTorch
    torch = F = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle here")


@given(
    b=st.integers(1, 2),
    h=st.integers(3, 8),
    wd=st.integers(3, 8),
    c=st.integers(1, 3),
    k=st.integers(1, 3),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 2),
    seed=st.integers(0, 99),
)
def test_the_fast_bank_equals_its_naive_twin(b, h, wd, c, k, kh, kw, s, d, p, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, h, wd, c))
    w = rng.normal(size=(k, c, kh, kw))
    bias = rng.normal(size=k)
    pairs = ((p, p), (p, p))
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    if xp.shape[1] < d * (kh - 1) + 1 or xp.shape[2] < d * (kw - 1) + 1:
        return
    fast = bank_forward(x, w, bias, (s, s), pairs, (d, d))
    np.testing.assert_allclose(fast, bank_naive(xp, w, bias, (s, s), (d, d)), atol=1e-10)


def torch_conv(x, w, b, stride, padding, dilation):
    """x (H, W, C) -> (H', W', K) through PyTorch's NCHW."""
    t = F.conv2d(
        torch.tensor(x).permute(2, 0, 1)[None],
        torch.tensor(w),
        None if b is None else torch.tensor(b),
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    return t[0].permute(1, 2, 0).numpy()


@needs_torch
def test_the_seed_layer_5x5x3_two_filters_stride_2_pad_1_gives_3x3x2():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(5, 5, 3)).astype(float)
    w = rng.integers(-1, 2, size=(2, 3, 3, 3)).astype(float)
    y = correlate(x, w, pad=1, stride=2, bias=[1, 0])
    assert y.shape == (3, 3, 2)
    np.testing.assert_allclose(y, torch_conv(x, w, np.array([1.0, 0.0]), 2, 1, 1))


@needs_torch
@given(
    st.integers(3, 12),
    st.integers(3, 12),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 2),
    st.booleans(),
)
def test_banks_match_torch_conv2d(h, w_, c, k, kh, kw, pad, stride, dilate):
    rng = np.random.default_rng(h * 100 + w_)
    x = rng.normal(size=(h, w_, c))
    w = rng.normal(size=(k, c, kh, kw))
    b = rng.normal(size=k)
    d = 2 if dilate else 1
    if h + 2 * pad < d * (kh - 1) + 1 or w_ + 2 * pad < d * (kw - 1) + 1:
        return
    got = correlate(x, w, pad=pad, stride=stride, dilation=d, bias=b)
    np.testing.assert_allclose(got, torch_conv(x, w, b, stride, pad, d), atol=1e-9)


@needs_torch
def test_convolve_flips_each_filter_and_hwio_layout_reads_keras_order():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 8, 3))
    w = rng.normal(size=(4, 3, 3, 3))
    flipped = correlate(x, w[:, :, ::-1, ::-1].copy(), "same")
    np.testing.assert_allclose(convolve(x, w, "same"), flipped, atol=1e-12)
    hwio = w.transpose(2, 3, 1, 0)  # (kh, kw, C, K)
    np.testing.assert_allclose(
        correlate(x, hwio, "same", layout="hwio"), correlate(x, w, "same"), atol=1e-12
    )


def test_bank_channel_mismatch_and_bias_count_are_errors():
    with pytest.raises(ShapeError, match="expects 3 input channel"):
        correlate(np.ones((5, 5, 2)), np.ones((2, 3, 3, 3)))
    with pytest.raises(ShapeError, match="3 bias value"):
        correlate(np.ones((5, 5, 3)), np.ones((2, 3, 3, 3)), bias=[1, 2, 3])


@needs_torch
def test_backward_matches_torch_autograd():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 7, 6, 3))
    w = rng.normal(size=(4, 3, 3, 2))
    b = rng.normal(size=4)
    pairs, stride, dilation = ((1, 1), (0, 0)), (2, 1), (1, 2)
    y, cols = bank_forward(x, w, b, stride, pairs, dilation, keep_cols=True)
    dy = rng.normal(size=y.shape)
    dx, dw, db = bank_backward(dy, cols, x.shape, w, stride, pairs, dilation)

    tx = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ty = F.conv2d(tx, tw, tb, stride=stride, padding=(1, 0), dilation=dilation)
    np.testing.assert_allclose(y, ty.detach().numpy().transpose(0, 2, 3, 1), atol=1e-10)
    ty.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(dx, tx.grad.numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(db, tb.grad.numpy(), atol=1e-10)
