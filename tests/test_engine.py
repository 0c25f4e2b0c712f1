"""The engine against SciPy, NumPy and a naive loop reference."""

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given
from hypothesis import strategies as st

from convcli import convolve, correlate
from convcli.engine.direct import correlate_naive
from convcli.engine.padding import pad_pairs
from convcli.errors import ShapeError
from convcli.geometry import axes

MODES = ["full", "same", "valid"]
METHODS = ["direct", "fft", "auto"]


def arrays(shape, integer=False):
    if integer:
        return st.lists(
            st.integers(-50, 50), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
        ).map(lambda v: np.array(v).reshape(shape))
    return st.lists(
        st.floats(-10, 10), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
    ).map(lambda v: np.array(v).reshape(shape))


def test_the_seed_example_gives_full_and_valid():
    assert convolve([0, 1, 2, 3, 4], [1, -1, 2]).tolist() == [0, 1, 1, 3, 5, 2, 8]
    assert convolve([0, 1, 2, 3, 4], [1, -1, 2], "valid").tolist() == [1, 3, 5]


@given(
    st.integers(1, 40),
    st.integers(1, 12),
    st.sampled_from(MODES),
    st.sampled_from(METHODS),
    st.data(),
)
def test_1d_matches_scipy_convolve_and_correlate(n, k, mode, method, data):
    x = data.draw(arrays((n,)))
    w = data.draw(arrays((k,)))
    if mode == "valid" and k > n:
        with pytest.raises(ShapeError):
            convolve(x, w, mode, method=method)
        return
    np.testing.assert_allclose(
        convolve(x, w, mode, method=method), ss.convolve(x, w, mode), atol=1e-9
    )
    np.testing.assert_allclose(
        correlate(x, w, mode, method=method), ss.correlate(x, w, mode), atol=1e-9
    )


@given(
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    st.tuples(st.integers(1, 5), st.integers(1, 5)),
    st.sampled_from(MODES),
    st.sampled_from(METHODS),
    st.data(),
)
def test_2d_matches_scipy(shape, kshape, mode, method, data):
    x = data.draw(arrays(shape))
    w = data.draw(arrays(kshape))
    if mode == "valid" and (kshape[0] > shape[0] or kshape[1] > shape[1]):
        return
    np.testing.assert_allclose(
        convolve(x, w, mode, method=method), ss.convolve(x, w, mode), atol=1e-9
    )
    np.testing.assert_allclose(
        correlate(x, w, mode, method=method), ss.correlate(x, w, mode), atol=1e-9
    )


@given(
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    st.tuples(st.integers(1, 5), st.integers(1, 5)),
    st.sampled_from([("zeros", "fill"), ("symmetric", "symm"), ("circular", "wrap")]),
    st.sampled_from(["full", "same", "valid"]),
    st.sampled_from(METHODS),
    st.booleans(),
    st.data(),
)
def test_boundary_modes_match_convolve2d_and_correlate2d(
    shape, kshape, boundary, mode, method, flip, data
):
    pad_mode, scipy_boundary = boundary
    if mode == "valid" and (kshape[0] > shape[0] or kshape[1] > shape[1]):
        return
    if not flip and mode == "same" and (kshape[0] % 2 == 0 or kshape[1] % 2 == 0):
        return  # correlate2d centres even kernels one sample off scipy.signal.correlate (SPEC)
    x = data.draw(arrays(shape))
    w = data.draw(arrays(kshape))
    ours = convolve if flip else correlate
    theirs = ss.convolve2d if flip else ss.correlate2d
    np.testing.assert_allclose(
        ours(x, w, mode, pad_mode=pad_mode, method=method),
        theirs(x, w, mode, boundary=scipy_boundary),
        atol=1e-9,
    )


def test_constant_padding_matches_convolve2d_fillvalue():
    x = np.arange(20.0).reshape(4, 5)
    w = np.array([[1, 2], [3, 4.0]])
    expected = ss.convolve2d(x, w, "same", boundary="fill", fillvalue=7)
    np.testing.assert_allclose(convolve(x, w, "same", pad_mode="constant", pad_value=7), expected)


@given(
    st.integers(1, 30),
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 4),
    st.integers(0, 4),
    st.sampled_from(["zeros", "replicate", "symmetric", "reflect", "circular"]),
    st.sampled_from(METHODS),
    st.booleans(),
    st.data(),
)
def test_1d_stride_dilation_padding_match_the_naive_reference(
    n, k, s, d, before, after, pad_mode, method, flip, data
):
    x = data.draw(arrays((n,)))
    w = data.draw(arrays((k,)))
    geometry = axes(n, k, None, pad=(before, after), stride=s, dilation=d)
    if geometry[0].length < 1 or (
        pad_mode != "zeros" and max(before, after) > 0 and n < 2 and pad_mode == "reflect"
    ):
        return
    xp = pad_pairs(x, [(before, after)], pad_mode)
    wf = w[::-1] if flip else w
    expected = correlate_naive(xp, wf, 1, (s,), (d,))
    op = convolve if flip else correlate
    got = op(x, w, pad=(before, after), stride=s, dilation=d, pad_mode=pad_mode, method=method)
    np.testing.assert_allclose(got, expected, atol=1e-9)


@given(
    st.tuples(st.integers(2, 10), st.integers(2, 10)),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.integers(1, 2), st.integers(1, 2)),
    st.sampled_from(MODES),
    st.sampled_from(["zeros", "replicate", "reflect"]),
    st.sampled_from(METHODS),
    st.data(),
)
def test_2d_stride_and_dilation_keep_every_sth_output(
    shape, kshape, stride, dilation, mode, pad_mode, method, data
):
    x = data.draw(arrays(shape + (2,)))  # two channels, filtered alike
    w = data.draw(arrays(kshape))
    geometry = axes(shape, kshape, mode, dilation=dilation)
    if min(ax.length for ax in geometry) < 1:
        return
    unstrided = convolve(x, w, mode, dilation=dilation, pad_mode=pad_mode, method="direct", ndim=2)
    got = convolve(
        x, w, mode, stride=stride, dilation=dilation, pad_mode=pad_mode, method=method, ndim=2
    )
    np.testing.assert_allclose(got, unstrided[:: stride[0], :: stride[1]], atol=1e-9)
    wide = np.zeros(((kshape[0] - 1) * dilation[0] + 1, (kshape[1] - 1) * dilation[1] + 1))
    wide[:: dilation[0], :: dilation[1]] = w
    if mode == "valid" or pad_mode == "zeros":
        expected = np.stack([ss.convolve(x[..., c], wide, mode) for c in range(2)], axis=-1)
        np.testing.assert_allclose(unstrided, expected, atol=1e-9)


def test_same_mode_with_stride_gives_ceil_n_over_s():
    for n in range(1, 12):
        for s in range(1, 5):
            assert len(convolve(np.ones(n), [1, 2, 3, 4], "same", stride=s)) == -(-n // s)


@pytest.mark.parametrize("method", METHODS)
def test_integer_inputs_give_exact_integers(method):
    rng = np.random.default_rng(2)
    x = rng.integers(-(10**6), 10**6, size=5000)
    w = rng.integers(-(10**6), 10**6, size=700)
    got = convolve(x, w, method=method)
    assert got.dtype == np.int64
    assert got.tolist() == np.convolve(x.astype(object), w.astype(object)).tolist()


def test_huge_integers_stay_exact_when_fft_would_round():
    x = np.array([2**40, 1, -(2**40), 3] * 300)
    w = np.array([2**11, -5, 7] * 100)
    got = convolve(x, w, method="fft")
    assert got.tolist() == np.convolve(x.astype(object), w.astype(object)).tolist()


def test_each_channel_gets_its_own_kernel_column():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    w = rng.normal(size=(31, 2))
    for method in METHODS:
        got = convolve(x, w, "same", ndim=1, method=method)
        for c in range(2):
            np.testing.assert_allclose(got[:, c], ss.convolve(x[:, c], w[:, c], "same"), atol=1e-9)


def test_one_kernel_filters_every_channel():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(20, 30, 3))
    w = rng.normal(size=(5, 5))
    got = convolve(x, w, "same")
    for c in range(3):
        np.testing.assert_allclose(got[..., c], ss.convolve(x[..., c], w, "same"), atol=1e-9)


def test_channel_mismatch_is_an_error():
    with pytest.raises(ShapeError, match="2 channel"):
        convolve(np.ones((10, 3)), np.ones((3, 2)), ndim=1)


def test_valid_mode_with_longer_kernel_is_an_error_naming_both_lengths():
    with pytest.raises(ShapeError, match="input length 3, kernel length 5"):
        convolve([1, 2, 3], [1, 1, 1, 1, 1], "valid")


def test_pad_with_mode_same_is_refused():
    with pytest.raises(ValueError, match="not both"):
        convolve([1, 2, 3], [1, 1], "same", pad=1)


def test_nan_propagates_as_in_numpy():
    assert np.isnan(convolve([1, np.nan], [1])[1])


def test_float32_inputs_stay_float32_and_close():
    rng = np.random.default_rng(5)
    x = rng.normal(size=100_000).astype(np.float32)
    w = rng.normal(size=2001).astype(np.float32)
    got = convolve(x, w, method="fft")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ss.convolve(x.astype(float), w.astype(float)), atol=2e-3)


@pytest.mark.parametrize("n,k", [(100_000, 301), (200_000, 3001), (5000, 4000)])
def test_overlap_add_and_fft_agree_with_scipy_on_long_signals(n, k):
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=n), rng.normal(size=k)
    for mode in MODES:
        expected = ss.convolve(x, w, mode)
        np.testing.assert_allclose(convolve(x, w, mode), expected, atol=1e-8)
        np.testing.assert_allclose(convolve(x, w, mode, method="fft"), expected, atol=1e-8)


def test_auto_picks_overlap_add_for_long_signals_and_direct_for_short():
    from convcli.engine import choose_method

    assert choose_method(axes(10_000_000, 3001, "full")) == "oa"
    assert choose_method(axes(100, 3, "full")) == "direct"
    assert choose_method(axes((2000, 2000), (31, 31), "same")) == "fft"


@pytest.mark.parametrize("spec", ["box:5", "gaussian:sigma=1.2", "sobel-x"])
@pytest.mark.parametrize("stride,dilation", [((1, 1), (1, 1)), ((2, 3), (1, 2))])
def test_separable_kernels_take_two_passes_and_agree(spec, stride, dilation):
    from convcli.engine.direct import separable
    from convcli.kernels import make

    w = make(spec)
    u, v = separable(w)
    np.testing.assert_allclose(np.outer(u, v), w, atol=1e-12)
    x = np.random.default_rng(8).normal(size=(23, 19, 3))
    got = convolve(x, w, "same", stride=stride, dilation=dilation, method="direct", ndim=2)
    wide = np.zeros(((w.shape[0] - 1) * dilation[0] + 1, (w.shape[1] - 1) * dilation[1] + 1))
    wide[:: dilation[0], :: dilation[1]] = w
    for c in range(3):
        full = ss.convolve(x[..., c], wide, "same")
        np.testing.assert_allclose(got[..., c], full[:: stride[0], :: stride[1]], atol=1e-9)


def test_a_random_kernel_is_not_separable():
    from convcli.engine.direct import separable

    assert separable(np.random.default_rng(0).normal(size=(3, 3))) is None


@given(
    st.integers(1, 3000),
    st.integers(1, 300),
    st.integers(2, 6),
    st.integers(1, 3),
    st.sampled_from(MODES),
    st.sampled_from(["zeros", "replicate", "symmetric", "circular"]),
    st.sampled_from(METHODS),
    st.integers(0, 2**32 - 1),
)
def test_strided_1d_at_any_kernel_length_keeps_every_sth_output(
    n, k, s, d, mode, pad_mode, method, seed
):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=n), rng.normal(size=k)
    geometry = axes(n, k, mode, stride=s, dilation=d)
    if geometry[0].length < 1:
        return
    unstrided = convolve(x, w, mode, dilation=d, pad_mode=pad_mode, method="direct")
    got = convolve(x, w, mode, stride=s, dilation=d, pad_mode=pad_mode, method=method)
    np.testing.assert_allclose(got, unstrided[::s], atol=1e-8)
    if pad_mode == "zeros":
        wide = np.zeros((k - 1) * d + 1)
        wide[::d] = w
        np.testing.assert_allclose(got, ss.convolve(x, wide, mode)[::s], atol=1e-8)


def test_cost_model_picks_polyphase_direct_for_short_and_overlap_add_for_long_strided():
    from convcli.engine import choose_method

    assert choose_method(axes(2_000_000, 31, "valid", stride=4)) == "direct"
    assert choose_method(axes(2_000_000, 63, "valid", stride=4)) == "direct"
    assert choose_method(axes(2_000_000, 1023, "valid", stride=4)) == "oa"
    assert choose_method(axes(2_000_000, 4095, "valid", stride=4)) == "oa"
