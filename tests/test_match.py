"""Template matching: the engine's scores against OpenCV, scikit-image and the naive twin;
box sums, lags, delays, peaks and the library's match()."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import convcli
from convcli.engine import lags, windows
from convcli.engine.match import SCORES, score_map, score_map_naive
from convcli.errors import DataError, ShapeError
from convcli.matching import Match, match, peaks

cv2 = pytest.importorskip("cv2")
OPENCV = {
    "sqdiff": cv2.TM_SQDIFF,
    "sqdiff-normed": cv2.TM_SQDIFF_NORMED,
    "ccorr": cv2.TM_CCORR,
    "ccorr-normed": cv2.TM_CCORR_NORMED,
    "ccoeff": cv2.TM_CCOEFF,
    "ccoeff-normed": cv2.TM_CCOEFF_NORMED,
}


def _close(ours, theirs, tol=1e-4):
    """Within ``tol`` of the scale of the scores (OpenCV works in float32)."""
    scale = max(1.0, float(np.abs(theirs).max()))
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= tol * scale


def _image(shape, seed=0):
    return (np.random.default_rng(seed).random(shape) * 255).astype(np.float32)


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize(
    "shape,k", [((60, 80), (9, 7)), ((60, 80, 3), (9, 7, 3)), ((700, 90), (40, 30))]
)
def test_every_score_agrees_with_opencv_match_template(score, shape, k):
    x, t = _image(shape), _image(k, 1)
    _close(score_map(x, t, score, ndim=2), cv2.matchTemplate(x, t, OPENCV[score]))


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("channels", [1, 3])
def test_a_mask_weighs_the_template_as_opencvs_mask_does(score, channels):
    shape = (50, 60) + ((channels,) if channels > 1 else ())
    x, t = _image(shape), _image((8, 6) + shape[2:], 1)
    m = (np.random.default_rng(2).random((8, 6)) > 0.3).astype(np.float32)
    theirs = cv2.matchTemplate(
        x, t, OPENCV[score], mask=m if channels == 1 else np.dstack([m] * channels)
    )
    if score == "sqdiff-normed":  # OpenCV's masked route alone leaves it unclipped above 1
        theirs = np.minimum(theirs, 1)
    _close(score_map(x, t, score, ndim=2, mask=m), theirs)


def test_a_match_in_a_large_image_spans_several_strips_and_agrees_with_opencv():
    x, t = _image((1500, 300)), _image((100, 64), 1)
    _close(score_map(x, t, ndim=2), cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED))


def test_a_constant_window_scores_zero_where_opencv_does():
    x = _image((40, 40))
    x[5:20, 5:20] = 7
    t = _image((6, 6), 1)
    ours = score_map(x, t, ndim=2)
    assert (ours[5:15, 5:15] == 0).all()
    _close(ours, cv2.matchTemplate(x, t, cv2.TM_CCOEFF_NORMED))


def test_a_constant_template_scores_zero_everywhere_never_nan():
    x = _image((30, 30))
    assert (score_map(x, np.full((4, 4), 3.0), ndim=2) == 0).all()


@pytest.mark.parametrize("pad_input", [False, True])
def test_scores_agree_with_scikit_image_match_template(pad_input):
    skimage = pytest.importorskip("skimage.feature")
    rng = np.random.default_rng(3)
    x, t = rng.random((40, 50)), rng.random((7, 6))
    theirs = skimage.match_template(x, t, pad_input=pad_input)
    if not pad_input:
        ours = score_map(x, t)
    else:  # scikit-image pads with zeros and centres the map on the input
        full = score_map(np.pad(x, ((7, 7), (6, 6))), t)
        o0, o1 = (7 - 1) // 2 + 1, (6 - 1) // 2 + 1
        ours = full[o0 : o0 + 40, o1 : o1 + 50]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def _signals(nd, integers):
    elements = st.integers(-3, 3) if integers else st.floats(-100, 100, allow_subnormal=False)
    side = st.integers(1, 9 if nd == 1 else 6)
    return st.tuples(
        hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=1, max_side=12),
        st.lists(side, min_size=nd, max_size=nd),
    ).flatmap(
        lambda shapes: st.tuples(
            hnp.arrays(np.float64, shapes[0], elements=elements),
            hnp.arrays(
                np.float64,
                tuple(min(k, n) for k, n in zip(shapes[1], shapes[0])),
                elements=elements,
            ),
        )
    )


@given(
    data=st.data(),
    nd=st.sampled_from([1, 2]),
    integers=st.booleans(),
    score=st.sampled_from(SCORES),
)
def test_the_fast_scores_agree_with_the_naive_twin(data, nd, integers, score):
    x, t = data.draw(_signals(nd, integers))
    fast, naive = score_map(x, t, score), score_map_naive(x, t, score)
    scale = max(1.0, float(np.abs(naive).max()))
    if score.endswith("normed"):
        assert np.isfinite(fast).all() and np.abs(fast).max() <= 1
        scale = _quiet(x, t.shape, score)  # windows far quieter than the input lose digits
    assert (np.abs(fast - naive) <= 1e-7 * scale + 1e-7 * np.abs(naive)).all()


def _quiet(x, k, score):
    """(windows...): the factor by which a normalised score's error may pass 1e-7, from
    sums over the whole strip (running sums, transforms): each rounds to eps of what it
    has summed, up to ``x.size`` times the loudest energy, so a window far quieter than
    the rest of the input loses digits (1 for every ordinary window)."""
    centred = x - x.mean() if score.startswith("ccoeff") else x
    w = np.lib.stride_tricks.sliding_window_view(centred, k)  # (windows..., k...)
    axes = tuple(range(x.ndim, 2 * x.ndim))
    energy = w.var(axis=axes) if score.startswith("ccoeff") else np.mean(w * w, axis=axes)
    loudest = float(np.max(centred * centred)) * x.size
    bound = 8 * np.finfo(float).eps * x.size * loudest / np.maximum(energy, 1e-300)
    return np.maximum(1.0, bound / 1e-7)


@given(st.lists(st.integers(-5, 5), min_size=2, max_size=30), st.integers(0, 1000))
def test_a_template_as_large_as_the_input_scores_once(values, seed):
    x = np.array(values, dtype=float)
    assume(np.ptp(x) > 0)
    assert score_map(x, x).tolist() == pytest.approx([1.0])
    assert score_map(x, 3 * x + 2).tolist() == pytest.approx([1.0])  # louder, shifted


def test_a_one_sample_template_has_no_variance_and_scores_zero():
    assert score_map([1.0, 2, 3], [5.0]).tolist() == [0, 0, 0]
    assert score_map([1.0, 2, 3], [2.0], "sqdiff").tolist() == [1, 0, 1]


def test_a_louder_copy_of_the_pattern_scores_the_same():
    x = np.random.default_rng(4).standard_normal(200)
    t = x[50:70]
    assert score_map(x, 10 * t)[50] == pytest.approx(1.0)
    assert score_map(x, -t)[50] == pytest.approx(-1.0)


def test_multichannel_audio_sums_over_channels_and_a_mono_template_fits_every_channel():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 2))
    stereo = score_map(x, x[100:140], ndim=1)
    assert int(np.argmax(stereo)) == 100 and stereo.max() == pytest.approx(1.0)
    np.testing.assert_allclose(
        score_map(x, x[100:140, :1], ndim=1), score_map(x, np.repeat(x[100:140, :1], 2, 1), ndim=1)
    )


def test_a_long_signal_in_several_blocks_agrees_with_the_naive_twin():
    x = np.random.default_rng(6).standard_normal(200_000)
    t = x[150_000:150_300]
    fast = score_map(x, t)
    idx = np.r_[0:50, 65_000:65_700, 149_990:150_010, len(fast) - 50 : len(fast)]
    for i in idx[::7]:
        np.testing.assert_allclose(fast[i], score_map_naive(x[i : i + 300], t)[0], atol=1e-9)


def test_refusals_name_the_problem():
    with pytest.raises(ShapeError, match="larger than the input"):
        score_map([1, 2], [1, 2, 3])
    with pytest.raises(ShapeError, match="3 channels, the input 2"):
        score_map(np.zeros((5, 5, 2)), np.zeros((2, 2, 3)), ndim=2)
    with pytest.raises(DataError, match="NaN"):
        score_map([1, np.nan, 3], [1, 2])
    with pytest.raises(ValueError, match="unknown score"):
        score_map([1, 2, 3], [1, 2], "pearson")


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=15),
        elements=st.floats(-1e3, 1e3),
    ),
    st.data(),
)
def test_box_sums_agree_with_summing_each_window(a, data):
    k = tuple(data.draw(st.integers(1, n)) for n in a.shape)
    np.testing.assert_allclose(windows.box_sums(a, k), windows.box_sums_naive(a, k), atol=1e-9)


@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
        elements=st.floats(-1e3, 1e3, width=32),
    ),
    st.data(),
)
def test_running_sums_down_the_rows_keep_each_channel_apart(a, data):
    k = data.draw(st.integers(1, a.shape[1]))
    run = windows.DownRows(a, k)
    sums, squares = [], []
    while run.next_row < a.shape[1] - k + 1:
        s, q = run.take(min(data.draw(st.integers(1, 4)), a.shape[1] - k + 1 - run.next_row))
        sums.append(s)
        squares.append(q)
    sums, squares = np.concatenate(sums, axis=1), np.concatenate(squares, axis=1)
    for c, plane in enumerate(a.astype(np.float64)):  # (rows, cols)
        np.testing.assert_allclose(sums[c], windows.box_sums_naive(plane, (k, 1)), atol=1e-6)
        np.testing.assert_allclose(
            squares[c], windows.box_sums_naive(plane**2, (k, 1)), rtol=1e-9, atol=1e-3
        )


def test_equal_windows_tie_at_exactly_one_and_the_first_is_the_match():
    ramp = np.arange(50.0)
    assert (score_map(ramp, ramp[:7]) == 1.0).all()  # every window is the template, shifted
    assert match(ramp[:7], ramp)[0].position == (0,)
    plane = np.add.outer(np.arange(40.0), 2 * np.arange(60.0))  # (40, 60)
    assert (score_map(plane, plane[:5, :6]) == 1.0).all()


def test_an_exact_cut_out_scores_exactly_one_from_float32_transforms():
    x = _image((300, 400))
    for shape in ((32, 48), (64, 64)):
        t = x[100 : 100 + shape[0], 50 : 50 + shape[1]].copy()
        s = score_map(x, t)
        assert s.dtype == np.float32 and s[100, 50] == 1.0
        assert (s < 1.0).sum() == s.size - 1  # no other window reads as the template


def test_an_exact_cut_out_has_no_squared_difference_in_float32_images():
    x = _image((300, 400))
    t = x[120:152, 200:248].copy()
    s = score_map(x, t, "sqdiff")
    assert s.dtype == np.float64  # float64 transforms: the best is a difference of big sums
    assert s[120, 200] < 1e-6 * float(np.sum(t.astype(np.float64) ** 2))
    assert np.unravel_index(np.argmin(s), s.shape) == (120, 200)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("lengths", [(20, 20), (30, 7), (7, 30)])
def test_lags_agree_with_scipy_correlate_and_correlation_lags(mode, lengths):
    from scipy.signal import correlate, correlation_lags

    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(lengths[0]), rng.standard_normal(lengths[1])
    if mode == "valid" and len(y) > len(x):
        with pytest.raises(ShapeError):
            lags.xcorr(x, y, mode)
        return
    got_lags, c = lags.xcorr(x, y, mode, normalized=False)
    np.testing.assert_array_equal(got_lags, correlation_lags(len(x), len(y), mode))
    np.testing.assert_allclose(c, correlate(x, y, mode), atol=1e-12)
    _, normed = lags.xcorr(x, y, mode)
    np.testing.assert_allclose(normed, c / np.sqrt((x * x).sum() * (y * y).sum()))


def test_a_signal_against_itself_is_one_at_lag_zero_and_silence_is_zero():
    lag, c = convcli.xcorr([1.0, -2, 3])
    assert c[lag == 0][0] == pytest.approx(1.0)
    assert lags.xcorr([0.0, 0, 0], [1.0, 2])[1].tolist() == [0, 0, 0, 0]


def test_finddelay_and_align_undo_a_shift():
    x = np.random.default_rng(8).standard_normal(500)
    late = np.r_[np.zeros(37), x][:500]
    assert lags.finddelay(x, late) == 37
    assert lags.finddelay(late, x) == -37
    np.testing.assert_array_equal(lags.align(late, 37)[:463], x[:463])


def test_peaks_are_apart_best_first_and_the_threshold_takes_every_one():
    s = np.array([0, 5, 4, 0, 3, 0, 0, 4.5, 0])
    assert [m.position for m in peaks(s, top=3, min_distance=2)] == [(1,), (7,), (4,)]
    assert [m.position for m in peaks(s, top=None, threshold=3.5)] == [(1,), (7,), (2,)]
    assert [m.position for m in peaks(s, None, 2, 3.5)] == [(1,), (7,)]
    assert [m.position for m in peaks(-s, 1, lower_is_better=True)] == [(1,)]


def test_a_subsample_peak_lies_on_the_parabola():
    s = np.array([0.0, 1, 3, 2, 0])
    (m,) = peaks(s, subsample=True)
    assert m.position == (pytest.approx(2 + 0.5 * (1 - 2) / (1 - 6 + 2)),)


def test_the_library_finds_a_piece_of_a_photo_with_its_corner():
    from skimage import data

    photo = data.camera().astype(np.float32)
    found = match(photo[100:140, 300:364], photo, top=1)
    assert found == [Match((100, 300), pytest.approx(1.0, abs=1e-5))]
    assert convcli.match is match


@given(
    data=st.data(),
    nd=st.sampled_from([1, 2]),
    top=st.sampled_from([1, 3, 10, None]),
    lower=st.booleans(),
)
def test_candidates_over_pieces_choose_what_peaks_chooses_over_the_whole_map(data, nd, top, lower):
    from scipy.ndimage import gaussian_filter

    from convcli.matching import Candidates

    shape = data.draw(st.tuples(*[st.integers(4, 80 if nd == 1 else 30)] * nd))
    seed = data.draw(st.integers(0, 2**16))
    s = gaussian_filter(np.random.default_rng(seed).standard_normal(shape), 1.5)
    d = data.draw(st.tuples(*[st.integers(1, 6)] * nd))
    threshold = float(np.quantile(s, 0.3 if lower else 0.7)) if top is None or seed % 2 else None
    want = peaks(s, top, d, threshold, lower, subsample=True)
    kept = Candidates(shape, top, d, threshold, lower, subsample=True)
    r0 = 0
    while r0 < shape[0]:  # pieces of 1 to 9 rows, each with a row of its neighbours' each side
        count = min(data.draw(st.integers(1, 9)), shape[0] - r0)
        a, b = max(0, r0 - 1), min(shape[0], r0 + count + 1)
        kept.add(s[a:b], a, r0 - a, count)
        r0 += count
    assert kept.matches() == want


def test_an_envelope_keeps_the_lowest_and_highest_score_of_each_column():
    from convcli.io.marks import Envelope

    s = np.random.default_rng(3).standard_normal(10_007)
    e = Envelope(len(s), columns=100)
    for start in range(0, len(s), 777):
        e.add(s[start : start + 777], start)
    columns = [s[i : i + e.per] for i in range(0, len(s), e.per)]
    assert e.high.tolist() == [c.max() for c in columns]
    assert e.low.tolist() == [c.min() for c in columns]


def test_candidates_over_a_flat_region_hold_no_more_than_n_boxes_and_break_ties_as_peaks():
    from convcli.matching import Candidates

    s = np.zeros((400, 50))  # windows without variance: a sea of tied zeros
    s[300:] = np.random.default_rng(5).standard_normal((100, 50)) * 0.1
    kept, most = Candidates(s.shape, 2, (3, 3)), 0
    for r0 in range(0, 400, 20):
        a, b = max(0, r0 - 1), min(400, r0 + 21)
        kept.add(s[a:b], a, r0 - a, min(20, 400 - r0))
        most = max(most, len(kept.val))
    assert most <= 2 * 5 * 5
    assert kept.matches() == peaks(s, 2, (3, 3))
    flat = Candidates((400, 50), 3, (3, 3))
    flat.add(np.zeros((400, 50)), 0, 0, 400)
    assert [m.position for m in flat.matches()] == [(0, 0), (0, 3), (0, 6)]
