"""Chunked arrays: zarr and npy round trips through Dask, and outputs that appear atomically."""

import os

import numpy as np
import pytest

from convcli.engine import convolve
from convcli.errors import FileError, FormatError
from convcli.io.zarrfile import read_chunked
from convcli.pieces import plan
from convcli.routes import chunks as chunked
from convcli.routes.chunks import convolve_chunked, to_dask


def test_a_zarr_store_round_trips_with_its_chunks(tmp_path):
    import zarr

    x = np.random.default_rng(1).standard_normal((40, 30, 3)).astype(np.float32)
    source = zarr.open_array(
        tmp_path / "in.zarr", mode="w", shape=x.shape, chunks=(16, 8, 3), dtype=x.dtype
    )
    source[:] = x
    w = np.random.default_rng(2).standard_normal((5, 5)).astype(np.float32)
    done = []
    shape = convolve_chunked(
        str(tmp_path / "in.zarr"),
        tmp_path / "out.zarr",
        w,
        ndim=2,
        mode="same",
        pad_mode="symmetric",
        stride=2,
        progress=lambda i, n: done.append((i, n)),
    )
    out = read_chunked(tmp_path / "out.zarr")
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
    shape = convolve_chunked(
        tmp_path / "in.npy",
        str(tmp_path / "out.npy"),
        w,
        ndim=1,
        mode="full",
        pad_mode="circular",
        dilation=3,
        chunks=4,
    )
    got = np.load(tmp_path / "out.npy")
    assert shape == got.shape
    np.testing.assert_array_equal(
        got, convolve(x, w, "full", pad_mode="circular", dilation=3, ndim=1)
    )


def test_a_memory_mapped_view_is_convolved_as_the_view(tmp_path):
    np.save(tmp_path / "in.npy", np.arange(60.0).reshape(20, 3))
    view = np.load(tmp_path / "in.npy", mmap_mode="r")[5:12]
    convolve_chunked(view, tmp_path / "out.npy", [1.0, -1.0], ndim=1, chunks=3)
    np.testing.assert_array_equal(
        np.load(tmp_path / "out.npy"), convolve(np.asarray(view), [1.0, -1.0], ndim=1)
    )


def test_an_existing_store_is_replaced_whole(tmp_path):
    x = np.arange(30.0)
    convolve_chunked(x, tmp_path / "out.zarr", [1.0], chunks=7)
    convolve_chunked(x, tmp_path / "out.zarr", [1.0, 1.0], chunks=7)
    np.testing.assert_array_equal(read_chunked(tmp_path / "out.zarr")[:], convolve(x, [1.0, 1.0]))
    assert os.listdir(tmp_path) == ["out.zarr"]


def test_the_result_as_a_lazy_dask_array_has_the_plan_s_chunks():
    x = np.random.default_rng(4).standard_normal((33, 18, 2))
    p = plan(x, np.ones((4, 3)), ndim=2, mode="same", pad_mode="replicate", stride=2, chunks=5)
    lazy = to_dask(p)
    assert lazy.chunks == p.chunks + ((2,),)
    np.testing.assert_allclose(
        lazy.compute(), convolve(x, np.ones((4, 3)), "same", ndim=2, pad_mode="replicate", stride=2)
    )


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


def test_unsupported_targets_and_missing_sources_are_clear_errors(tmp_path):
    with pytest.raises(FormatError, match="out.png: chunked output"):
        convolve_chunked(np.ones(5), tmp_path / "out.png", [1.0])
    with pytest.raises(FileError, match="missing.zarr: no such"):
        convolve_chunked(tmp_path / "missing.zarr", tmp_path / "out.zarr", [1.0])
