"""The lesson's jobs on a file: ``--grad`` (the gradients) and ``--animate`` (the GIF).

Each reads the input and the kernel as a convolution job does, then calls the library:
:func:`convcli.grad.conv_grad` and :func:`convcli.gradsteps.grad_steps` for the
gradients, :func:`convcli.animate.animation` for the frames.
"""

from __future__ import annotations

import os

import numpy as np

from .errors import DataError, FormatError
from .settings import ConvSettings


def _inputs(path: str, settings: ConvSettings):
    """The input as the engine convolves it, the kernel, the bias and the input's Data."""
    from .io import files
    from .job import load_kernel, prepare

    data = files.read(path, settings.from_format, gray=settings.gray)
    if data.kind == "image" and settings.ndim == 1:
        raise FormatError(f"{data.name} is an image: use conv2d")
    kernel = load_kernel(settings, data.sample_rate)
    x, kernel, _ = prepare(data, kernel, settings.ndim)
    bias = settings.bias
    if isinstance(bias, str):
        bias = files.read(bias).array.reshape(-1)
    return x, kernel, bias, data


def _geometry(settings: ConvSettings, kind: str) -> dict:
    """The convolution's arguments; padding as SPEC says for the input's kind by default."""
    pad_mode = settings.pad_mode or ("replicate" if kind == "image" else "zeros")
    return {
        "ndim": settings.ndim,
        "mode": settings.mode,
        "pad": settings.pad,
        "pad_mode": pad_mode,
        "pad_value": settings.pad_value,
        "stride": settings.stride,
        "dilation": settings.dilation,
        "correlate": settings.correlate,
        "layout": settings.layout,
    }


def read_dy(spec: str, shape: tuple) -> np.ndarray:
    """DY from ``ones``, a file, or numbers (``1,0,2``; rows split by ``;``)."""
    from .io import arrays, files

    if spec == "ones":
        return np.ones(shape, np.int64)
    if spec == "-" or os.path.exists(spec):
        return files.read(spec).array
    try:
        return arrays.parse_text(spec, "DY")[0]
    except DataError:
        raise DataError(f"--grad {spec!r}: not 'ones', a file, or a list of numbers") from None


def output_shape(x, kernel, settings: ConvSettings, kind: str = "text") -> tuple:
    """The convolution's output as (*out, channels) in the gradients' terms."""
    from .grad import layer

    lay = layer(x, kernel, **_geometry(settings, kind))
    return tuple(ax.length for ax in lay.geometry) + (lay.out_channels,)


def grad_file(path: str, settings: ConvSettings, dy: str, *, as_json: bool = False) -> str:
    """The gradients of ``L = sum(DY * y)`` for the convolution of one file, as text.

    Parameters
    ----------
    path : str
        The input (or ``-``).
    settings : ConvSettings
        The convolution; with ``settings.steps`` the computational graph comes first.
    dy : str
        ``ones``, a file, or numbers: dL/dy, with as many numbers as the output.
    as_json : bool
        ``{"dx": ..., "dw": ..., "db": ...}`` instead of text blocks.

    Returns
    -------
    str
        ``dL/dx:``, ``dL/dw:`` and (with a bias) ``dL/db:``, each followed by its array.
    """
    from .grad import conv_grad

    x, kernel, bias, data = _inputs(path, settings)
    geometry = _geometry(settings, data.kind)
    dy_array = read_dy(dy, output_shape(x, kernel, settings, data.kind))
    g = conv_grad(x, kernel, dy_array, bias=bias, **geometry)
    if as_json:
        return _json(g, settings.precision)
    text = ""
    if settings.steps:
        from .gradsteps import grad_steps

        text = grad_steps(x, kernel, dy_array, bias=bias, precision=settings.precision, **geometry)
    return text + _blocks(g, data.orientation, settings.precision, settings.layout)


def _blocks(g, orientation: str, precision, layout: str) -> str:
    from .io.arrays import format_text

    dw, name = g.dw, "dL/dw"
    if dw.ndim == 4:  # a bank as MATLAB shows a kh x kw x C x K array: one slice per (c, f)
        dw = dw.transpose(2, 3, 1, 0) if layout == "oihw" else dw  # (K,C,kh,kw) -> (kh,kw,C,K)
        name = "dL/dw (each filter's taps, (:,:,channel,filter))"
    parts = [("dL/dx", g.dx), (name, dw)] + ([("dL/db", g.db)] if g.db is not None else [])
    return "".join(
        f"{name}:\n" + format_text(np.asarray(a), orientation if a.ndim == 1 else "row", precision)
        for name, a in parts
    )


def _json(g, precision) -> str:
    from .io.arrays import format_json

    db = "null" if g.db is None else format_json(g.db, precision).strip()
    return (
        f'{{"dx": {format_json(g.dx, precision).strip()}, '
        f'"dw": {format_json(g.dw, precision).strip()}, "db": {db}}}\n'
    )


def animate_file(path: str, settings: ConvSettings, gif: str) -> int:
    """Write the flip-and-slide of one file's convolution to ``gif``; the number of frames."""
    from .animate import animation, check_gif_path, write_gif

    check_gif_path(gif)
    x, kernel, bias, data = _inputs(path, settings)
    frames = animation(x, kernel, bias=bias, **_geometry(settings, data.kind))
    write_gif(frames, gif)
    return len(frames)
