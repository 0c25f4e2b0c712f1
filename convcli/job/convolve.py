"""Convolving data in memory: the kernel at the input's rate, the arrays the engine
takes, channels and alpha, and the post-processing of the result.

The routes (:mod:`convcli.routes`) decide how a whole file goes; the memory route and
the lesson call these on a whole input, the others on what they need of them.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, ShapeError
from ..io import files, registry
from ..io.data import Data
from ..settings import ConvSettings


def load_kernel(settings: ConvSettings, sample_rate=None) -> np.ndarray:
    """The kernel array, at the input's sample rate where both are audio."""
    from ..io.kernelfile import load_kernel as load

    kernel, kernel_rate = load(settings.kernel, settings.ndim, sample_rate or settings.rate)
    if kernel_rate and sample_rate:
        from ..io.audio import match_rate

        kernel = match_rate(kernel, kernel_rate, sample_rate)
    return kernel


def check_channels(kernel: np.ndarray, channels: int) -> None:
    """A 1-D kernel of C columns gives channel c column c: C must be 1 or the input's."""
    if kernel.ndim == 2 and kernel.shape[1] not in (1, channels):
        c = kernel.shape[1]
        fix = (
            f"give a mono kernel, or make the input {c}-channel first (sox in.wav -c {c} out.wav)"
            if channels == 1
            else f"give a kernel of 1 or {channels} channels"
        )
        raise ShapeError(f"the kernel has {c} channels but the input has {channels}; {fix}")


def steps_text(data: Data, kernel, settings) -> str:
    """The worked computation of ``--steps`` for an input in memory."""
    from ..steps import conv_steps

    x, kernel, _ = prepare(data, kernel, settings.ndim)
    return conv_steps(
        x,
        kernel,
        ndim=settings.ndim,
        mode=settings.mode,
        pad=settings.pad,
        pad_mode=settings.pad_mode,
        pad_value=settings.pad_value,
        stride=settings.stride,
        dilation=settings.dilation,
        correlate=settings.correlate,
        bias=_bias(settings),
        layout=settings.layout,
        precision=settings.precision,
    )


def prepare(data: Data, kernel: np.ndarray, ndim: int):
    """The arrays the engine convolves, and the alpha channel that passes through.

    Returns
    -------
    x : ndarray
    kernel : ndarray
    alpha : ndarray or None
    """
    if data.kind == "image":
        if not data.image.get("alpha"):
            return data.array, kernel, None
        colour = data.array[..., :-1]
        x = colour[..., 0] if colour.shape[-1] == 1 else colour
        return x, kernel, data.array[..., -1]
    if ndim == 2 and data.array.ndim == 1:  # one row (or column) of text is a 1xN image
        shape = (1, -1) if data.orientation != "column" else (-1, 1)
        return data.array.reshape(shape), kernel, None
    return data.array, kernel, None


def convolve_data(
    data: Data, kernel: np.ndarray, settings: ConvSettings, out_fmt: str | None = None
) -> Data:
    """Convolve an input in memory: the result wrapped as the input's kind of data.

    An image bound for ``out_fmt`` runs on the compiled strips where the streaming
    route would (:mod:`convcli.job.pixels`), so that both write the same bytes.
    """
    x, kernel, alpha = prepare(data, kernel, settings.ndim)
    pages = data.image.get("page_height")
    if data.kind == "image" and out_fmt and _compiled(data, kernel, settings, out_fmt):
        from .pixels import convolve_array

        y, alpha = convolve_array(x, alpha, kernel, settings, data.image, out_fmt)
    elif pages:  # every page or frame on its own
        ys = [_convolve(x[top : top + pages], kernel, settings) for top in range(0, len(x), pages)]
        alphas = (
            None
            if alpha is None
            else [
                _alpha(alpha[top : top + pages], kernel, settings)
                for top in range(0, len(x), pages)
            ]
        )
        y = np.concatenate(ys)
        alpha = None if alphas is None else np.concatenate(alphas)
        data.image["out_page_height"] = ys[0].shape[0]
    else:
        y = _convolve(x, kernel, settings)
        alpha = _alpha(alpha, kernel, settings)
    x = data.array = None  # done with the input: free it before post-processing
    return _finish(data, y, alpha, settings)


def _compiled(data: Data, kernel, settings: ConvSettings, out_fmt: str) -> bool:
    from .pixels import applies

    return applies(kernel, settings, data.image, out_fmt)


def _bias(settings: ConvSettings):
    if isinstance(settings.bias, str):
        return files.read(settings.bias).array.reshape(-1)
    return settings.bias


def _convolve(x, kernel, settings: ConvSettings):
    """The engine on the command's options (mono through a C-column kernel gives C channels)."""
    from ..engine import convolve, correlate

    ndim = settings.ndim
    if ndim == 1:
        check_channels(kernel, 1 if x.ndim == 1 else x.shape[1])
    op = correlate if settings.correlate else convolve
    options = {**settings.engine_options(), "bias": _bias(settings)}
    if ndim == 2 and x.ndim == 3 and kernel.ndim == 2 and x.size > 1 << 22:
        return _per_channel(lambda a: op(a, kernel, **options), x)
    return op(x, kernel, **options)


def _per_channel(run, x):
    """``run`` on each channel of (rows, cols, C) into one preallocated result."""
    first = run(x[..., 0])
    out = np.empty(first.shape + (x.shape[2],), first.dtype)
    out[..., 0] = first
    for c in range(1, x.shape[2]):
        out[..., c] = run(x[..., c])
    return out


def _alpha(alpha, kernel, settings: ConvSettings):
    """Alpha through the colour's padding and stride geometry, unfiltered.

    A delta kernel spanning the (dilated) kernel's extent, placed where 'same'
    mode is the identity, resamples alpha exactly as the colour is resampled.
    """
    if alpha is None:
        return None
    from dataclasses import replace

    from ..geometry import effective_length

    if kernel.ndim == 4:
        kernel = kernel[0, 0] if settings.layout == "oihw" else kernel[:, :, 0, 0]
    ke = [effective_length(kernel.shape[i], settings.dilation[i]) for i in range(2)]
    delta = np.zeros(ke, dtype=alpha.dtype)
    delta[tuple((k - 1) // 2 for k in ke)] = 1
    plain = replace(settings, dilation=(1, 1), method="direct", bias=None, correlate=False)
    return _convolve(alpha, delta, plain)


def check_complex(name: str, out_fmt: str, settings: ConvSettings, *arrays) -> None:
    """Audio and images hold real samples: a complex result needs --real, --imag or --abs."""
    if (
        registry.kind_of(out_fmt) not in ("audio", "image")
        or settings.real
        or settings.imag
        or settings.absolute
    ):
        return
    if any(np.iscomplexobj(a) for a in arrays):
        raise DataError(
            f"{name}: the result is complex, which {out_fmt} cannot hold; keep one "
            "part with --real, --imag or --abs, or write .npy"
        )


def complex_part(y, settings: ConvSettings):
    """``--real``, ``--imag`` or ``--abs`` of a result (the imaginary part of a real one is 0)."""
    if settings.real:
        return np.real(y)
    if settings.imag:
        return np.imag(y) if np.iscomplexobj(y) else np.zeros_like(y)
    return np.abs(y) if settings.absolute else y


def postprocess(y, ndim: int, settings: ConvSettings, full_scale=1.0, floor=0.0):
    """``--abs``, ``--offset`` and ``--normalize`` on a float result in memory."""
    if settings.normalize and ndim != 1 and np.iscomplexobj(y):
        raise DataError("--normalize stretches real values: add --real, --imag or --abs")
    y = shifted(y, settings)
    if settings.normalize:
        if ndim == 1:  # peak to full scale, as SoX's gain -n
            y = y * gain(np.abs(y).max(), full_scale)
        else:  # min-max stretch, as ImageMagick's -normalize
            y = stretched(y, y.min(), y.max(), full_scale, floor)
    return y


def shifted(y, settings: ConvSettings):
    """``--abs`` then ``--offset``: on a NumPy array, or lazily on a pyvips image alike."""
    if settings.absolute:
        y = abs(y)
    if settings.offset:
        y = y + settings.offset
    return y


def stretched(y, lo: float, hi: float, full_scale=1.0, floor=0.0):
    """``--normalize`` of an image: ``[lo, hi]`` onto ``[floor, full_scale]`` (array or image)."""
    if hi > lo:
        return (y - lo) * ((full_scale - floor) / (hi - lo)) + floor
    return y * 0 + floor


def gain(peak: float, full_scale=1.0) -> float:
    """``--normalize`` of a signal: the factor that brings ``peak`` to full scale."""
    return full_scale / peak if peak else 1.0


def _finish(data: Data, y, alpha, settings: ConvSettings) -> Data:
    """Post-process and wrap the result in a Data of the input's kind."""
    y = complex_part(y, settings)
    real = np.result_type(y, np.float64)  # float64, or complex128 kept for .npy
    if data.kind == "image":
        full = data.image.get("max") or 1.0
        y = postprocess(y.astype(real), 2, settings, full_scale=full)
        return Data(
            y,
            data.format,
            data.name,
            image={**data.image, "alpha_array": alpha, **settings.image_options()},
        )
    if data.kind == "audio":
        return data.with_array(postprocess(y.astype(real), 1, settings))
    if settings.post:
        y = postprocess(y.astype(real), settings.ndim, settings)
    if y.ndim == 3 and y.shape[2] == 1 and data.kind == "text":
        y = y[:, :, 0]
    if not np.all(np.isfinite(y)):
        raise DataError("the result overflowed (infinite values)")
    return data.with_array(y)
