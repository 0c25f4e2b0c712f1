"""--steps text: every sum it prints is the engine's result, and every line fits 80 columns."""

import re

import numpy as np
import pytest

from convcli import convolve, correlate
from convcli.engine.pool import pool
from convcli.errors import ShapeError
from convcli.steps import conv_steps, pool_steps

X1 = np.array([0, 1, 2, 3, 4])
W1 = np.array([1, -1, 2])
X2 = np.arange(1, 13).reshape(3, 4)
W2 = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])


def _outputs(text):
    """(label, value, valid) of each output line, wrapped lines joined."""
    joined = re.sub(r"\n {6}", " ", text)
    found = re.findall(r"^(y\[[\d,]+\])[^\n]*= (\S+?)(  valid)?$", joined, re.M)
    return [(label, float(value), bool(valid)) for label, value, valid in found]


def _values(text):
    return np.array([v for _, v, _ in _outputs(text)])


def _fits(text):
    assert all(len(line) <= 80 for line in text.splitlines()), text


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_each_mode_prints_the_engines_result(mode):
    text = conv_steps(X1, W1, ndim=1, mode=mode)
    np.testing.assert_array_equal(_values(text), convolve(X1, W1, mode))
    _fits(text)


def test_full_mode_marks_only_the_valid_outputs():
    outputs = _outputs(conv_steps(X1, W1, ndim=1, mode="full"))
    assert [valid for *_, valid in outputs] == [False, False, True, True, True, False, False]
    text = conv_steps(X1, W1, ndim=1, mode="full")
    assert "padded input (2 before, 2 after; zeros):\n  0 0 | 0 1 2 3 4 | 0 0\n" in text


def test_the_kernel_is_shown_flipped_and_each_window_with_its_products():
    text = conv_steps(X1, W1, ndim=1, mode="valid")
    assert "flipped (convolution slides the kernel reversed): 2 -1 1" in text
    assert "y[0]  window 0 1 2  ->  0*2 + 1*(-1) + 2*1 = 1  valid" in text


def test_correlate_says_not_flipped_and_matches_the_engine():
    text = conv_steps(X1, W1, ndim=1, mode="same", correlate=True)
    assert "not flipped" in text and "flipped (convolution" not in text
    np.testing.assert_array_equal(_values(text), correlate(X1, W1, "same"))


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_stride_keeps_every_sth_output(stride):
    text = conv_steps(X1, W1, ndim=1, mode="full", stride=stride)
    np.testing.assert_array_equal(_values(text), convolve(X1, W1, "full", stride=stride))


@pytest.mark.parametrize("pad_mode", ["zeros", "replicate", "symmetric", "reflect", "circular"])
def test_explicit_padding_in_every_mode(pad_mode):
    text = conv_steps(X1, W1, ndim=1, pad=(2, 1), pad_mode=pad_mode)
    np.testing.assert_array_equal(_values(text), convolve(X1, W1, pad=(2, 1), pad_mode=pad_mode))
    assert f"(2 before, 1 after; {pad_mode}" in text


def test_constant_padding_names_its_value_and_dilation_spaces_the_taps():
    text = conv_steps(X1, W1, ndim=1, pad=2, pad_mode="constant", pad_value=9, dilation=2)
    assert "value 9" in text
    np.testing.assert_array_equal(
        _values(text), convolve(X1, W1, pad=2, pad_mode="constant", pad_value=9, dilation=2)
    )


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_2d_modes_print_the_engines_result_in_80_columns(mode):
    text = conv_steps(X2, W2, ndim=2, mode=mode)
    np.testing.assert_array_equal(_values(text), convolve(X2, W2, mode).ravel())
    _fits(text)


def test_2d_stride_padding_and_correlate():
    text = conv_steps(X2, W2, ndim=2, pad=(1, 0, 2, 1), stride=(2, 1), correlate=True)
    np.testing.assert_array_equal(
        _values(text), correlate(X2, W2, pad=(1, 0, 2, 1), stride=(2, 1)).ravel()
    )


def test_a_cnn_layer_sums_channels_and_adds_the_bias(samples):
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    text = conv_steps(x, w, ndim=2, pad=1, stride=2, correlate=True, bias=[1, 0])
    sums = [float(v) for v in re.findall(r"sum over channels \+ bias \S+ = (\S+)", text)]
    np.testing.assert_array_equal(sums, correlate(x, w, pad=1, stride=2, bias=[1, 0]).ravel())
    assert "channel 3:" in text
    _fits(text)


def test_channels_of_a_signal_get_lines_of_their_own():
    x = np.stack([X1, 10 * X1], axis=1)  # (frames, channels)
    text = conv_steps(x, W1, ndim=1, mode="valid")
    assert "y[0] (channel 2)" in text
    np.testing.assert_array_equal(_values(text), convolve(x, W1, "valid", ndim=1).ravel())


def test_more_than_64_outputs_is_an_error_that_says_so():
    with pytest.raises(
        ShapeError,
        match=r"^--steps shows at most 64 output samples; "
        r"this result has 65",
    ):
        conv_steps(np.arange(63), W1, ndim=1, mode="full")


def test_an_empty_result_is_the_engines_error():
    with pytest.raises(ShapeError, match="empty result"):
        conv_steps([1, 2], W1, ndim=1, mode="valid")


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_steps_print_the_pooled_values(op):
    x = np.arange(16).reshape(4, 4) % 7
    text = pool_steps(x, 2, ndim=2, stride=1, pad=1, op=op)
    np.testing.assert_allclose(_values(text), pool(x, 2, stride=1, pad=1, op=op).ravel())
    _fits(text)


def test_pool_steps_show_the_divisor_and_the_ceil_overhang():
    text = pool_steps([1, 3, 2, 5, 4], 2, ndim=1, pad=1, op="avg")
    assert "y[0]  window 0 1  ->  sum 1 / 2 = 0.5" in text
    text = pool_steps([1, 3, 2, 5, 4], 2, ndim=1, ceil=True)
    assert "y[2]  window 4 -inf  ->  max = 4" in text


def test_a_kernel_per_channel_and_mono_through_a_stereo_kernel():
    w = np.stack([W1, -W1], axis=1)  # (k, 2)
    x = np.stack([X1, X1 + 1], axis=1)
    text = conv_steps(x, w, ndim=1, mode="full")
    np.testing.assert_array_equal(_values(text), convolve(x, w, "full", ndim=1).ravel())
    mono = conv_steps(X1, w, ndim=1, mode="valid")
    assert "y[2] (channel 2)" in mono
    np.testing.assert_array_equal(
        _values(mono), convolve(np.stack([X1, X1], axis=1), w, "valid", ndim=1).ravel()
    )


@pytest.mark.parametrize("correlate_", [False, True])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_an_even_kernel_with_mirrored_padding_in_2d(mode, correlate_):
    x, w = np.arange(20).reshape(4, 5), np.arange(6).reshape(2, 3) - 2
    text = conv_steps(x, w, ndim=2, mode=mode, pad_mode="symmetric", correlate=correlate_)
    op = correlate if correlate_ else convolve
    np.testing.assert_array_equal(_values(text), op(x, w, mode, pad_mode="symmetric").ravel())
    _fits(text)
    assert "\n      valid" not in text  # the mark stays with its sum
