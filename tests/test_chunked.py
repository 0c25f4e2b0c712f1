"""Chunked arrays: zarr and npy round trips through Dask, and outputs that appear atomically."""

import os

import numpy as np
import pytest

from convcli.engine import convolve
from convcli.errors import FileError, FormatError
from convcli.io.zarrfile import read_chunked
from convcli.pieces import plan
from convcli.routes import blockwrite
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
    real = blockwrite.convolve_block

    def failing(p, index):
        calls.append(index)
        if len(calls) == 5:
            raise error()
        return real(p, index)

    monkeypatch.setattr(blockwrite, "convolve_block", failing)
    with pytest.raises(error):
        convolve_chunked(np.ones((40, 40)), tmp_path / name, np.ones((3, 3)), chunks=8)
    assert os.listdir(tmp_path) == []


def test_a_failure_leaves_an_existing_target_untouched(tmp_path, monkeypatch):
    np.save(tmp_path / "out.npy", np.arange(3))
    monkeypatch.setattr(blockwrite, "convolve_block", lambda p, index: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        convolve_chunked(np.ones(10), tmp_path / "out.npy", [1.0])
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.arange(3))
    assert os.listdir(tmp_path) == ["out.npy"]


def test_unsupported_targets_and_missing_sources_are_clear_errors(tmp_path):
    with pytest.raises(FormatError, match="out.png: chunked output"):
        convolve_chunked(np.ones(5), tmp_path / "out.png", [1.0])
    with pytest.raises(FileError, match="missing.zarr: no such"):
        convolve_chunked(tmp_path / "missing.zarr", tmp_path / "out.zarr", [1.0])


def _counting_store(path):
    """A zarr store that counts the bytes of the chunks read from it."""
    from zarr.storage import LocalStore, WrapperStore

    class Counting(WrapperStore):
        read = 0

        async def get(self, key, prototype, byte_range=None):
            buf = await self._store.get(key, prototype, byte_range)
            if buf is not None and not key.rsplit("/", 1)[-1].startswith((".z", "zarr.json")):
                type(self).read += len(buf)
            return buf

    return Counting(LocalStore(str(path)))


@pytest.mark.parametrize("pad_mode", ["zeros", "reflect", "circular"])
def test_each_chunk_of_a_store_is_read_once_whatever_the_halo(tmp_path, pad_mode):
    import zarr

    x = np.random.default_rng(9).standard_normal((90, 80)).astype(np.float32)
    z = zarr.create_array(tmp_path / "x.zarr", shape=x.shape, chunks=(30, 20), dtype="float32")
    z[...] = x
    stored = sum(f.stat().st_size for f in (tmp_path / "x.zarr" / "c").rglob("*") if f.is_file())
    store = _counting_store(tmp_path / "x.zarr")
    w = np.random.default_rng(10).standard_normal((7, 5)).astype(np.float32)
    convolve_chunked(
        zarr.open_array(store=store, mode="r"),
        tmp_path / "y.zarr",
        w,
        mode="same",
        pad_mode=pad_mode,
    )
    assert store.read <= 1.3 * stored  # whole neighbour chunks per block read 7x here
    want = convolve(x, w, "same", pad_mode=pad_mode)
    np.testing.assert_allclose(read_chunked(tmp_path / "y.zarr")[:], want, rtol=1e-5, atol=1e-5)


def test_blocks_not_aligned_with_the_chunks_still_read_each_chunk_once(tmp_path, monkeypatch):
    import zarr

    from convcli.routes import halo

    x = np.random.default_rng(11).standard_normal((37, 29, 2))
    z = zarr.create_array(tmp_path / "x.zarr", shape=x.shape, chunks=(8, 7, 1), dtype="float64")
    z[...] = x
    reads = []
    real = halo.read_chunk
    monkeypatch.setattr(halo, "read_chunk", lambda s, cid: reads.append(cid) or real(s, cid))
    w = np.random.default_rng(12).standard_normal((3, 4))
    settings = dict(ndim=2, mode="full", pad_mode="symmetric", stride=2, dilation=(1, 2))
    convolve_chunked(tmp_path / "x.zarr", tmp_path / "y.zarr", w, chunks=(5, 6), **settings)
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 5 * 5
    np.testing.assert_array_equal(read_chunked(tmp_path / "y.zarr")[:], convolve(x, w, **settings))


def test_a_separable_kernel_runs_as_two_passes_per_block_and_equals_memory(tmp_path, monkeypatch):
    import zarr

    from convcli import kernels
    from convcli.engine import ndfilter

    x = np.random.default_rng(13).standard_normal((120, 100)).astype(np.float32)
    z = zarr.create_array(tmp_path / "x.zarr", shape=x.shape, chunks=(50, 40), dtype="float32")
    z[...] = x
    passes = []
    real = ndfilter.correlate_separable
    monkeypatch.setattr(
        ndfilter, "correlate_separable", lambda *a: passes.append(a[0].shape) or real(*a)
    )
    w = kernels.make("gaussian:sigma=2", 2).astype(np.float32)  # (13, 13), rank one
    convolve_chunked(tmp_path / "x.zarr", tmp_path / "y.zarr", w, mode="same")
    blocks = [shape for shape in passes if shape != w.shape]  # less the dtype probe
    assert len(blocks) == 3 * 3  # each block, its window with halo, in two 1-D passes
    got = read_chunked(tmp_path / "y.zarr")[:]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, convolve(x, w, "same"), rtol=1e-6, atol=1e-6)


def test_a_large_block_is_computed_in_strips_that_equal_the_whole(monkeypatch):
    x = np.random.default_rng(14).standard_normal((300, 40, 2))
    w = np.random.default_rng(15).standard_normal((5, 3))
    monkeypatch.setattr(blockwrite, "STRIP_BYTES", 300 * 40 * 2 * 8 // 3)  # three strips a block
    calls = []
    real = blockwrite.convolve_block
    monkeypatch.setattr(blockwrite, "convolve_block", lambda p, i: calls.append(i) or real(p, i))
    settings = dict(ndim=2, mode="same", pad_mode="reflect")
    p = plan(x, w, chunks=(300, 40), **settings)
    np.testing.assert_array_equal(blockwrite.block_values(p, (0, 0)), convolve(x, w, **settings))
    assert calls == [(0, 0), (1, 0), (2, 0)]
