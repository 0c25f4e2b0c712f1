"""Numbers the engine must never get silently wrong: int64 limits, NaN/inf, pad values.

- Integer results are exact, or (when they could leave int64) float64 with a warning:
  never wrapped. Held by Hypothesis over integers up to and beyond int64.
- NaN and infinity give one result on every method (convcli.engine.nonfinite's rule),
  held by a property across methods against the naive twin.
- ``pad_value`` is one finite real number, or one clear error.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.engine import convolve, correlate, pad
from convcli.engine.direct import correlate_naive
from convcli.errors import ConvcliError, DataError

METHODS = ("auto", "direct", "fft")
BIG = st.integers(-(2**63), 2**63 - 1) | st.integers(-(2**31), 2**31) | st.integers(-9, 9)


def _exact(x, w):
    """The full convolution in Python integers."""
    y = [0] * (len(x) + len(w) - 1)
    for i, a in enumerate(x):
        for j, b in enumerate(w):
            y[i + j] += a * b
    return y


@settings(max_examples=60, deadline=None)
@given(
    st.lists(BIG, min_size=1, max_size=12),
    st.lists(BIG, min_size=1, max_size=5),
    st.sampled_from(METHODS),
)
def test_integer_results_are_exact_or_float64_with_a_warning_never_wrapped(x, w, method):
    from convcli import messages

    warned = []
    real_warning, messages.warning = messages.warning, warned.append
    try:
        got = convolve(np.array(x, np.int64), np.array(w, np.int64), method=method)
    finally:
        messages.warning = real_warning
    exact = _exact(x, w)
    if got.dtype == np.int64:
        assert got.tolist() == exact and not warned
    else:
        assert got.dtype == np.float64 and warned and "int64" in warned[0]
        assert any(abs(v) >= 2**63 for v in exact) or max(map(abs, x)) * sum(map(abs, w)) >= 2**62
        np.testing.assert_allclose(got, np.array(exact, dtype=float), rtol=1e-12, atol=1e3)
        assert all(np.sign(g) == np.sign(e) for g, e in zip(got, exact) if abs(e) > 2**20)


def test_the_issue_s_example_prints_no_negative_number(cli):
    result = cli("conv1d", "-", "-k", "1,1", input="9223372036854775807 1")
    values = [float(v) for v in result.stdout.split()]
    assert values[0] > 0 and values[1] == pytest.approx(2**63) and values[2] == 1
    assert "Warning:" in result.stderr and "int64" in result.stderr


@pytest.mark.parametrize("value", [1e19, 2**70, -(2**64), 9.3e18])
def test_pad_with_a_constant_beyond_int64_pads_as_float_never_wrapped(value, capsys):
    got = pad(np.array([1, 2], np.int64), 1, "constant", value)
    assert got.dtype == np.float64 and got[0] == float(value) and got[1:3].tolist() == [1, 2]
    assert "int64" in capsys.readouterr().err
    y = convolve([1, 2], [1, 1], "same", pad_mode="constant", pad_value=value)
    assert np.sign(y[0]) == np.sign(value)  # the padding before, plus x[0]


def test_pad_with_a_value_beyond_uint8_widens_instead_of_wrapping():
    got = pad(np.array([1, 2], np.uint8), 1, "constant", 300)
    assert got.tolist() == [300, 1, 2, 300]


def test_cli_pad_with_a_huge_value_on_integers(cli):
    out = cli("pad", "-", "--size", "1", "--mode", "constant", "--value", "1e19", input="1 2")
    assert [float(v) for v in out.stdout.split()] == [1e19, 1, 2, 1e19]


def test_unsigned_and_python_integers_beyond_int64_become_floats(capsys):
    got = convolve(np.array([2**64 - 1], np.uint64), [1])
    assert got.dtype == np.float64 and got[0] == 2.0**64
    got = convolve(np.array([2**70, 1], dtype=object), [1])
    assert got[0] == 2.0**70
    assert "beyond int64" in capsys.readouterr().err


# --- NaN and infinity --------------------------------------------------------------------


def _by_rule(x, w, pad_width, pad_mode, stride, dilation, flip=True):
    """The documented rule, computed independently: naive windows over nonzero taps only."""
    xp = pad(x, pad_width, pad_mode)
    wf = w[::-1] if flip else w
    taps = np.flatnonzero(wf)
    ke = dilation * (len(wf) - 1) + 1
    out = (len(xp) - ke) // stride + 1
    y = np.zeros(out)
    for i in range(out):
        for j in taps:
            y[i] += xp[i * stride + j * dilation] * wf[j]
    return y


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_non_finite_values_give_the_same_result_on_every_method(data):
    n = data.draw(st.integers(1, 400))
    k = data.draw(st.integers(1, 30))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.normal(size=n)
    w = rng.normal(size=k) * (rng.random(k) > 0.3)  # some zero taps
    for _ in range(data.draw(st.integers(1, 3))):
        x[data.draw(st.integers(0, n - 1))] = data.draw(st.sampled_from([np.inf, -np.inf, np.nan]))
    if data.draw(st.booleans()):
        w[data.draw(st.integers(0, k - 1))] = np.inf
    p = data.draw(st.integers(0, 5))
    pad_mode = data.draw(st.sampled_from(("zeros", "replicate", "symmetric", "circular")))
    s, d = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    if n + 2 * p < d * (k - 1) + 1:
        return
    want = _by_rule(x, w, p, pad_mode, s, d)
    results = [
        convolve(x, w, pad=p, pad_mode=pad_mode, stride=s, dilation=d, method=m) for m in METHODS
    ]
    for got in results:
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        np.testing.assert_allclose(got, want, atol=1e-9)
    finite = np.isfinite(want)
    for got in results[1:]:  # non-finite outputs identical; finite ones to float64 rounding
        np.testing.assert_array_equal(got[~finite], results[0][~finite])


def test_the_issue_s_example_one_inf_in_100000_samples():
    x = np.ones(100_000)
    x[50] = np.inf
    w = np.ones(1001)
    for method in METHODS:
        y = convolve(x, w, method=method)
        assert np.isinf(y).sum() == 1001 and not np.isnan(y).any()


@pytest.mark.parametrize("method", METHODS)
def test_a_nan_pixel_in_an_image_spoils_only_its_window(method):
    img = np.random.default_rng(1).normal(size=(64, 80))
    img[10, 20] = np.nan
    w = np.ones((5, 5))
    y = correlate(img, w, "same", pad_mode="replicate", method=method)
    assert np.isnan(y).sum() == 25 and np.isnan(y[8:13, 18:23]).all()
    want = correlate_naive(
        pad(np.where(np.isnan(img), 0, img), 2, "replicate"), w, 2, (1, 1), (1, 1)
    )
    mask = ~np.isnan(y)
    np.testing.assert_allclose(y[mask], want[mask], atol=1e-9)


# --- pad_value ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1j, [1, 2], [], "1", None, np.nan, np.inf, np.array([1.0])])
def test_pad_value_is_one_finite_real_number_or_one_clear_error(value):
    for data in ([1, 2, 3], [1.0, 2.0, 3.0]):
        with pytest.raises(DataError, match="pad_value must be one finite real number"):
            convolve(data, [1, 1], "same", pad_mode="constant", pad_value=value)
    with pytest.raises(ConvcliError):
        pad([1, 2], 1, "constant", value)


def test_pad_value_accepts_numpy_scalars_and_0d_arrays():
    for value in (np.float32(2.5), np.int8(2), np.array(2.5), True):
        got = convolve([1.0, 2.0], [1, 1], pad=1, pad_mode="constant", pad_value=value)
        v = float(value)
        assert got.tolist() == [v + 1, 3, 2 + v]


def test_max_pooling_keeps_integers_at_the_int64_limits():
    from convcli.engine.pool import pool

    top, bottom = 2**63 - 1, -(2**63)
    assert pool(np.array([top, 1, bottom, bottom]), 2).tolist() == [top, bottom]
    assert pool(np.array([top, 1, 3]), 2, pad=1).tolist() == [top, 3]
    with pytest.raises(DataError, match="complex"):
        pool([1j, 2], 2)


@pytest.mark.parametrize("method", METHODS)
def test_a_2d_kernel_holding_inf_or_nan_returns_by_the_rule(method):
    # a non-finite kernel once reached LAPACK's SVD (the separability test), which never returns
    x = np.random.default_rng(2).normal(size=(9, 8))
    for bad in (np.inf, np.nan):
        w = np.ones((3, 3))
        w[1, 1] = bad
        got = convolve(x, w, "same", method=method)
        want = correlate_naive(np.pad(x, 1), w[::-1, ::-1], 2, (1, 1), (1, 1))
        np.testing.assert_array_equal(got, want)
