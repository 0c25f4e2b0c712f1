"""Zarr stores as plain arrays, for results small enough to hold (the big ones go through
:mod:`convcli.chunked`, block by block)."""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .data import Data


def read_zarr(source, name: str, fmt: str = "zarr", **_) -> Data:
    """A whole ``.zarr`` store's array, as int64 or float64 like ``.npy``."""
    from ..chunked import read_chunked
    from ..engine.padding import check_memory
    from .arrays import _finite

    if isinstance(source, bytes):
        raise DataError(f"{name}: a zarr store is a folder; it cannot come through a pipe")
    z = read_chunked(source)
    check_memory(int(np.prod(z.shape)))
    array = np.asarray(z[...])
    if array.dtype == bool or array.dtype.kind in "iu":
        return Data(array.astype(np.int64), fmt, name)
    if array.dtype.kind != "f" or array.size == 0:
        raise DataError(f"{name}: cannot use an empty or {array.dtype} array as real numbers")
    return Data(_finite(array.astype(np.float64, copy=False), name), fmt, name)


def write_zarr(data: Data, path: str, fmt: str = "zarr", **_) -> None:
    """Write an array as a ``.zarr`` store, atomically (a hidden folder renamed into place)."""
    import zarr

    from .atomic import atomic_dir

    if path == "-":
        raise DataError("a zarr store is a folder; it cannot go to standard output")
    with atomic_dir(path) as tmp:
        z = zarr.create_array(tmp, shape=data.array.shape, dtype=data.array.dtype,
                              overwrite=True)
        z[...] = data.array
