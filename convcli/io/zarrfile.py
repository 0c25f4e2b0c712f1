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
        z = zarr.create_array(tmp, shape=data.array.shape, dtype=data.array.dtype,
                              overwrite=True)
        z[...] = data.array
