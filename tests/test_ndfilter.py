"""Separable kernels through ndimage: fast against naive against scipy.signal."""

import numpy as np
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

from convcli import convolve, correlate
from convcli.engine import ndfilter
from convcli.geometry import axes, mode_padding

PAD_MODES = ["zeros", "constant", "replicate", "symmetric", "reflect", "circular"]


@given(
    h=st.integers(3, 12),
    w=st.integers(3, 12),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    mode=st.sampled_from(["same", "valid"]),
    pad_mode=st.sampled_from(PAD_MODES),
    channels=st.integers(0, 2),
    seed=st.integers(0, 999),
)
def test_two_passes_equal_the_naive_sum(h, w, kh, kw, mode, pad_mode, channels, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(h, w) + ((channels,) if channels else ()))
    u, v = rng.normal(size=kh), rng.normal(size=kw)
    geometry = axes((h, w), (kh, kw), mode)
    if not ndfilter.applies(geometry, pad_mode):
        return
    fast = ndfilter.correlate_separable(x, (u, v), geometry, pad_mode, 0.5)
    naive = ndfilter.correlate_separable_naive(x, (u, v), geometry, pad_mode, 0.5)
    np.testing.assert_allclose(fast, naive, atol=1e-10)


@given(
    h=st.integers(5, 30),
    w=st.integers(5, 30),
    k=st.integers(1, 5),
    seed=st.integers(0, 99),
    mode=st.sampled_from(["same", "valid"]),
)
def test_the_engine_takes_this_route_and_matches_scipy(h, w, k, seed, mode):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(h, w))
    if mode == "valid" and k + 1 > min(h, w):
        return
    kernel = np.outer(rng.normal(size=k), rng.normal(size=k + 1))
    np.testing.assert_allclose(
        convolve(x, kernel, mode, method="direct"), ss.convolve(x, kernel, mode), atol=1e-10
    )
    np.testing.assert_allclose(
        correlate(x, kernel, mode, method="direct"), ss.correlate(x, kernel, mode), atol=1e-10
    )


def test_explicit_padding_within_the_kernel_reach_applies():
    geometry = axes((10, 10), (5, 5), None, pad=2)
    assert ndfilter.applies(geometry, "zeros")
    assert not ndfilter.applies(axes((10, 10), (5, 5), "full"), "zeros")
    assert not ndfilter.applies(axes((10, 10), (3, 3), "same", stride=2), "zeros")
    assert mode_padding(5, "same") == (2, 2)


def test_float32_images_stay_float32():
    x = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    y = convolve(x, np.full((5, 5), 1 / 25, np.float32), "same", ndim=2)
    assert y.dtype == np.float32 and y.shape == x.shape
