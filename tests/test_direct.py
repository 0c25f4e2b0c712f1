"""Direct 1-D correlation, polyphase with short pieces, against the naive loop."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from convcli.engine.direct import correlate_direct, correlate_naive, split_phases


@given(
    st.integers(1, 300),
    st.integers(1, 120),
    st.integers(1, 7),
    st.integers(1, 2),
    st.sampled_from([np.float64, np.float32, np.int64]),
    st.integers(0, 2**32 - 1),
)
def test_strided_1d_sums_phases_in_short_pieces_like_the_naive_loop(n, k, s, channels, dtype, seed):
    if k > n:
        return
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, channels)) * 20).astype(dtype)
    w = (rng.normal(size=(k,)) * 20).astype(dtype)
    got = correlate_direct(x, w, 1, (s,), (1,))
    expected = correlate_naive(x, w, 1, (s,), (1,))
    if dtype == np.int64:
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-2 * k)


def test_split_phases_interleaves_and_zero_fills_the_end():
    phases = split_phases(np.arange(7.0), 3, 3)
    np.testing.assert_array_equal(phases, [[0, 3, 6], [1, 4, 0], [2, 5, 0]])
