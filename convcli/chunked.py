"""Arrays larger than memory, convolved chunk by chunk: ``.zarr`` stores and big ``.npy`` files.

The output is cut into blocks in *output* index space. Block ``[o0, o1)`` of an axis
needs the input window ``[o0*s - before, (o1-1)*s - before + ke)``; the part of that
window outside the array is filled as padding of the *whole* array would fill it
(zeros, a constant, or indices mirrored/wrapped/clamped into ``[0, n)``), so a block
sees exactly the samples the whole computation sees. Each block is then one call of
:func:`convcli.engine.convolve` (or ``correlate``) with ``mode='valid'``, the same
function the in-memory path calls, and written into its place in the target. Strided
output blocks start at output indices, so windows land on the stride grid.

Dask runs the blocks: its local threaded scheduler by default, or a
``distributed`` cluster given its address. Dask and zarr are imported only here and
only when a chunked array is used.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .errors import FormatError, ShapeError
from .geometry import Axis, axes, check_nonempty, per_axis

CHUNKED_EXTENSIONS = (".zarr", ".npy")
_BLOCK_BYTES = 32 << 20  # default output block size when the source has no chunks


def memory_budget() -> int:
    """Bytes a single array may take before convcli streams it: a quarter of free RAM."""
    from .engine.padding import available_memory

    return available_memory() // 4


def is_chunked(path, budget: int | None = None) -> bool:
    """True for a ``.zarr`` store, or a ``.npy`` file larger than ``budget`` bytes.

    ``budget`` defaults to :func:`memory_budget`.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path.rstrip("/"))[1].lower()
    if ext == ".zarr":
        return True
    if ext != ".npy" or not os.path.isfile(path):
        return False
    return os.path.getsize(path) > (memory_budget() if budget is None else budget)


def read_chunked(path):
    """Open a chunked array without reading it: a ``zarr.Array`` or a read-only ``np.memmap``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.zarr`` store or a ``.npy`` file.

    Returns
    -------
    zarr.Array or numpy.memmap of any shape
    """
    path = os.fspath(path)
    ext = os.path.splitext(path.rstrip("/"))[1].lower()
    try:
        if ext == ".zarr":
            import zarr

            return zarr.open_array(path, mode="r")
        if ext == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        from .errors import FileError

        raise FileError(f"{path}: no such file or store") from None
    except (ValueError, OSError) as e:
        from .errors import DataError

        raise DataError(f"{path}: not a readable {ext[1:]} array ({e})") from None
    raise FormatError(f"{path}: chunked arrays are .zarr stores or .npy files")


class _NpyFile:
    """A ``.npy`` file that each task maps afresh: pickles as its path, not its data."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        a = np.load(self.path, mmap_mode="r", allow_pickle=False)
        self.shape, self.dtype = a.shape, a.dtype

    def __getitem__(self, index):
        return np.load(self.path, mmap_mode="r", allow_pickle=False)[index]


@dataclass(frozen=True)
class Plan:
    """Everything one block needs: picklable, so cluster workers get it whole.

    ``chunks`` holds the output block lengths per convolved axis; trailing
    (channel) axes are never split.
    """

    source: object  # zarr.Array, ndarray/memmap or _NpyFile of shape (n_0, ..., *channels)
    kernel: np.ndarray  # (k_0, ..., k_{nd-1}[, *channels])
    geometry: tuple[Axis, ...]
    chunks: tuple[tuple[int, ...], ...]
    pad_mode: str
    pad_value: float
    correlate: bool
    method: str
    dtype: np.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        """Output shape: (out_0, ..., out_{nd-1}, *channels)."""
        channels = tuple(self.source.shape[len(self.chunks):])
        return tuple(ax.length for ax in self.geometry) + channels

    def blocks(self):
        """Every block index, row-major."""
        import itertools

        return itertools.product(*(range(len(c)) for c in self.chunks))

    def bounds(self, index) -> tuple[tuple[int, int], ...]:
        """Output ``(start, stop)`` per convolved axis of block ``index``."""
        out = []
        for c, i in zip(self.chunks, index):
            start = sum(c[:i])
            out.append((start, start + c[i]))
        return tuple(out)


def plan(source, kernel, *, ndim=None, mode=None, pad=None, pad_mode="zeros", pad_value=0.0,
         stride=1, dilation=1, correlate=False, method="auto", chunks=None) -> Plan:
    """Check the arguments and fix the geometry and the output blocks of a chunked convolution.

    Parameters as in :func:`convolve_chunked`; ``source`` is already opened.
    """
    from .engine.padding import canonical_mode

    w = np.asarray(kernel)
    nd = ndim or w.ndim
    if w.ndim == 4 and ndim in (None, 2):
        raise ShapeError("filter banks (K, C, kh, kw) are not supported on chunked arrays")
    if len(source.shape) < nd or w.ndim < nd:
        raise ShapeError(f"a {nd}-D convolution needs a {nd}-D input and kernel, "
                         f"got {len(source.shape)}-D and {w.ndim}-D")
    if w.ndim > nd and w.shape[nd:] != tuple(source.shape[nd:]):
        raise ShapeError(f"the kernel's channel shape {w.shape[nd:]} does not match the "
                         f"input's {tuple(source.shape[nd:])}")
    if mode is None and pad is None:
        mode = "full"
    geometry = axes(tuple(source.shape[:nd]), w.shape[:nd], mode, pad=pad, stride=stride,
                    dilation=dilation)
    check_nonempty(geometry)
    pad_mode = canonical_mode(pad_mode)
    dtype = _result_dtype(source.dtype, w, nd, pad_mode, pad_value, correlate)
    sizes = _block_sizes(geometry, chunks, getattr(source, "chunks", None), source, dtype)
    chunks_t = tuple(_split(ax.length, c) for ax, c in zip(geometry, sizes))
    return Plan(source, w, geometry, chunks_t, pad_mode, float(pad_value), correlate, method,
                dtype)


def _window_dtype(dtype, pad_mode, pad_value) -> np.dtype:
    """The dtype of an edge window: integers padded with a fraction become float64."""
    constant = pad_mode == "constant" and float(pad_value) != int(pad_value)
    return np.dtype(np.float64) if constant and np.dtype(dtype).kind in "biu" else np.dtype(dtype)


def _result_dtype(dtype, w, nd, pad_mode, pad_value, correlate) -> np.dtype:
    """What the engine returns for this input and kernel dtype: a one-output probe."""
    probe = np.zeros(w.shape, _window_dtype(dtype, pad_mode, pad_value))
    return _engine(correlate)(probe, w, "valid", ndim=nd, method="direct").dtype


def _block_sizes(geometry, chunks, source_chunks, source, dtype) -> tuple[int, ...]:
    """Output block length per axis: asked for, else the source's chunks over the stride."""
    nd = len(geometry)
    if chunks is not None:
        sizes = per_axis(chunks, nd, "chunks")
    elif source_chunks is not None:
        sizes = tuple(-(-c // ax.stride) for c, ax in zip(source_chunks[:nd], geometry))
    else:
        from dask.array.core import normalize_chunks

        channels = math.prod(source.shape[nd:])
        auto = normalize_chunks("auto", tuple(ax.length for ax in geometry),
                                limit=max(1, _BLOCK_BYTES // channels), dtype=dtype)
        sizes = tuple(c[0] for c in auto)
    if any(int(c) < 1 for c in sizes):
        raise ValueError("chunk sizes must be at least 1")
    return tuple(min(int(c), ax.length) for c, ax in zip(sizes, geometry))


def _split(length: int, size: int) -> tuple[int, ...]:
    """Regular blocks of ``size`` covering ``length``, the last one shorter."""
    return (size,) * (length // size) + ((length % size,) if length % size else ())


def _engine(correlate: bool):
    from .engine import convolve
    from .engine import correlate as corr

    return corr if correlate else convolve


def source_index(start: int, stop: int, n: int, mode: str):
    """Where samples ``start..stop-1`` of an axis padded by ``mode`` come from in ``[0, n)``.

    A slice when the window lies inside the array, else an index array that clamps
    (``replicate``), wraps (``circular``) or mirrors (``symmetric``, ``reflect``)
    as :func:`numpy.pad` does for any padding width.

    Examples
    --------
    >>> source_index(-2, 3, 3, 'symmetric').tolist()
    [1, 0, 0, 1, 2]
    """
    if start >= 0 and stop <= n:
        return slice(start, stop)
    i = np.arange(start, stop)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    if mode == "symmetric":
        j = i % (2 * n)
        return np.where(j < n, j, 2 * n - 1 - j)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(i)
        j = i % (2 * n - 2)
        return np.where(j < n, j, 2 * n - 2 - j)
    raise ValueError(f"pad mode {mode!r} has no source index")


def read_window(source, starts, stops, pad_mode="zeros", pad_value=0.0) -> np.ndarray:
    """Samples ``[start, stop)`` per leading axis of ``source`` padded as a whole.

    Parameters
    ----------
    source : array-like of shape (n_0, ..., n_{m-1}, *channels)
        Anything indexable: ndarray, memmap, zarr.Array.
    starts, stops : sequence of int, one per leading axis
        The window in input coordinates; it may reach past either end.
    pad_mode, pad_value
        What lies beyond the ends, as in :func:`convcli.pad`.

    Returns
    -------
    ndarray of shape (stop_0 - start_0, ..., *channels)
    """
    from .engine.padding import pad_pairs

    shape = source.shape
    if pad_mode in ("zeros", "constant"):
        clipped, pairs = [], []
        for a, b, n in zip(starts, stops, shape):
            lo = min(max(a, 0), n)
            hi = max(min(b, n), lo)
            before = min(max(lo - a, 0), b - a)
            clipped.append(slice(lo, hi))
            pairs.append((before, b - a - (hi - lo) - before))
        inside = np.asarray(source[tuple(clipped)])
        return pad_pairs(inside, pairs, pad_mode, pad_value)
    index = [source_index(a, b, n, pad_mode) for a, b, n in zip(starts, stops, shape)]
    if all(isinstance(i, slice) for i in index):
        return np.asarray(source[tuple(index)])
    arrays = [np.arange(i.start, i.stop) if isinstance(i, slice) else i for i in index]
    if hasattr(source, "oindex"):  # zarr: orthogonal selection reads only what it needs
        return np.asarray(source.oindex[tuple(arrays)])
    return np.asarray(source[np.ix_(*arrays)])


def convolve_block(p: Plan, index) -> np.ndarray:
    """Block ``index`` of the output: its window read with its halo, then one 'valid' call.

    Returns
    -------
    ndarray of shape (block_0, ..., *channels) and dtype ``p.dtype``
    """
    bounds = p.bounds(index)
    starts = [o0 * ax.stride - ax.before for (o0, _), ax in zip(bounds, p.geometry)]
    stops = [(o1 - 1) * ax.stride - ax.before + ax.ke for (_, o1), ax in zip(bounds, p.geometry)]
    x = read_window(p.source, starts, stops, p.pad_mode, p.pad_value)
    x = x.astype(_window_dtype(x.dtype, p.pad_mode, p.pad_value), copy=False)
    y = _engine(p.correlate)(x, p.kernel, "valid", ndim=len(p.geometry), method=p.method,
                             stride=tuple(ax.stride for ax in p.geometry),
                             dilation=tuple(ax.dilation for ax in p.geometry))
    return y.astype(p.dtype, copy=False)


def to_dask(p: Plan):
    """The whole output as a lazy ``dask.array``, one task per block of ``p``.

    Returns
    -------
    dask.array.Array of shape ``p.shape``, chunked as ``p.chunks`` (channels whole)
    """
    import dask.array as da

    channels = p.shape[len(p.chunks):]

    def block(block_id=None):
        return convolve_block(p, block_id[: len(p.chunks)])

    return da.map_blocks(block, chunks=p.chunks + tuple((c,) for c in channels), dtype=p.dtype,
                         meta=np.empty((0,) * len(p.shape), p.dtype))


def write_block(p: Plan, target: str, index) -> None:
    """Convolve block ``index`` and store it into the ``.zarr`` or ``.npy`` at ``target``.

    The target is opened here, by path, so the task pickles small and a target
    removed after a failure is not recreated by a late task.
    """
    y = convolve_block(p, index)
    where = tuple(slice(a, b) for a, b in p.bounds(index))
    if target.endswith(".zarr"):
        import zarr

        zarr.open_array(target, mode="r+")[where] = y
    else:
        out = np.load(target, mmap_mode="r+", allow_pickle=False)
        out[where] = y
        out.flush()


def _create_target(path: str, p: Plan) -> None:
    """An empty array of the output's shape and dtype at ``path``, its chunks the blocks."""
    if path.endswith(".zarr"):
        import zarr

        chunks = tuple(c[0] for c in p.chunks) + p.shape[len(p.chunks):]
        zarr.open_array(path, mode="w", shape=p.shape, chunks=chunks, dtype=p.dtype)
    else:
        np.lib.format.open_memmap(path, mode="w+", dtype=p.dtype, shape=p.shape).flush()


def _open_source(source):
    """A path opens as zarr or a path-pickled ``.npy``; arrays pass through."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        a = read_chunked(path)
        return _NpyFile(path) if isinstance(a, np.memmap) else a
    if isinstance(source, np.memmap) and isinstance(source.filename, str) \
            and source.filename.endswith(".npy") and source.flags.c_contiguous:
        return _NpyFile(source.filename)
    return source


def convolve_chunked(source, target, kernel, *, ndim: int | None = None,
                     mode: str | None = None, pad=None, pad_mode: str = "zeros",
                     pad_value: float = 0.0, stride=1, dilation=1, correlate: bool = False,
                     method: str = "auto", chunks=None, scheduler=None,
                     progress=None) -> tuple[int, ...]:
    """Convolve an array larger than memory block by block, writing ``target`` atomically.

    Parameters
    ----------
    source : str, os.PathLike, zarr.Array or ndarray of shape (n_0, ..., *channels)
        A ``.zarr`` store or ``.npy`` file (memory-mapped), or an opened array.
    target : str or os.PathLike
        A ``.zarr`` store or ``.npy`` file; written to a hidden ``.<name>.<random>.part``
        sibling and renamed into place only when every block is done.
    kernel : array_like of shape (k_0, ..., k_{ndim-1}[, *channels])
    ndim, mode, pad, pad_mode, pad_value, stride, dilation, method
        As in :func:`convcli.convolve`; results equal its results (to float rounding,
        exactly for integers).
    correlate : bool
        Slide the kernel unflipped, as :func:`convcli.correlate`.
    chunks : int or sequence of int, optional
        Output block length per convolved axis; default: the source's chunks divided
        by the stride, or blocks of about 32 MB.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``) or client; default: local threads.
        With a cluster, source and target must be paths every worker reaches.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block.

    Returns
    -------
    tuple of int
        The output shape (out_0, ..., *channels); dtype as the engine's (int64 for
        integers, float32 for float32 input and kernel, else float64).
    """
    from .io.atomic import atomic_dir, atomic_path

    target = os.fspath(target)
    if not target.endswith(CHUNKED_EXTENSIONS):
        raise FormatError(f"{target}: chunked output goes to a .zarr store or a .npy file")
    p = plan(_open_source(source), kernel, ndim=ndim, mode=mode, pad=pad, pad_mode=pad_mode,
             pad_value=pad_value, stride=stride, dilation=dilation, correlate=correlate,
             method=method, chunks=chunks)
    atomic = atomic_dir if target.endswith(".zarr") else atomic_path
    with atomic(target) as tmp:
        _create_target(tmp, p)
        run = _run_local if scheduler is None else _run_cluster
        run(p, tmp, scheduler, progress or (lambda done, total: None))
    return p.shape


def _run_local(p: Plan, tmp: str, scheduler, progress) -> None:
    """Every block on Dask's threaded scheduler; a failure waits for running blocks first."""
    from concurrent.futures import ThreadPoolExecutor

    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(write_block, pure=False)(p, tmp, i) for i in p.blocks()]
    done = [0]

    def finished(key, result, dsk, state, worker_id):
        done[0] += 1
        progress(done[0], len(tasks))

    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        with Callback(posttask=finished):
            dask.compute(*tasks, scheduler="threads", pool=pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # no block writes after the cleanup


def _run_cluster(p: Plan, tmp: str, scheduler, progress) -> None:
    """Every block as a task on a distributed cluster; the first failure cancels the rest."""
    from distributed import as_completed

    from .cluster import connect

    with connect(scheduler) as client, client.as_current():
        [shared] = client.scatter([p], broadcast=True, hash=False)  # the plan travels once
        futures = [client.submit(write_block, shared, tmp, i, pure=False) for i in p.blocks()]
        try:
            for done, future in enumerate(as_completed(futures), 1):
                future.result()
                progress(done, len(futures))
        except BaseException:
            client.cancel(futures)
            raise
