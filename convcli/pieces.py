"""Pieces of a convolution: output blocks, each one engine call on its input window plus halo.

The output is cut into blocks in *output* index space. Block ``[o0, o1)`` of an axis
needs the input window ``[o0*s - before, (o1-1)*s - before + ke)``; the part of that
window outside the array is filled as padding of the *whole* array would fill it
(zeros, a constant, or indices mirrored/wrapped/clamped into ``[0, n)``), so a block
sees exactly the samples the whole computation sees. Each block is then one call of
:func:`convcli.engine.convolve` (or ``correlate``) with ``mode='valid'``, the same
function the in-memory path calls. Strided output blocks start at output indices, so
windows land on the stride grid. NumPy only: the runners (Dask threads, a cluster,
strips of an image) live elsewhere and all call :func:`convolve_block`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .errors import ArgumentError, ShapeError
from .geometry import Axis, axes, check_nonempty, per_axis

BLOCK_BYTES = 32 << 20  # default output block size when the source has no chunks of its own


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
        channels = tuple(self.source.shape[len(self.chunks) :])
        return tuple(ax.length for ax in self.geometry) + channels

    def blocks(self):
        """Every block index, row-major."""
        return itertools.product(*(range(len(c)) for c in self.chunks))

    def bounds(self, index) -> tuple[tuple[int, int], ...]:
        """Output ``(start, stop)`` per convolved axis of block ``index``."""
        out = []
        for c, i in zip(self.chunks, index):
            start = sum(c[:i])
            out.append((start, start + c[i]))
        return tuple(out)


def plan(
    source,
    kernel,
    *,
    ndim=None,
    mode=None,
    pad=None,
    pad_mode="zeros",
    pad_value=0.0,
    stride=1,
    dilation=1,
    correlate=False,
    method="auto",
    chunks=None,
) -> Plan:
    """Check the arguments and fix the geometry and the output blocks of a chunked convolution.

    Parameters as in :func:`convcli.routes.chunks.convolve_chunked`; ``source`` is an
    opened array of shape (n_0, ..., *channels): anything with ``shape``, ``dtype``
    and NumPy indexing (ndarray, memmap, zarr.Array, whose ``chunks`` set the blocks).
    """
    from .engine.padding import canonical_mode

    w = np.asarray(kernel)
    nd = ndim or w.ndim
    if w.ndim == 4 and ndim in (None, 2):
        raise ShapeError("filter banks (K, C, kh, kw) are not supported on chunked arrays")
    if len(source.shape) < nd or w.ndim < nd:
        raise ShapeError(
            f"a {nd}-D convolution needs a {nd}-D input and kernel, "
            f"got {len(source.shape)}-D and {w.ndim}-D"
        )
    if w.ndim > nd and w.shape[nd:] != tuple(source.shape[nd:]):
        raise ShapeError(
            f"the kernel's channel shape {w.shape[nd:]} does not match the "
            f"input's {tuple(source.shape[nd:])}"
        )
    if mode is None and pad is None:
        mode = "full"
    geometry = axes(
        tuple(source.shape[:nd]), w.shape[:nd], mode, pad=pad, stride=stride, dilation=dilation
    )
    check_nonempty(geometry)
    pad_mode = canonical_mode(pad_mode)
    if not any(ax.before or ax.after for ax in geometry):
        pad_value = 0.0  # no padding: a fractional pad value changes nothing, not even the dtype
    dtype = _result_dtype(source.dtype, w, nd, pad_mode, pad_value, correlate)
    sizes = _block_sizes(geometry, chunks, getattr(source, "chunks", None), source, dtype)
    chunks_t = tuple(_split(ax.length, c) for ax, c in zip(geometry, sizes))
    return Plan(source, w, geometry, chunks_t, pad_mode, float(pad_value), correlate, method, dtype)


def _window_dtype(dtype, pad_mode, pad_value) -> np.dtype:
    """The dtype of an edge window: integers padded with a fraction become float64."""
    constant = pad_mode == "constant" and float(pad_value) != int(pad_value)
    return np.dtype(np.float64) if constant and np.dtype(dtype).kind in "biu" else np.dtype(dtype)


def _result_dtype(dtype, w, nd, pad_mode, pad_value, correlate) -> np.dtype:
    """What the engine returns for this input and kernel dtype (a one-output probe), except
    that a float32 store stays float32 (each block is computed in float64, then stored)."""
    probe = np.zeros(w.shape, _window_dtype(dtype, pad_mode, pad_value))
    result = _engine(correlate)(probe, w, "valid", ndim=nd, method="direct").dtype
    if np.dtype(dtype) == np.float32 and result == np.float64:
        return np.dtype(np.float32)
    if np.dtype(dtype) == np.complex64 and result == np.complex128:
        return np.dtype(np.complex64)
    return result


def _block_sizes(geometry, chunks, source_chunks, source, dtype) -> tuple[int, ...]:
    """Output block length per axis: asked for, else the source's chunks over the stride."""
    nd = len(geometry)
    if chunks is not None:
        sizes = per_axis(chunks, nd, "chunks")
    elif source_chunks is not None:
        sizes = tuple(-(-c // ax.stride) for c, ax in zip(source_chunks[:nd], geometry))
    else:
        sizes = strips(
            tuple(ax.length for ax in geometry),
            BLOCK_BYTES // (dtype.itemsize * math.prod(source.shape[nd:])),
        )
    if any(int(c) < 1 for c in sizes):
        raise ArgumentError("chunk sizes must be at least 1")
    return tuple(min(int(c), ax.length) for c, ax in zip(sizes, geometry))


def strips(lengths, elements: int) -> tuple[int, ...]:
    """Block lengths of about ``elements`` samples, the last axes whole where they fit.

    Whole rows keep a memory-mapped ``.npy`` read contiguous, as strips of an image.

    Examples
    --------
    >>> strips((1000, 300), 20_000)
    (66, 300)
    """
    sizes = []
    for n in reversed(lengths):
        size = min(n, max(1, elements))
        sizes.append(size)
        elements //= size
    return tuple(reversed(sizes))


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
    raise ArgumentError(f"pad mode {mode!r} has no source index")


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
        return pad_pairs(take(source, clipped), pairs, pad_mode, pad_value)
    return take(source, [source_index(a, b, n, pad_mode) for a, b, n in zip(starts, stops, shape)])


def take(source, index) -> np.ndarray:
    """``source`` at a slice or an index array per leading axis (an orthogonal selection).

    A chunked source (one with ``chunks``, as zarr arrays have) is read one chunk
    at a time into the result, so memory holds the result plus one chunk (zarr
    itself decodes up to ten chunks at once).

    Returns
    -------
    ndarray of shape (len(index_0), ..., *channels)
    """
    chunks = getattr(source, "chunks", None)
    if chunks is None:
        return _select(source, index)
    shape = tuple(_length(i) for i in index) + tuple(source.shape[len(index) :])
    out = np.empty(shape, source.dtype)
    for parts in itertools.product(*(_by_chunk(i, c) for i, c in zip(index, chunks))):
        where, what = zip(*parts)
        if all(isinstance(w, slice) for w in where):
            out[where] = _select(source, what)
        else:
            out[np.ix_(*(_as_indices(w) for w in where))] = _select(source, what)
    return out


def _select(source, index) -> np.ndarray:
    """One orthogonal selection: slices as they are, index arrays as ``np.ix_``/``oindex``."""
    if all(isinstance(i, slice) for i in index):
        return np.asarray(source[tuple(index)])
    arrays = tuple(_as_indices(i) for i in index)
    if hasattr(source, "oindex"):  # zarr reads only the chunks it needs
        return np.asarray(source.oindex[arrays])
    return np.asarray(source[np.ix_(*arrays)])


def _by_chunk(index, chunk: int):
    """Split one axis's selection into ``(where in the result, what in the source)`` pieces,
    each inside one chunk of the source."""
    if isinstance(index, slice):
        starts = [index.start] + list(range((index.start // chunk + 1) * chunk, index.stop, chunk))
        stops = starts[1:] + [index.stop]
        return [
            (slice(a - index.start, b - index.start), slice(a, b))
            for a, b in zip(starts, stops)
            if b > a
        ]
    ids = index // chunk
    return [(np.flatnonzero(ids == c), index[ids == c]) for c in np.unique(ids)]


def _length(index) -> int:
    return index.stop - index.start if isinstance(index, slice) else len(index)


def _as_indices(index) -> np.ndarray:
    return np.arange(index.start, index.stop) if isinstance(index, slice) else index


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
    y = _engine(p.correlate)(
        x,
        p.kernel,
        "valid",
        ndim=len(p.geometry),
        method=p.method,
        stride=tuple(ax.stride for ax in p.geometry),
        dilation=tuple(ax.dilation for ax in p.geometry),
    )
    if p.dtype.kind in "iu" and y.dtype.kind not in "iu":  # the engine left int64 here
        raise ShapeError(
            "this block's integer results leave int64; an integer store is never "
            "wrapped: convert it to float64 first"
        )
    return y.astype(p.dtype, copy=False)
