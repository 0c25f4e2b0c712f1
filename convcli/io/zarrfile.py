"""Chunked arrays on disk: ``.zarr`` stores (and big ``.npy`` files) opened without reading
them, checked before any work, and read or written whole when small enough to hold (the
big ones go through :mod:`convcli.routes.chunks`, block by block)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError, FileError, FormatError
from .data import Data


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
    path = os.path.abspath(os.fspath(path))  # workers started elsewhere open the same store
    ext = os.path.splitext(path.rstrip("/"))[1].lower()
    try:
        if ext == ".zarr":
            from ..extras import need

            zarr = need("zarr", "a .zarr store")
            return _checked(zarr.open_array(path, mode="r"), path)
        if ext == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise FileError(f"{path}: no such file or store") from None
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable {ext[1:]} array ({e})") from None
    raise FormatError(f"{path}: chunked arrays are .zarr stores or .npy files")


MAX_CHUNKS = 1_000_000  # a store cut finer than this is refused before any work


def _checked(z, path: str):
    """A store whose geometry can be worked through: a sane chunk count, a finite fill."""
    import math

    count = math.prod(-(-n // c) for n, c in zip(z.shape, z.chunks)) if z.shape else 1
    if count > MAX_CHUNKS:
        raise DataError(
            f"{path}: {count:,} chunks of {'x'.join(map(str, z.chunks))} "
            f"(more than {MAX_CHUNKS:,}); rechunk it into larger chunks first"
        )
    fill = z.fill_value
    if (
        fill is not None
        and np.issubdtype(np.asarray(fill).dtype, np.inexact)
        and not np.all(np.isfinite(fill))
    ):
        raise DataError(
            f"{path}: its fill value is {fill}, which convcli cannot convolve; "
            "give the store a finite fill value"
        )
    return z


def read_zarr(source, name: str, fmt: str = "zarr", **_) -> Data:
    """A whole ``.zarr`` store's array, as int64 or float64 like ``.npy``."""
    from ..engine.padding import check_memory
    from .arrays import as_numbers

    if isinstance(source, bytes):
        raise DataError(f"{name}: a zarr store is a folder; it cannot come through a pipe")
    z = read_chunked(source)
    check_memory(int(np.prod(z.shape)))
    return Data(as_numbers(np.asarray(z[...]), name), fmt, name)


def write_zarr(data: Data, path: str, fmt: str = "zarr", **_) -> None:
    """Write an array as a ``.zarr`` store, atomically (a hidden folder renamed into place)."""
    from ..extras import need
    from .atomic import atomic_dir

    zarr = need("zarr", "a .zarr store")

    if path == "-":
        raise DataError("a zarr store is a folder; it cannot go to standard output")
    with atomic_dir(path) as tmp:
        z = zarr.create_array(tmp, shape=data.array.shape, dtype=data.array.dtype, overwrite=True)
        z[...] = data.array
