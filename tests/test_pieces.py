"""Pieces: every output block computed from its window plus halo equals the whole result."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.engine import convolve, correlate
from convcli.engine.padding import pad_pairs
from convcli.errors import ShapeError
from convcli.pieces import convolve_block, plan, read_window, source_index, strips

PAD_MODES = ["zeros", "constant", "replicate", "symmetric", "reflect", "circular"]


class Chunky:
    """An in-memory array that says it is stored in chunks, as a zarr array does."""

    def __init__(self, a, chunks):
        self.a, self.chunks, self.shape, self.dtype = a, chunks, a.shape, a.dtype

    def __getitem__(self, index):
        return self.a[index]


def _pieced(x, w, **settings):
    """Every block of the plan, computed one by one and put together."""
    p = plan(x, w, **settings)
    out = np.empty(p.shape, p.dtype)
    for index in p.blocks():
        out[tuple(slice(a, b) for a, b in p.bounds(index))] = convolve_block(p, index)
    return out


@st.composite
def cases(draw):
    nd = draw(st.integers(1, 2))
    n = tuple(draw(st.integers(1, 9)) for _ in range(nd))
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    channels = draw(st.sampled_from([(), (2,)]))
    settings = dict(
        ndim=nd,
        pad_mode=draw(st.sampled_from(PAD_MODES)),
        pad_value=draw(st.sampled_from([0.0, 1.5])),
        stride=draw(st.integers(1, 3)),
        dilation=draw(st.integers(1, 2)),
        chunks=tuple(draw(st.integers(1, 4)) for _ in range(nd)),
    )
    if draw(st.booleans()):
        settings["mode"] = draw(st.sampled_from(["full", "same", "valid"]))
    else:
        settings["pad"] = tuple(draw(st.integers(0, 5)) for _ in range(2 * nd))
    return n + channels, k, settings


@given(cases(), st.booleans(), st.booleans(), st.integers(0, 3))
def test_pieced_result_equals_the_whole_one(case, flip, integers, source_chunk):
    shape, k, settings = case
    rng = np.random.default_rng(sum(shape) + sum(k))
    x = rng.integers(-9, 9, shape) if integers else rng.standard_normal(shape)
    w = rng.integers(-3, 4, k) if integers else rng.standard_normal(k)
    engine = correlate if flip else convolve
    chunk_settings = dict(settings, correlate=flip)
    whole_settings = {key: v for key, v in settings.items() if key != "chunks"}
    try:
        whole = engine(x, w, **whole_settings)
    except ShapeError:
        with pytest.raises(ShapeError):
            plan(x, w, **chunk_settings)
        return
    source = Chunky(x, (source_chunk,) * x.ndim) if source_chunk else x
    pieced = _pieced(source, w, **chunk_settings)
    assert pieced.shape == whole.shape
    assert pieced.dtype == whole.dtype
    if integers:
        np.testing.assert_array_equal(pieced, whole)
    else:
        np.testing.assert_allclose(pieced, whole, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", PAD_MODES[2:])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_source_index_pads_as_numpy_does_for_any_width(mode, n):
    x = np.arange(n)
    for start, stop in [(-13, 0), (-3, n + 4), (n, n + 11), (-1, 1)]:
        want = pad_pairs(x, [(13, 13)], mode)[start + 13 : stop + 13]
        index = source_index(start, stop, n, mode)
        np.testing.assert_array_equal(x[index], want)


def test_a_chunked_source_is_read_one_chunk_at_a_time():
    x = np.arange(20 * 20 * 2).reshape(20, 20, 2)
    reads = []

    class Logged(Chunky):
        def __getitem__(self, index):
            rows, cols = (np.arange(len(self.a))[i].ravel() for i in index[:2])
            reads.append((set(rows // 4), set(cols // 4)))
            return self.a[index]

    window = read_window(Logged(x, (4, 4, 2)), [-3, 2], [11, 13], "reflect")
    np.testing.assert_array_equal(window, pad_pairs(x, [(3, 3), (0, 0)], "reflect")[0:14, 2:13])
    assert all(len(rows) == len(cols) == 1 for rows, cols in reads)  # one chunk each
    assert len(reads) == 4 * 3


def test_a_window_far_outside_the_array_is_all_padding():
    x = np.arange(12.0).reshape(3, 4)
    window = read_window(x, [-6, 5], [-4, 8], "constant", 7.0)
    np.testing.assert_array_equal(window, np.full((2, 3), 7.0))


def test_float32_stays_float32_and_integers_stay_exact():
    x32 = np.ones((20, 20), np.float32)
    assert _pieced(x32, np.ones((3, 3), np.float32), mode="same", chunks=7).dtype == np.float32
    xi = np.arange(400, dtype=np.int16).reshape(20, 20)
    got = _pieced(xi, np.ones((4, 3), np.uint8), chunks=6)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, convolve(xi, np.ones((4, 3), np.uint8)))


def test_blocks_without_source_chunks_are_whole_rows_of_about_32_mb():
    p = plan(
        np.lib.stride_tricks.as_strided(np.zeros(1), (100_000, 3000), (0, 0)),
        np.ones((3, 3)),
        mode="same",
    )
    assert p.chunks[1] == (3000,)
    assert p.chunks[0][0] == (32 << 20) // 8 // 3000
    assert strips((5, 7), 1) == (1, 1)


def test_filter_banks_and_empty_results_are_refused():
    with pytest.raises(ShapeError, match="filter banks"):
        plan(np.ones((5, 5, 2)), np.ones((3, 2, 2, 2)))
    with pytest.raises(ShapeError, match="kernel spans 7"):
        plan(np.ones(5), np.ones(7), mode="valid")
