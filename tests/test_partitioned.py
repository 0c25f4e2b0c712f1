"""Overlap-save block by block against its naive twin, SciPy's full result and NumPy's FFT."""

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

from convcli.engine import partitioned
from convcli.engine.partitioned import OverlapSave, ols_size, overlap_save_naive


def _streamed(conv, x, pieces):
    """Push ``x`` in pieces of the given lengths (cycled), then flush."""
    parts, start, i = [], 0, 0
    while start < len(x):
        step = pieces[i % len(pieces)]
        parts.append(conv.push(x[start : start + step]))
        start, i = start + step, i + 1
    return np.concatenate(parts + [conv.flush()])


@given(
    st.integers(1, 400),
    st.integers(1, 90),
    st.integers(1, 3),
    st.booleans(),
    st.lists(st.integers(1, 150), min_size=1, max_size=4),
    st.integers(0, 3),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
def test_pushed_pieces_give_the_full_convolution(
    n, ke, channels, own_kernels, pieces, extra, workers, seed
):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, channels))
    w = rng.normal(size=(ke, channels if own_kernels else 1))
    size = ke + extra + 1 if extra else None  # tiny blocks (one frame and up) and the default
    conv = OverlapSave(w, channels, size=size, workers=workers)
    got = _streamed(conv, x, pieces)
    naive = overlap_save_naive(x, w, conv.block)
    assert got.shape == naive.shape == (n + ke - 1, channels)
    np.testing.assert_allclose(got, naive, atol=1e-10 * ke)
    for c in range(channels):
        expected = ss.fftconvolve(x[:, c], w[:, c if own_kernels else 0])
        np.testing.assert_allclose(got[:, c], expected, atol=1e-10 * ke)


def test_a_one_second_response_over_a_minute_matches_scipy_to_float64_rounding():
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, size=(44100 * 60, 2))
    w = rng.normal(size=(44100, 2)) * np.exp(-np.arange(44100) / 8000)[:, None]
    conv = OverlapSave(w, 2)
    assert conv.size == 3 << 16 and conv.workers >= 1
    got = _streamed(conv, x, [conv.block * 2, 65536, 1])
    expected = ss.oaconvolve(x, w, axes=0)
    assert np.abs(got - expected).max() < 1e-12 * np.abs(expected).max()


def test_numpy_stands_in_for_ducc0_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(5000, 2)), rng.normal(size=(300, 1))
    fast = _streamed(OverlapSave(w, 2), x, [777])
    monkeypatch.setattr(partitioned, "_ducc", lambda: None)
    fallback = OverlapSave(w, 2)
    assert fallback._fft is None
    np.testing.assert_allclose(_streamed(fallback, x, [777]), fast, atol=1e-12)


def test_float32_stays_float32():
    x = np.ones((1000, 1), np.float32)
    conv = OverlapSave(np.ones(10, np.float32), 1, np.float32)
    y = _streamed(conv, x, [100])
    assert y.dtype == np.float32 and y.shape == (1009, 1)
    np.testing.assert_allclose(y[9:1000, 0], 10, rtol=1e-5)


def test_a_transform_shorter_than_the_kernel_is_refused():
    with pytest.raises(ValueError, match="cannot hold 10 taps"):
        OverlapSave(np.ones(10), 1, size=8)


@pytest.mark.parametrize("ke", [1, 31, 301, 4096, 16385, 44100, 200_000])
def test_transform_sizes_are_fast_and_hold_the_kernel(ke):
    size = ols_size(ke)
    assert size >= 4 * ke and size >= 4096
    odd = size >> (size & -size).bit_length() - 1
    assert odd in (1, 3)


def test_a_failure_in_a_worker_thread_is_raised_in_the_caller(monkeypatch):
    conv = OverlapSave(np.ones(31), 1, size=64, workers=2)

    def failing(out, group, b0, b1):
        if group == 1:
            raise MemoryError("simulated")

    monkeypatch.setattr(conv, "_blocks", failing)
    with pytest.raises(MemoryError, match="simulated"):
        conv.push(np.zeros((500, 1)))
