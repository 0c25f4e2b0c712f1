"""Pooling: the fast kernel against its naive twin and against torch.nn.functional."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.engine.pool import pool, pool_naive
from convcli.errors import ShapeError
from convcli.geometry import pool_length

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_pool(x, ndim, k, s, p, ceil, op):
    """PyTorch's answer for (n_0, .., n_{nd-1}, C) data: channels first, one batch."""
    t = torch.tensor(np.moveaxis(x, -1, 0)[None], dtype=torch.float64)  # (1, C, *spatial)
    fn = {
        (1, "max"): F.max_pool1d,
        (2, "max"): F.max_pool2d,
        (1, "avg"): F.avg_pool1d,
        (2, "avg"): F.avg_pool2d,
    }[(ndim, op)]
    y = fn(t, k, s, p, ceil_mode=ceil)
    return np.moveaxis(y[0].numpy(), 0, -1)


@st.composite
def cases(draw, ndim):
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2))
    shape = tuple(draw(st.integers(max(1, k - 2 * p), 9)) for _ in range(ndim))
    channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).integers(-9, 10, shape + (channels,)).astype(float)
    return x, k, s, p, draw(st.booleans()), draw(st.sampled_from(["max", "avg"]))


@pytest.mark.parametrize("ndim", [1, 2])
@given(data=st.data())
def test_pooling_matches_torch_and_the_naive_loops(ndim, data):
    x, k, s, p, ceil, op = data.draw(cases(ndim))
    expected = _torch_pool(x, ndim, k, s, p, ceil, op)
    fast = pool(x, k, stride=s, pad=p, ceil=ceil, op=op, ndim=ndim)
    np.testing.assert_allclose(fast, expected, atol=1e-12)
    np.testing.assert_allclose(
        pool_naive(x, k, stride=s, pad=p, ceil=ceil, op=op, ndim=ndim), expected, atol=1e-12
    )
    assert fast.shape[:ndim] == tuple(pool_length(n, k, s, p, 1, ceil) for n in x.shape[:ndim])


def test_rectangular_windows_and_strides_per_axis():
    x = np.arange(42.0).reshape(6, 7, 1)
    expected = np.moveaxis(
        F.max_pool2d(torch.tensor(x[None, None, :, :, 0]), (2, 3), (1, 2), (1, 1)).numpy()[0], 0, -1
    )
    np.testing.assert_array_equal(pool(x, (2, 3), stride=(1, 2), pad=(1, 1), ndim=2), expected)


def test_max_keeps_integers_and_avg_counts_padding():
    assert pool([1, 3, 2, 5, 4], 2).tolist() == [3, 5]
    assert pool(np.array([1, 3, 2, 5, 4]), 2).dtype == np.int64
    assert pool([1, 3, 2, 5, 4], 2, pad=1, op="avg").tolist() == [0.5, 2.5, 4.5]


def test_a_window_longer_than_the_input_is_an_error():
    with pytest.raises(ShapeError, match="empty result"):
        pool([1, 2], 3)


def test_padding_over_half_the_window_is_refused():
    with pytest.raises(ValueError, match="at most half"):
        pool([1, 2, 3, 4], 2, pad=2)
