"""From a read file to a written result: the steps every conv command shares."""

from __future__ import annotations

import numpy as np

from ..errors import DataError, FormatError, UsageProblem
from .formats import FORMATS, Data, is_binary, output_format


class OutputNeeded(UsageProblem):
    """A binary result with nowhere to go but a terminal."""


def check_output(data: Data, out: str | None, to_format: str | None) -> str:
    """The output format; binary results need ``-o``."""
    fmt = output_format(out, to_format, data)
    kind = FORMATS[fmt].kind
    if {data.kind, kind} == {"audio", "image"}:
        raise FormatError(f"{data.name} is {data.kind}; it cannot be written as {fmt} "
                          f"({kind}). Write {data.kind}, or npy/json/txt for the numbers")
    if out is None and is_binary(fmt):
        raise OutputNeeded(f"the result is {fmt} data; write it with -o FILE.{fmt} "
                           f"(or -o - for a pipe)")
    return fmt


def prepare(data: Data, kernel, kernel_rate, ndim: int):
    """The arrays the engine convolves, and what must be put back afterwards (alpha).

    Returns
    -------
    x : ndarray
    kernel : ndarray
        Resampled to the input's rate where both are audio at different rates.
    extra : ndarray or None
        An image's alpha channel, which passes through unfiltered.
    """
    if data.kind == "audio":
        from .audio import match_rate

        return data.array, match_rate(kernel, kernel_rate, data.sample_rate), None
    if data.kind == "image":
        from .image import split_alpha

        x, alpha = split_alpha(data.array, data.image)
        return x, kernel.astype(x.dtype) if kernel.ndim != 4 else kernel, alpha
    if ndim == 2 and data.array.ndim == 1:  # one row (or column) of text is a 1xN image
        shape = (1, -1) if data.orientation != "column" else (-1, 1)
        return data.array.reshape(shape), kernel, None
    return data.array, kernel, None


def convolve_data(x, kernel, ndim, s):
    """Call the engine with the command's options."""
    from ..engine import convolve, correlate

    bias = s.get("bias")
    if isinstance(bias, str):
        from .formats import read

        bias = read(bias).array.reshape(-1)
    mono = x.ndim == 1 or (ndim == 1 and x.shape[1] == 1)
    if ndim == 1 and kernel.ndim == 2 and kernel.shape[1] > 1 and mono:
        x = np.repeat(x.reshape(len(x), 1), kernel.shape[1], axis=1)  # mono through stereo IR
    op = correlate if s["correlate"] else convolve

    def run(a):
        return op(a, kernel, s["mode"], pad=s["pad"], pad_mode=s["pad_mode"],
                  pad_value=s["pad_value"], stride=s["stride"], dilation=s["dilation"],
                  method=s["method"], ndim=ndim, bias=bias, layout=s.get("layout", "oihw"))

    if ndim == 2 and x.ndim == 3 and kernel.ndim == 2 and x.size > 1 << 22:
        return _per_channel(run, x)  # big photos: one channel's temporaries at a time
    return run(x)


def _per_channel(run, x):
    """``run`` on each channel of (rows, cols, C) into one preallocated result."""
    first = run(x[..., 0])
    out = np.empty(first.shape + (x.shape[2],), first.dtype)
    out[..., 0] = first
    for c in range(1, x.shape[2]):
        out[..., c] = run(x[..., c])
    return out


def pass_alpha(alpha, kernel, s):
    """Alpha through the colour channels' padding and stride geometry, unfiltered.

    A delta kernel spanning the (dilated) kernel's extent, placed where 'same'
    mode is the identity, resamples alpha exactly as the colour is resampled.
    """
    if alpha is None:
        return None
    if kernel.ndim == 4:
        kernel = kernel[0, 0] if s.get("layout", "oihw") == "oihw" else kernel[:, :, 0, 0]
    dilation = s["dilation"] * (2 // len(s["dilation"]))
    ke = [dilation[i] * (kernel.shape[i] - 1) + 1 for i in range(2)]
    centre = [(k - 1) // 2 if not s["correlate"] else k - 1 - (k - 1) // 2 for k in ke]
    delta = np.zeros(ke, dtype=alpha.dtype)
    delta[tuple(centre)] = 1
    return convolve_data(alpha, delta, 2, {**s, "dilation": (1, 1), "method": "direct",
                                           "bias": None})


def postprocess(y, ndim, s, full_scale=1.0, floor=0.0):
    """``--abs``, ``--offset`` and ``--normalize`` on a float result."""
    if s.get("absolute"):
        y = np.abs(y)
    if s.get("offset"):
        y = y + s["offset"]
    if s.get("normalize"):
        if ndim == 1:  # peak to full scale, as SoX's gain -n
            peak = np.abs(y).max()
            y = y * (full_scale / peak) if peak else y
        else:  # min-max stretch, as ImageMagick's -normalize
            lo, hi = y.min(), y.max()
            y = (y - lo) * ((full_scale - floor) / (hi - lo)) + floor if hi > lo else y * 0 + floor
    return y


def finish(data: Data, y, extra, ndim, s) -> Data:
    """Post-process and wrap the result in a Data of the input's kind."""
    if data.kind == "image":
        from .image import finish_image

        return finish_image(data, y, extra, s)
    if data.kind == "audio":
        return data.with_array(postprocess(y.astype(float), ndim, s))
    if s.get("absolute") or s.get("offset") or s.get("normalize"):
        y = postprocess(y.astype(float), ndim, s)
    if y.ndim == 3 and y.shape[2] == 1 and data.kind == "text":
        y = y[:, :, 0]
    if not np.all(np.isfinite(y)):
        raise DataError("the result overflowed (infinite values)")
    return data.with_array(y)

