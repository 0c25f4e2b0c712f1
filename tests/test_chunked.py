"""Chunked convolution: the pieced result equals the whole one, and outputs appear atomically."""

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import chunked
from convcli.chunked import convolve_chunked, plan, read_window, source_index, to_dask
from convcli.engine import convolve, correlate
from convcli.engine.padding import pad_pairs
from convcli.errors import FormatError, ShapeError

PAD_MODES = ["zeros", "constant", "replicate", "symmetric", "reflect", "circular"]


def _pieced(x, w, **settings):
    """The chunked result computed in memory through dask (no files)."""
    return to_dask(plan(x, w, **settings)).compute(scheduler="sync")


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


@given(cases(), st.booleans(), st.booleans())
def test_pieced_result_equals_the_whole_one(case, flip, integers):
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
    pieced = _pieced(x, w, **chunk_settings)
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


def test_a_zarr_store_round_trips_with_its_chunks(tmp_path):
    import zarr

    x = np.random.default_rng(1).standard_normal((40, 30, 3)).astype(np.float32)
    source = zarr.open_array(tmp_path / "in.zarr", mode="w", shape=x.shape, chunks=(16, 8, 3),
                             dtype=x.dtype)
    source[:] = x
    w = np.random.default_rng(2).standard_normal((5, 5)).astype(np.float32)
    done = []
    shape = convolve_chunked(str(tmp_path / "in.zarr"), tmp_path / "out.zarr", w, ndim=2,
                             mode="same", pad_mode="symmetric", stride=2,
                             progress=lambda i, n: done.append((i, n)))
    out = chunked.read_chunked(tmp_path / "out.zarr")
    assert shape == out.shape == (20, 15, 3)
    assert out.chunks == (8, 4, 3)  # the source's chunks over the stride
    assert done[-1] == (len(done), len(done)) == (12, 12)  # 3 x 4 blocks
    want = convolve(x, w, "same", pad_mode="symmetric", stride=2, ndim=2)
    np.testing.assert_allclose(out[:], want, rtol=1e-5, atol=1e-5)
    assert sorted(os.listdir(tmp_path)) == ["in.zarr", "out.zarr"]


def test_a_memory_mapped_npy_round_trips_into_npy(tmp_path):
    x = np.random.default_rng(3).integers(0, 255, (50, 7), dtype=np.uint8)
    np.save(tmp_path / "in.npy", x)
    assert chunked.is_chunked(tmp_path / "in.npy", budget=100)
    assert not chunked.is_chunked(tmp_path / "in.npy")
    w = np.array([1, -2, 1])
    shape = convolve_chunked(tmp_path / "in.npy", str(tmp_path / "out.npy"), w, ndim=1,
                             mode="full", pad_mode="circular", dilation=3, chunks=4)
    got = np.load(tmp_path / "out.npy")
    assert shape == got.shape
    np.testing.assert_array_equal(got, convolve(x, w, "full", pad_mode="circular",
                                                dilation=3, ndim=1))


def test_an_existing_store_is_replaced_whole(tmp_path):
    x = np.arange(30.0)
    convolve_chunked(x, tmp_path / "out.zarr", [1.0], chunks=7)
    convolve_chunked(x, tmp_path / "out.zarr", [1.0, 1.0], chunks=7)
    np.testing.assert_array_equal(chunked.read_chunked(tmp_path / "out.zarr")[:],
                                  convolve(x, [1.0, 1.0]))
    assert os.listdir(tmp_path) == ["out.zarr"]


class Boom(Exception):
    pass


@pytest.mark.parametrize("name", ["out.zarr", "out.npy"])
@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_a_failure_midway_leaves_no_target_and_no_temporary(tmp_path, monkeypatch, name, error):
    calls = []
    real = chunked.convolve_block

    def failing(p, index):
        calls.append(index)
        if len(calls) == 5:
            raise error()
        return real(p, index)

    monkeypatch.setattr(chunked, "convolve_block", failing)
    with pytest.raises(error):
        convolve_chunked(np.ones((40, 40)), tmp_path / name, np.ones((3, 3)), chunks=8)
    assert os.listdir(tmp_path) == []


def test_a_failure_leaves_an_existing_target_untouched(tmp_path, monkeypatch):
    np.save(tmp_path / "out.npy", np.arange(3))
    monkeypatch.setattr(chunked, "convolve_block", lambda p, index: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        convolve_chunked(np.ones(10), tmp_path / "out.npy", [1.0])
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.arange(3))
    assert os.listdir(tmp_path) == ["out.npy"]


def test_unsupported_targets_and_kernels_are_clear_errors(tmp_path):
    with pytest.raises(FormatError, match="out.png: chunked output"):
        convolve_chunked(np.ones(5), tmp_path / "out.png", [1.0])
    with pytest.raises(ShapeError, match="filter banks"):
        plan(np.ones((5, 5, 2)), np.ones((3, 2, 2, 2)))
    with pytest.raises(ShapeError, match="kernel spans 7"):
        plan(np.ones(5), np.ones(7), mode="valid")
