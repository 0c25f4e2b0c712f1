"""One block of a chunked job computed and stored: what a thread or a cluster task runs.

Both the chunks route and its halo exchange (:mod:`convcli.routes.halo`) call these, so
they live apart from either.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError
from ..pieces import Plan, convolve_block

STRIP_BYTES = 16 << 20  # a large block is computed in strips of about this much output


def block_values(p: Plan, index) -> np.ndarray:
    """Block ``index``, computed in strips along its first axis when it is large, each strip
    from its own window plus halo: memory holds the block and one strip's window (with the
    engine's passes over it), not a whole block's window three times over.

    Returns
    -------
    ndarray of shape (block_0, ..., *channels) and dtype ``p.dtype``, C-contiguous
    """
    import math
    from dataclasses import replace

    bounds = p.bounds(index)
    channels = tuple(p.shape[len(p.chunks) :])
    shape = tuple(b - a for a, b in bounds) + channels
    ax = p.geometry[0]
    halo_rows = max(1, (ax.ke - 1) // ax.stride)
    strips = min(
        -(-math.prod(shape) * p.dtype.itemsize // STRIP_BYTES), max(1, shape[0] // (20 * halo_rows))
    )
    if strips <= 1:
        return convolve_block(p, index)
    sizes = tuple(len(r) for r in np.array_split(np.arange(shape[0]), strips))
    i, first = index[0], p.chunks[0]
    finer = replace(p, chunks=(first[:i] + sizes + first[i + 1 :],) + p.chunks[1:])
    out = np.empty(shape, p.dtype)
    start = 0
    for j, size in enumerate(sizes):  # strip j of this block is block i + j of the finer plan
        out[start : start + size] = convolve_block(finer, (i + j,) + tuple(index[1:]))
        start += size
    return out


def write_block(p: Plan, target: str, index) -> int:
    """Convolve block ``index`` and store it into the ``.zarr`` or ``.npy`` at ``target``.

    The target is opened here, by path, so the task pickles small and a target
    removed after a failure is not recreated by a late task. Returns the number of
    values written, which the caller counts before the target is put in place.
    """
    y = block_values(p, index)
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        where = ", ".join(f"{a}:{b}" for a, b in p.bounds(index))
        raise DataError(
            f"NaN or infinite values in the input (output block [{where}]); "
            "convcli refuses them as it does in memory"
        )
    where = tuple(slice(a, b) for a, b in p.bounds(index))
    if target.endswith(".zarr"):
        import zarr

        if not os.path.exists(os.path.join(target, "zarr.json")):  # cancelled and removed
            return 0
        zarr.open_array(target, mode="r+")[where] = y
    else:
        out = np.load(target, mmap_mode="r+", allow_pickle=False)
        out[where] = y
        out.flush()
    return y.size
