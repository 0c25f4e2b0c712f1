"""Polyphase FFT correlation against the naive loop and SciPy's full result, strided after."""

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

from convcli.engine.direct import correlate_naive
from convcli.engine.spectral import polyphase_valid


@given(
    st.integers(1, 120),
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(1, 2),
    st.booleans(),
    st.booleans(),
    st.sampled_from([np.float64, np.float32]),
    st.integers(0, 2**32 - 1),
)
def test_polyphase_keeps_every_sth_valid_output(
    n, k, s, channels, own_kernels, single_block, dtype, seed
):
    if k > n:
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, channels)).astype(dtype)
    w = rng.normal(size=(k, channels if own_kernels else 1)).astype(dtype)
    got = polyphase_valid(x, w, s, single_block)
    naive = correlate_naive(x, w, 1, (s,), (1,))
    tolerance = 1e-3 if dtype == np.float32 else 1e-9
    assert got.dtype == dtype and got.shape == naive.shape
    np.testing.assert_allclose(got, naive, atol=tolerance * k)
    for c in range(channels):
        full = ss.correlate(x[:, c].astype(float), w[:, c if own_kernels else 0], "valid")
        np.testing.assert_allclose(got[:, c], full[::s], atol=tolerance * k)


@pytest.mark.parametrize("n,k,s", [(400_000, 255, 4), (300_000, 4095, 3), (70_000, 63, 5)])
def test_polyphase_overlap_add_over_many_batches_matches_scipy(n, k, s):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(n, 1)), rng.normal(size=(k, 1))
    expected = ss.correlate(x[:, 0], w[:, 0], "valid")[::s]
    np.testing.assert_allclose(polyphase_valid(x, w, s)[:, 0], expected, atol=1e-9)


def test_phases_that_dilation_leaves_empty_cost_nothing_and_stay_correct():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 1))
    w = np.zeros((31, 1))
    w[::2] = rng.normal(size=(16, 1))  # dilation 2: at stride 2 one phase is all zero
    expected = correlate_naive(x, w, 1, (2,), (1,))
    np.testing.assert_allclose(polyphase_valid(x, w, 2), expected, atol=1e-9)
