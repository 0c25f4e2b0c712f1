"""convcli's deliberate differences from SciPy, each checked, so that the README's table is true.

Every entry of ``DIFFERENCES`` is one row of the README's table ("Where convcli differs
from SciPy on purpose"): a test below shows SciPy doing one thing and convcli the other.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as ss

from convcli.engine import convolve, correlate
from convcli.errors import ConvcliError, DataError, ShapeError

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

DIFFERENCES = {
    "integers": "Integer inputs give exact int64",
    "int64": "A result that could leave int64",
    "valid": "`valid` never swaps the operands",
    "empty": "An empty input or result",
    "channels": "Trailing axes are channels",
    "banks": "A 4-D kernel is a filter bank",
    "conjugate": "`correlate` never conjugates",
    "same2d": "`same` centres as `scipy.signal.convolve`",
    "nonfinite": "NaN and infinity",
    "exact-fft": "Integers through the FFT are rounded back",
    "pad_value": "`pad_value` is one finite real number",
}


def test_every_difference_is_a_row_of_the_readme_table():
    text = README.read_text()
    for row in DIFFERENCES.values():
        assert row in text, row


def test_integers_are_exact_int64_where_scipy_keeps_uint8_and_wraps():
    x, w = np.array([200, 100], np.uint8), np.array([2], np.uint8)
    assert ss.convolve(x, w).tolist() == [144, 200]  # 400 and 200, in 8 bits
    got = convolve(x, w)
    assert got.dtype == np.int64 and got.tolist() == [400, 200]
    assert ss.convolve(np.array([True, True]), np.array([True, True])).dtype == bool
    assert convolve([True, True], [True, True]).tolist() == [1, 2, 1]


def test_a_result_beyond_int64_is_float64_with_a_warning_where_scipy_wraps(capsys):
    assert ss.convolve(np.array([2**62]), np.array([4])).tolist() == [0]  # wrapped
    got = convolve(np.array([2**62]), np.array([4]))
    assert got.dtype == np.float64 and got[0] == 2.0**64
    assert "int64" in capsys.readouterr().err


def test_valid_never_swaps_the_operands():
    assert ss.convolve([1, 2], [1, 2, 3], "valid").tolist() == [4, 7]  # SciPy swaps
    with pytest.raises(ShapeError, match="input length 2, kernel length 3"):
        convolve([1, 2], [1, 2, 3], "valid")


def test_an_empty_input_or_result_is_an_error_not_an_empty_array():
    assert ss.convolve(np.ones((0, 3)), np.ones((1, 1))).shape == (0, 3)
    with pytest.raises(ShapeError):
        convolve(np.ones((0, 3)), np.ones((1, 1)))


def test_trailing_axes_are_channels_where_scipy_wants_equal_dimensions():
    x = np.arange(6.0).reshape(3, 2)  # (frames, channels)
    with pytest.raises(ValueError, match="same dimensionality"):
        ss.convolve(x, np.ones(2))
    got = convolve(x, np.ones(2))
    assert got.tolist() == [[0, 1], [2, 4], [6, 8], [4, 5]]  # each column alone
    assert convolve(np.array([1, 2]), np.array(3)).tolist() == [3, 6]  # a 0-d kernel: a gain


def test_a_4d_kernel_is_a_cnn_filter_bank_not_a_4d_convolution():
    x = np.ones((4, 4, 2))
    bank = np.ones((3, 2, 3, 3))  # (K, C, kh, kw)
    with pytest.raises(ValueError):
        ss.convolve(x, bank)
    assert convolve(x, bank, "valid").shape == (2, 2, 3)  # every filter sums both channels
    assert (convolve(x, bank, "valid") == 18).all()


def test_correlate_never_conjugates_a_complex_kernel():
    x, w = np.array([0, 1j]), np.array([1j])
    assert ss.correlate(x, w).tolist() == [0, 1]  # SciPy: x * conj(w)
    assert ndi.correlate(x, w, mode="constant").tolist() == [0, 1]
    assert correlate(x, w).tolist() == [0, -1]  # convcli, as CNN frameworks: x * w
    assert correlate(x, w).tolist() == convolve(x, w[::-1]).tolist()


def test_same_centres_even_kernels_as_signal_convolve_not_as_correlate2d():
    x = np.zeros((1, 7))
    x[0, 6] = 1
    w = np.array([[0.0, 1.0]])
    assert ss.correlate2d(x, w, "same")[0, 5] == 1
    assert ss.correlate(x, w, "same")[0, 6] == 1
    got = correlate(x, w, "same")
    assert got[0, 6] == 1 and got[0, 5] == 0


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_nan_and_infinity_stay_in_their_windows_on_every_method(method):
    x = np.ones(1000)
    x[10] = np.nan
    assert np.isnan(ss.convolve(x, np.ones(100), method="fft")).sum() > 100  # spread out
    got = convolve(x, np.ones(100), method=method)
    assert np.isnan(got).sum() == 100 and np.isnan(got[10:110]).all()
    dilated = convolve([1.0, np.inf, 1.0], [1.0, 1.0], dilation=2, method=method)
    assert not np.isnan(dilated).any()  # dilation's zero taps add nothing, not 0 * inf


def test_integers_through_the_fft_are_exact_where_scipy_rounds_them_wrong():
    rng = np.random.default_rng(0)
    x, w = rng.integers(-(2**40), 2**40, 3000), rng.integers(-(2**12), 2**12, 300)
    exact = np.convolve(x, w)
    assert (ss.convolve(x, w, method="fft") != exact).any()
    np.testing.assert_array_equal(convolve(x, w, method="fft"), exact)


def test_pad_value_is_one_finite_real_number():
    x = np.ones((3, 3))
    # SciPy reads a list as one value before and one after (np.pad), convcli refuses it
    with pytest.raises(DataError):
        convolve(x, np.ones((2, 2)), "same", pad_mode="constant", pad_value=[1, 2])
    with pytest.raises(ConvcliError):
        convolve(x + 0j, np.ones((2, 2)), "same", pad_mode="constant", pad_value=1j)
    assert ss.convolve2d(x + 0j, np.ones((2, 2)), boundary="fill", fillvalue=1j)[0, 0] == 1 + 3j
