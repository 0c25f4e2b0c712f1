"""convcli's engine against scipy.signal and scipy.ndimage as oracles.

Hypothesis draws real and complex, integer and float operands of 0 to 3 dimensions and
holds every method, mode, pad mode, stride, dilation and filter bank against SciPy's
direct computations. Integers and Gaussian integers must match exactly; floats to
float64 rounding. The deliberate differences live in test_scipy_differences.py.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.engine import convolve, correlate

KINDS = ("int", "float", "complex", "gauss")
METHODS = ("auto", "direct", "fft")
FEW = settings(max_examples=int(os.environ.get("PARITY_EXAMPLES", 40)), deadline=None)


def _array(data, shape, kind):
    """An array of ``shape``: small integers, floats, complex floats or Gaussian integers."""
    size = int(np.prod(shape))
    ints = st.integers(-9, 9)
    floats = st.floats(-10, 10, allow_nan=False, width=64)
    part = ints if kind in ("int", "gauss") else floats
    values = np.array(data.draw(st.lists(part, min_size=size, max_size=size)), dtype=float)
    if kind in ("complex", "gauss"):
        imag = np.array(data.draw(st.lists(part, min_size=size, max_size=size)), dtype=float)
        values = values + 1j * imag
    if kind == "int":
        values = values.astype(np.int64)
    return values.reshape(shape)


def _shapes(data, nd, low=1, high=5):
    return tuple(data.draw(st.integers(low, high)) for _ in range(nd))


def _check(got, want, kind):
    got = np.asarray(got)
    assert got.shape == np.shape(want)
    if kind in ("int", "gauss"):
        np.testing.assert_array_equal(got, want)  # exact, whatever the method
        assert got.dtype.kind == ("i" if kind == "int" else "c")
    else:
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale)


@FEW
@given(st.data())
def test_convolve_and_correlate_match_scipy_signal_in_every_mode_and_method(data):
    nd = data.draw(st.integers(0, 3))
    kind = data.draw(st.sampled_from(KINDS))
    mode = data.draw(st.sampled_from(("full", "same", "valid")))
    method = data.draw(st.sampled_from(METHODS))
    xs = _shapes(data, nd, 1, 6)
    ws = tuple(data.draw(st.integers(1, n)) for n in xs) if mode == "valid" else _shapes(data, nd)
    x, w = _array(data, xs, kind), _array(data, ws, kind)
    _check(convolve(x, w, mode, method=method), ss.convolve(x, w, mode, method="direct"), kind)
    # SciPy's correlate conjugates a complex kernel; convcli's slides it as it is
    want = ss.correlate(x, np.conj(w), mode, method="direct")
    _check(correlate(x, w, mode, method=method), want, kind)


@FEW
@given(st.data())
def test_fft_method_matches_fftconvolve_and_oaconvolve_on_long_signals(data):
    kind = data.draw(st.sampled_from(("float", "complex")))
    n = data.draw(st.integers(200, 3000))
    k = data.draw(st.integers(1, 60))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x, w = rng.normal(size=n), rng.normal(size=k)
    if kind == "complex":
        x, w = x + 1j * rng.normal(size=n), w - 2j * rng.normal(size=k)
    mode = data.draw(st.sampled_from(("full", "same", "valid")))
    for method in METHODS:
        got = convolve(x, w, mode, method=method)
        np.testing.assert_allclose(got, ss.fftconvolve(x, w, mode), atol=1e-9)
        np.testing.assert_allclose(got, ss.oaconvolve(x, w, mode), atol=1e-9)


@FEW
@given(st.data())
def test_2d_boundaries_match_convolve2d_fill_wrap_and_symm(data):
    kind = data.draw(st.sampled_from(KINDS))
    xs = _shapes(data, 2, 2, 7)
    ws = tuple(data.draw(st.integers(1, n)) for n in xs)  # SciPy's boundaries need k <= n
    x, w = _array(data, xs, kind), _array(data, ws, kind)
    mode = data.draw(st.sampled_from(("full", "same")))
    method = data.draw(st.sampled_from(METHODS))
    boundary, ours = data.draw(
        st.sampled_from([("fill", "constant"), ("wrap", "circular"), ("symm", "symmetric")])
    )
    value = data.draw(st.integers(-3, 3)) if boundary == "fill" else 0
    want = ss.convolve2d(x, w, mode, boundary=boundary, fillvalue=value)
    _check(convolve(x, w, mode, pad_mode=ours, pad_value=value, method=method), want, kind)
    if mode == "same" and any(k % 2 == 0 for k in ws):
        return  # correlate2d centres even kernels unlike signal.correlate (the differences)
    want = ss.correlate2d(x, np.conj(w), mode, boundary=boundary, fillvalue=value)
    _check(correlate(x, w, mode, pad_mode=ours, pad_value=value, method=method), want, kind)


NDIMAGE = {
    "constant": "constant",
    "replicate": "nearest",
    "symmetric": "reflect",
    "reflect": "mirror",
    "circular": "wrap",
}


@FEW
@given(st.data())
def test_every_pad_mode_matches_ndimage_in_same_mode_from_1d_to_3d(data):
    nd = data.draw(st.integers(1, 3))
    kind = data.draw(st.sampled_from(KINDS))
    xs = _shapes(data, nd, 2, 6)
    ws = tuple(2 * data.draw(st.integers(0, (n - 1) // 2)) + 1 for n in xs)  # odd: one centre
    x, w = _array(data, xs, kind), _array(data, ws, kind)
    pad_mode = data.draw(st.sampled_from(sorted(NDIMAGE)))
    value = data.draw(st.integers(-3, 3)) if pad_mode == "constant" else 0
    method = data.draw(st.sampled_from(METHODS))
    mode = NDIMAGE[pad_mode]
    want = ndi.convolve(x, w, mode=mode, cval=value)
    _check(convolve(x, w, "same", pad_mode=pad_mode, pad_value=value, method=method), want, kind)
    want = ndi.correlate(x, np.conj(w), mode=mode, cval=value)  # ndimage conjugates too
    _check(correlate(x, w, "same", pad_mode=pad_mode, pad_value=value, method=method), want, kind)


def _dilated(w, d):
    """The kernel with ``d - 1`` zeros between taps on every axis (atrous)."""
    out = np.zeros(tuple(dd * (k - 1) + 1 for k, dd in zip(w.shape, d)), w.dtype)
    out[tuple(slice(None, None, dd) for dd in d)] = w
    return out


@FEW
@given(st.data())
def test_stride_dilation_and_explicit_padding_match_scipy_valid_subsampled(data):
    nd = data.draw(st.integers(1, 2))
    kind = data.draw(st.sampled_from(KINDS))
    xs = _shapes(data, nd, 1, 12)
    ws = _shapes(data, nd, 1, 4)
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(data.draw(st.integers(0, 4)) for _ in range(nd))
    x, w = _array(data, xs, kind), _array(data, ws, kind)
    wd = _dilated(w, d)
    if any(n + 2 * pp < k for n, pp, k in zip(xs, p, wd.shape)):
        return  # no output: an error, not a result (test_scipy_differences)
    xp = np.pad(x, [(pp, pp) for pp in p])
    want = ss.convolve(xp, wd, "valid", method="direct")[tuple(slice(None, None, ss_) for ss_ in s)]
    for method in METHODS:
        got = convolve(x, w, pad=p if nd > 1 else p[0], stride=s, dilation=d, method=method)
        _check(got, want, kind)


@FEW
@given(st.data())
def test_one_kernel_filters_every_channel_and_columns_give_each_channel_its_own(data):
    kind = data.draw(st.sampled_from(KINDS))
    n, k, c = (
        data.draw(st.integers(1, 9)),
        data.draw(st.integers(1, 5)),
        data.draw(st.integers(1, 3)),
    )
    x = _array(data, (n, c), kind)
    w = _array(data, (k,), kind)
    wc = _array(data, (k, c), kind)
    method = data.draw(st.sampled_from(METHODS))
    want = np.stack([ss.convolve(x[:, i], w) for i in range(c)], axis=1)
    _check(convolve(x, w, method=method, ndim=1), want, kind)
    want = np.stack([ss.convolve(x[:, i], wc[:, i]) for i in range(c)], axis=1)
    _check(convolve(x, wc, method=method, ndim=1), want, kind)


@FEW
@given(st.data())
def test_filter_banks_sum_correlate2d_over_input_channels(data):
    kind = data.draw(st.sampled_from(KINDS))
    h, wd = data.draw(st.integers(2, 7)), data.draw(st.integers(2, 7))
    c, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, h)), data.draw(st.integers(1, wd))
    x = _array(data, (h, wd, c), kind)
    bank = _array(data, (k, c, kh, kw), kind)
    mode = data.draw(st.sampled_from(("full", "same", "valid")))
    got = correlate(x, bank, mode)
    want = np.stack(
        [
            sum(ss.correlate(x[:, :, j], np.conj(bank[f, j]), mode) for j in range(c))
            for f in range(k)
        ],
        axis=-1,
    )
    _check(got, want, kind)
    got = convolve(x, bank, mode)
    want = np.stack(
        [sum(ss.convolve(x[:, :, j], bank[f, j], mode) for j in range(c)) for f in range(k)],
        axis=-1,
    )
    _check(got, want, kind)


@pytest.mark.parametrize("method", METHODS)
def test_a_zero_d_pair_is_a_numpy_scalar_on_every_method(method):
    got = convolve(np.array(4967), np.array(3920), method=method)
    assert got == ss.convolve(np.array(4967), np.array(3920)) == 19470640
    assert isinstance(got, np.integer) and np.ndim(got) == 0
    got = convolve(np.array(2 + 1j), np.array(3 - 1j), method=method)
    assert got == 7 + 1j and isinstance(got, np.complexfloating)
