"""Jobs that reshape a file rather than filter it: padding and pooling."""

from __future__ import annotations

import numpy as np

from ..errors import UsageProblem
from ..io import files
from ..io.data import Data
from ..job.convolve import prepare
from ..settings import PadSettings, PoolSettings
from .chunks import convolve_chunked, wanted
from .plan import open_input, read_input


def pad_file(path: str, out: str | None, settings: PadSettings) -> None:
    """MATLAB's ``padarray`` on a file: images pad rows and columns, audio only frames."""
    from ..engine import pad as pad_array

    size, pad_mode, value, direction = (
        settings.size,
        settings.mode,
        settings.value,
        settings.direction,
    )
    from_format, to_format = settings.from_format, settings.to_format

    source, name, fmt, _ = open_input(path, from_format)
    out_fmt = files.output_format(out, to_format, fmt)
    if wanted(source, fmt, out_fmt):
        return _pad_chunked(source, out, size, pad_mode, value, direction, settings.scheduler)
    data = read_input(source, name, fmt)
    fmt = files.check_output(data.format, data.name, out, to_format)
    if data.kind == "image" and len(size) == 1:
        size = size * 2  # rows and columns, never channels
    if data.kind == "audio" and len(size) == 1:
        size = size + (0,)  # frames, never channels
    padded = pad_array(data.array, size if len(size) > 1 else size[0], pad_mode, value, direction)
    files.write(data.with_array(padded), out, fmt, precision=settings.precision)


def _pad_chunked(path, out, size, pad_mode, value, direction, scheduler) -> None:
    """Padding a chunked array: a one-tap identity kernel with explicit padding, in pieces."""
    from ..io.zarrfile import read_chunked

    source = read_chunked(path)
    nd = len(source.shape)
    one = np.ones((1,) * nd, dtype=source.dtype if source.dtype.kind == "f" else np.int64)
    size = size * nd if len(size) == 1 else size + (0,) * (nd - len(size))
    pairs = [(p if direction != "post" else 0, p if direction != "pre" else 0) for p in size]
    convolve_chunked(
        path,
        out,
        one,
        ndim=nd,
        pad=[v for pair in pairs for v in pair],
        pad_mode=pad_mode,
        pad_value=value,
        scheduler=scheduler,
    )


def pool_file(path: str, out: str | None, settings: PoolSettings, show_steps=None) -> None:
    """Max or average pooling of a file: signals per channel, matrices, images per channel.

    With ``show_steps``, it receives the worked computation before the result is written.
    """
    from dataclasses import replace

    from ..engine.pool import pool

    size, stride, precision = settings.size, settings.stride, settings.precision
    source, name, fmt, _ = open_input(path, settings.from_format)
    data = read_input(source, name, fmt, gray=settings.gray)
    fmt = files.check_output(data.format, data.name, out, settings.to_format)
    one = data.kind == "audio" or data.array.ndim == 1
    if one and len(size) == 2:
        raise UsageProblem(f"{data.name} is a signal: give one --size, not two")
    nd = 1 if one else 2
    x, _, alpha = prepare(data, np.zeros(0), 2 if data.kind == "image" else nd)
    options = settings.engine_options()
    if show_steps is not None:
        from ..steps import pool_steps

        show_steps(pool_steps(x, size, ndim=nd, precision=precision, **options))
    y = pool(x, size, ndim=nd, **options)
    if data.kind == "audio":  # one frame per window: the rate falls by the stride, time stays
        step = (stride or size)[0]
        result = replace(data, array=y, sample_rate=max(1, round(data.sample_rate / step)))
    elif data.kind == "image":
        a = None if alpha is None else pool(alpha, size, ndim=2, **options)
        result = Data(
            y.astype(np.float64), data.format, data.name, image={**data.image, "alpha_array": a}
        )
    else:
        result = data.with_array(y)
    files.write(result, out, fmt, precision=precision)
