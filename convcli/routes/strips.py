"""Images of any size: libvips reads, convolves and writes them in strips.

libvips evaluates a pipeline (decode, pad, convolve, crop, round, encode) a few
rows at a time on every core, so memory stays flat however large the image. The
pipeline computes what the engine computes, in float64, for 2-D kernels that
filter every channel: padding by ``embed`` (or mirrored strips for ``reflect``),
a valid correlation by ``conv`` with a float mask (two 1-D passes where the kernel
is separable), then crop and subsample for stride. Filter banks, per-channel
kernels and very large non-separable kernels go through the in-memory engine.
"""

from __future__ import annotations

import numpy as np

from .. import messages
from ..errors import DataError
from ..io import image
from ..io.jpeg import jpeg_quality
from ..job.pixels import oriented

MAX_DIRECT_TAPS = 32 * 32  # larger non-separable kernels are cheaper by FFT in memory
_EXTEND = {
    "zeros": "black",
    "constant": "background",
    "replicate": "copy",
    "symmetric": "mirror",
    "circular": "repeat",
}


def convolvable(wf: np.ndarray, geometry, pad_mode: str) -> bool:
    """Whether libvips can compute this job exactly as the engine would.

    ``wf`` is the kernel in correlation orientation; ``geometry`` the two Axis objects.
    """
    from ..engine.direct import separable

    if wf.ndim != 2:
        return False
    if wf.size > MAX_DIRECT_TAPS and separable(wf) is None:
        return False
    if pad_mode == "reflect":  # built from mirrored strips, which need that many samples
        return all(ax.before < ax.n and ax.after < ax.n for ax in geometry)
    return True


def _pad_axis(im, before: int, after: int, horizontal: bool, pad_mode: str, value: float):
    """Pad one axis as ``np.pad`` would (the modes' names as the engine has them)."""
    if before == after == 0:
        return im
    w, h = im.width, im.height
    if pad_mode == "reflect":
        return _reflect(im, before, after, horizontal)
    x, y = (before, 0) if horizontal else (0, before)
    width, height = (w + before + after, h) if horizontal else (w, h + before + after)
    options = {"background": [value] * im.bands} if pad_mode == "constant" else {}
    return im.embed(x, y, width, height, extend=_EXTEND[pad_mode], **options)


def _reflect(im, before: int, after: int, horizontal: bool):
    """Mirror excluding the edge sample: strips cropped beside the edge, flipped, joined."""
    n = im.width if horizontal else im.height
    direction = "horizontal" if horizontal else "vertical"

    def strip(start, length):
        box = (start, 0, length, im.height) if horizontal else (0, start, im.width, length)
        return im.crop(*box).flip(direction)

    left = strip(1, before) if before else None
    right = strip(n - 1 - after, after) if after else None
    if left is not None:
        im = left.join(im, direction)
    return im.join(right, direction) if right is not None else im


def pad(im, geometry, pad_mode: str, value: float):
    """The padded image: columns first, then rows (corners as np.pad makes them)."""
    rows, cols = geometry
    im = _pad_axis(im, cols.before, cols.after, True, pad_mode, value)
    return _pad_axis(im, rows.before, rows.after, False, pad_mode, value)


def _window(im, geometry, offsets):
    """Outputs ``offset + i*stride`` along each axis of a padded (or convolved) image."""
    rows, cols = geometry
    im = im.crop(offsets[1], offsets[0], cols.span - cols.ke + 1, rows.span - rows.ke + 1)
    if rows.stride == cols.stride == 1:
        return im
    im = im.embed(0, 0, cols.length * cols.stride, rows.length * rows.stride, extend="copy")
    return im.subsample(cols.stride, rows.stride).crop(0, 0, cols.length, rows.length)


def _mask(w: np.ndarray, dilation):
    """A float64 mask image, dilated with zeros."""
    from ..engine.spectral import dilate

    return image.to_vips(np.asarray(dilate(w, 2, dilation), dtype=np.float64))


def correlate(im, wf: np.ndarray, geometry, pad_mode: str, value: float):
    """Valid correlation of the padded ``im`` with ``wf``, strided: the engine's result."""
    from ..engine.direct import separable

    dilation = (geometry[0].dilation, geometry[1].dilation)
    x = pad(im.cast("double"), geometry, pad_mode, value)
    factors = separable(wf)
    if factors is not None:  # a column pass and a row pass
        u, v = factors
        x = x.conv(_mask(u[:, None], dilation), precision="float")
        x = x.conv(_mask(v[None, :], dilation), precision="float")
    else:
        x = x.conv(_mask(wf, dilation), precision="float")
    return _window(x, geometry, (geometry[0].ke // 2, geometry[1].ke // 2))


def exact_in_integers(im, wf: np.ndarray, settings, float_out: bool) -> bool:
    """Whether libvips's integer convolution gives the rounded result exactly.

    For 8-bit samples, a kernel of whole numbers and whole-number padding, every sum is a
    whole number: libvips's integer path (vectorised, clipping to 0..255 as it stores)
    writes what float64 then rounding and clipping would, with nothing in between to
    post-process.
    """
    whole = np.array_equal(wf, np.rint(wf)) and np.abs(wf).sum() < 2**20
    return (
        im.format == "uchar"
        and whole
        and not float_out
        and not settings.post
        and float(settings.pad_value).is_integer()
        and settings.depth in (None, 8)
    )


def correlate_integer(im, wf: np.ndarray, geometry, pad_mode: str, value: float):
    """Valid correlation with a whole-number kernel on 8-bit samples, clipped to 0..255."""
    from ..engine.spectral import dilate

    dilation = (geometry[0].dilation, geometry[1].dilation)
    mask = image.to_vips(np.asarray(dilate(np.rint(wf).astype(np.int32), 2, dilation)))
    x = pad(im, geometry, pad_mode, value).conv(mask, precision="integer")
    return _window(x, geometry, (geometry[0].ke // 2, geometry[1].ke // 2))


def resample(alpha, geometry, pad_mode: str, value: float):
    """Alpha through the same padding and stride, unfiltered (a delta kernel's result)."""
    offsets = tuple(ax.ke - 1 - (ax.ke - 1) // 2 for ax in geometry)
    return _window(pad(alpha, geometry, pad_mode, value), geometry, offsets)


def _pages(im, meta):
    height = meta.get("page_height")
    if not height:
        return [im]
    return [im.crop(0, top, im.width, height) for top in range(0, im.height, height)]


def _post(y, settings, meta, span):
    """``--abs``, ``--offset``, and ``--normalize`` from the range ``span`` = (lo, hi), as in
    memory (the same functions, on the lazy pyvips image)."""
    from ..job.convolve import shifted, stretched

    y = shifted(y, settings)
    return y if span is None else stretched(y, *span, meta.get("max") or 1.0)


def _build(header, name, fmt, out_fmt, wf, geometry, settings, span=None):
    """The whole pipeline on an opened image, lazily: (result, metadata, page height or None)."""
    import pyvips

    im = image.prepare(header, settings.gray)
    meta = {**image.describe(im, fmt), "name": name, **settings.image_options()}
    alpha = im[im.bands - 1] if meta["alpha"] else None
    colour = im[: im.bands - 1] if meta["alpha"] else im
    alphas = _pages(alpha, meta) if alpha is not None else None
    pages = []
    float_out = out_fmt == "tiff" and colour.bands == 1 and alpha is None
    integer = exact_in_integers(colour, wf, settings, float_out)
    for i, page in enumerate(_pages(colour, meta)):
        if integer:
            y = correlate_integer(page, wf, geometry, settings.pad_mode, settings.pad_value)
        else:
            y = correlate(page, wf, geometry, settings.pad_mode, settings.pad_value)
            y = _post(y, settings, meta, span)
            if span is None and settings.normalize:  # the first of two passes: the raw range
                pages.append(y)
                continue
            y = y.cast("float") if float_out else image.pixels(y, meta)
        if alphas is not None:
            a = resample(alphas[i], geometry, settings.pad_mode, settings.pad_value)
            y = y.bandjoin(a.cast(y.format))
        pages.append(y)
    result = pages[0] if len(pages) == 1 else pyvips.Image.arrayjoin(pages, across=1)
    return result, meta, pages[0].height if len(pages) > 1 else None


def accepts(plan) -> str | None:
    """Why an image to an image goes through libvips in strips, or None (then in memory)."""
    from ..engine.padding import canonical_mode
    from ..geometry import check_nonempty

    s = plan.settings
    if (
        plan.kind != "image"
        or s.steps
        or not plan.to_file
        or plan.fmt in image.PILLOW_ONLY
        or plan.out_fmt in image.PILLOW_ONLY
        or s.method == "fft"
        or s.bias is not None
    ):
        return None
    if plan.out_fmt not in ("png", "jpg", "tiff", "gif", "webp"):
        return None
    kernel = plan.kernel
    if kernel.ndim != 2 or np.iscomplexobj(kernel):
        return None
    header, geometry = plan.header, plan.image_geometry
    check_nonempty(geometry)
    image.check_output_size(geometry[1].length, geometry[0].length)
    if not convolvable(oriented(kernel, s), geometry, canonical_mode(s.pad_mode)):
        return None
    return (
        f"{header.width}x{header.height}x{header.bands} image, {kernel.shape[0]}x"
        f"{kernel.shape[1]} kernel: strips on every core in flat memory"
    )


def run(plan, show_steps=None) -> None:
    """Read, convolve and write the plan's image in strips."""
    from dataclasses import replace

    from ..engine.padding import canonical_mode
    from .plan import stage

    s = replace(plan.settings, pad_mode=canonical_mode(plan.settings.pad_mode))
    with stage(f"{plan.name} -> {plan.out} in libvips strips"):
        convolve_image(plan, oriented(plan.kernel, s), plan.image_geometry, s)


def convolve_image(plan, wf: np.ndarray, geometry, settings) -> None:
    """Read, convolve and write an image in strips.

    Parameters
    ----------
    plan : convcli.routes.plan.Plan
        Its header is the opened image; ``--normalize`` opens it once more, for the
        pass that finds the range.
    wf : ndarray of shape (kh, kw)
        The kernel in correlation orientation (flipped already for a convolution).
    geometry : tuple of two convcli.geometry.Axis
        Rows and columns, computed once by the caller.
    settings : convcli.settings.ConvSettings
    """
    import pyvips

    name, fmt, out_fmt = plan.name, plan.fmt, plan.out_fmt
    span = None
    header = plan.header
    if settings.normalize:  # one pass for the range, one to write: the file is read twice
        raw, _, _ = _build(header, name, fmt, out_fmt, wf, geometry, settings)
        stats = _evaluate(raw.stats, name)
        span = (stats(0, 0)[0], stats(1, 0)[0])
        header = plan.open_image()
    result, meta, height = _build(header, name, fmt, out_fmt, wf, geometry, settings, span)
    if fmt == "jpg":
        meta["quality"] = jpeg_quality(plan.source)
    messages.verbose(
        f"libvips pipeline: {result.width}x{result.height}x{result.bands} "
        f"{result.format} out, {wf.shape[0]}x{wf.shape[1]} kernel, strips on "
        f"{pyvips.concurrency_get()} threads"
    )
    image.save(result, plan.out, out_fmt, meta, settings.quality, pages=height)


def _evaluate(run, name):
    import pyvips

    try:
        return run()
    except pyvips.Error as e:
        raise DataError(f"{name}: corrupt or truncated image ({image.vips_error(e)})") from None
