"""Arrays larger than memory, convolved block by block: ``.zarr`` stores and big ``.npy`` files.

:mod:`convcli.pieces` cuts the output into blocks and computes each from its input
window plus halo with the in-memory engine; here Dask runs those blocks (its local
threaded scheduler, or a ``distributed`` cluster given its address) and each block is
written into its place in a hidden temporary target that is renamed into place at the
end. Dask and zarr are imported only when a chunked array is used.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import FormatError, SchedulerError
from ..io.zarrfile import read_chunked
from ..pieces import Plan, convolve_block, plan
from .blockwrite import write_block

CHUNKED_EXTENSIONS = (".zarr", ".npy")
BLOCKS_PER_THREAD = 2  # blocks in flight per worker thread: each holds its chunk


def wanted(source: str, fmt: str, out_fmt: str) -> bool:
    """A .zarr store, or a .npy larger than memory, to a .zarr or .npy: block by block."""
    return out_fmt in ("zarr", "npy") and (fmt == "zarr" or fmt == "npy" and is_chunked(source))


def accepts(plan) -> str | None:
    if plan.settings.steps or not plan.to_file:
        return None
    if not wanted(plan.source, plan.fmt, plan.out_fmt):
        return None
    return "a store, or an array larger than a quarter of free memory: block by block"


def run(plan, show_steps=None) -> None:
    """Convolve the plan's store or big array chunk by chunk (on the cluster with
    ``--scheduler``)."""
    from ..errors import ShapeError
    from .plan import stage

    settings, kernel = plan.settings, plan.kernel
    if kernel.ndim == 4 or settings.bias is not None:
        raise ShapeError(
            "filter banks and biases are not supported on chunked arrays; "
            "convolve the array in memory (as .npy)"
        )
    options = settings.engine_options()
    del options["layout"]
    from .. import messages

    where = "on the cluster" if settings.scheduler else "in chunks"
    with stage(f"{plan.name} -> {plan.out} {where}"):
        convolve_chunked(
            plan.source,
            plan.out,
            kernel,
            correlate=settings.correlate,
            scheduler=settings.scheduler,
            progress=messages.bar(f"convolving {where}"),
            **options,
        )


def memory_budget() -> int:
    """Bytes a single array may take before convcli streams it: a quarter of free RAM."""
    from ..engine.padding import available_memory

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


class _NpyFile:
    """A ``.npy`` file that each task maps afresh: pickles as its path, not its data."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        a = np.load(self.path, mmap_mode="r", allow_pickle=False)
        self.shape, self.dtype = a.shape, a.dtype

    def __getitem__(self, index):
        return np.load(self.path, mmap_mode="r", allow_pickle=False)[index]


def to_dask(p: Plan):
    """The whole output as a lazy ``dask.array``, one task per block of ``p``.

    Returns
    -------
    dask.array.Array of shape ``p.shape``, chunked as ``p.chunks`` (channels whole)
    """
    from ..extras import need

    da = need("dask.array", "to_dask")

    channels = p.shape[len(p.chunks) :]

    def block(block_id=None):
        return convolve_block(p, block_id[: len(p.chunks)])

    return da.map_blocks(
        block,
        chunks=p.chunks + tuple((c,) for c in channels),
        dtype=p.dtype,
        meta=np.empty((0,) * len(p.shape), p.dtype),
    )


def _create_target(path: str, p: Plan) -> None:
    """An empty array of the output's shape and dtype at ``path``, its chunks the blocks."""
    if path.endswith(".zarr"):
        import zarr

        chunks = tuple(c[0] for c in p.chunks) + p.shape[len(p.chunks) :]
        zarr.open_array(path, mode="w", shape=p.shape, chunks=chunks, dtype=p.dtype)
    else:
        np.lib.format.open_memmap(path, mode="w+", dtype=p.dtype, shape=p.shape).flush()


def _open_source(source):
    """A path opens as zarr or a path-pickled ``.npy``; arrays pass through."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        a = read_chunked(path)
        return _NpyFile(path) if isinstance(a, np.memmap) else a
    if isinstance(source, np.memmap) and str(source.filename).endswith(".npy"):
        whole = _NpyFile(source.filename)  # the same file, unless source is a view of it
        if (whole.shape, whole.dtype) == (source.shape, source.dtype) and source.flags.c_contiguous:
            return whole
    return source


def convolve_chunked(
    source,
    target,
    kernel,
    *,
    ndim: int | None = None,
    mode: str | None = None,
    pad=None,
    pad_mode: str = "zeros",
    pad_value: float = 0.0,
    stride=1,
    dilation=1,
    correlate: bool = False,
    method: str = "auto",
    chunks=None,
    scheduler=None,
    progress=None,
) -> tuple[int, ...]:
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
    from ..io.atomic import atomic_dir, atomic_path

    target = os.fspath(target)
    if not target.endswith(CHUNKED_EXTENSIONS):
        raise FormatError(f"{target}: chunked output goes to a .zarr store or a .npy file")
    p = plan(
        _open_source(source),
        kernel,
        ndim=ndim,
        mode=mode,
        pad=pad,
        pad_mode=pad_mode,
        pad_value=pad_value,
        stride=stride,
        dilation=dilation,
        correlate=correlate,
        method=method,
        chunks=chunks,
    )
    _say_reads(p)
    atomic = atomic_dir if target.endswith(".zarr") else atomic_path
    with atomic(target) as tmp:
        _create_target(tmp, p)
        run = _run_local if scheduler is None else _run_cluster
        run(p, tmp, scheduler, progress or (lambda done, total: None))
    return p.shape


def _say_reads(p: Plan) -> None:
    """-v: the blocks, and the source bytes they read per byte of the source (chunk-touch
    accounting: each zarr chunk a block needs is decoded once; a ``.npy`` reads each
    window with its halo)."""
    import math

    from .. import messages
    from .halo import read_ratio

    if messages.level() >= messages.VERBOSE:
        blocks = math.prod(len(c) for c in p.chunks)
        chunks = getattr(p.source, "chunks", None)
        how = f"chunks of {'x'.join(map(str, chunks))} each read once" if chunks else "windows"
        messages.verbose(
            f"{blocks} block(s) of {'x'.join(str(c[0]) for c in p.chunks)}; "
            f"reads {read_ratio(p):.2f} bytes per byte of the source ({how})"
        )


def _run_local(p: Plan, tmp: str, scheduler, progress) -> None:
    """Every block on a pool of threads (NumPy and libraries release the GIL); a failure
    cancels the queued blocks and waits for the running ones before the cleanup. A zarr
    store's chunks are each read once and shared (:mod:`convcli.routes.halo`)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    if getattr(p.source, "chunks", None) is not None:
        from .halo import run_local

        return run_local(p, tmp, progress, os.cpu_count() or 1)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        futures = [pool.submit(write_block, p, tmp, i) for i in p.blocks()]
        try:
            for done, future in enumerate(as_completed(futures), 1):
                future.result()
                progress(done, len(futures))
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_cluster(p: Plan, tmp: str, scheduler, progress) -> None:
    """Every block as a task on a distributed cluster, submitted through a window of about
    two blocks per worker thread in a sweep (a store's chunks each read once, as tasks of
    their own); the first failure cancels the rest."""
    import math

    from ..cluster import connect, watched
    from ..io.atomic import on_cancel
    from .halo import submitted

    total = math.prod(len(c) for c in p.chunks)
    with connect(scheduler) as client, client.as_current():
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        [shared] = client.scatter([p], broadcast=True, hash=False)  # the plan travels once
        held, live = {}, set()
        if getattr(p.source, "chunks", None) is not None:
            futures = submitted(client, p, shared, tmp, held)
        else:
            futures = (client.submit(write_block, shared, tmp, i, pure=False) for i in p.blocks())
        written = 0
        with on_cancel(lambda: client.cancel(list(live) + list(held.values()))):
            for done, future in enumerate(
                watched(
                    client,
                    futures,
                    str(scheduler),
                    live=live,
                    window=BLOCKS_PER_THREAD * threads,
                    total=total,
                ),
                1,
            ):
                written += future.result()
                future.release()
                progress(done, total)
    expected = int(np.prod(p.shape))
    if written != expected:  # verified, not trusted: nothing is put in place short
        raise SchedulerError(
            f"the cluster wrote {written:,} of {expected:,} values; nothing was written"
        )
