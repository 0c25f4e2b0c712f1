"""Rows of a libvips image read into NumPy in order, and float rows made into pixels.

The streaming image route reads a decoded image a strip at a time (libvips decodes
only what is asked, top to bottom) and writes pixels that the in-memory route would
write: :func:`pixel_array` is :func:`convcli.io.image.pixels` on a NumPy array.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .image import SAMPLE_TOP, sample_format, vips_error

FETCH_ROWS = 64
_DTYPES = {"uchar": np.uint8, "ushort": np.uint16, "float": np.float32, "double": np.float64}


class RowReader:
    """``read(index)``: rows ``index`` (sorted) of ``im`` as (rows, cols, bands).

    Rows are decoded once as requests move down the image: a request may reach back
    into the last one's rows (the halo), which are kept. Rows above those (the wrapped
    top's bottom rows) are fetched on their own, from an image opened at random.
    """

    def __init__(self, im, name: str):
        import pyvips

        self._region = pyvips.Region.new(im)  # one pipeline: loaders read on from where they are
        self._im, self._name = im, name
        self._dtype = _DTYPES[im.format]
        self._rows = np.empty((0, im.width, im.bands), self._dtype)
        self._first = 0  # the source row of self._rows[0]

    def __call__(self, index: np.ndarray) -> np.ndarray:
        runs = np.split(index, np.flatnonzero(np.diff(index) != 1) + 1)
        parts = [self._run(int(run[0]), int(run[-1]) + 1) for run in runs if len(run)]
        if not parts:
            return self._rows[:0]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _run(self, lo: int, hi: int) -> np.ndarray:
        if lo < self._first:
            return self._fetch(lo, hi)  # out of order (wrapped edges): on their own
        stop = self._first + len(self._rows)
        first = min(lo, stop)  # rows below what is kept are decoded on the way
        pieces = [self._rows[first - self._first :]]
        while stop < hi:  # whole pieces from where decoding stands, as the decoder reads
            rows = min(FETCH_ROWS, self._im.height - stop)
            pieces.append(self._fetch(stop, stop + rows))
            stop += rows
        self._rows = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        self._first = first
        return self._rows[lo - first : hi - first]

    def _fetch(self, lo: int, hi: int) -> np.ndarray:
        import pyvips

        im = self._im
        try:
            data = self._region.fetch(0, lo, im.width, hi - lo)
        except pyvips.Error as e:
            raise DataError(f"{self._name}: corrupt or truncated image ({vips_error(e)})") from None
        return np.frombuffer(data, self._dtype).reshape(hi - lo, im.width, im.bands)


def pixel_array(y: np.ndarray, meta: dict, scratch: bool = False) -> np.ndarray:
    """Float samples rounded (ties to even) and clipped to the output's bit depth, as
    :func:`convcli.io.image.pixels` makes them (``--depth`` rescales full scale).

    With ``scratch``, ``y`` (float64) is overwritten on the way.
    """
    sample = sample_format(meta)
    if y.dtype == _DTYPES[sample] and meta.get("max") == SAMPLE_TOP[sample]:
        return y  # rounded already, as it was stored
    top_in, top_out = meta.get("max"), SAMPLE_TOP[sample]
    y = y if scratch and y.dtype == np.float64 else y.astype(np.float64)
    if top_in and top_in != top_out:
        y *= top_out / top_in
    np.rint(y, out=y)
    return np.clip(y, 0, top_out, out=y).astype(_DTYPES[sample])
