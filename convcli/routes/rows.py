"""Photos and scans of any size: libvips decodes, OpenCV filters in strips, libvips encodes.

libvips decodes the image top to bottom as strips are asked for; two threads filter
them with the compiled passes of :mod:`convcli.engine.compiled`; the pixels go down
a pipe as an uncompressed PNG that libvips encodes as it arrives (or, for ``.npy``,
straight into the file after its header). Memory holds a few tiles and a few strips of
whole rows, however tall the image (wide ones hold wider strips), and the bytes are the
in-memory route's: both run the same tiles.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import messages
from ..io import image
from ..io.atomic import atomic_path
from ..io.jpeg import jpeg_quality
from ..job import pixels


def accepts(plan) -> str | None:
    """Why an image goes through the compiled strips, or None."""
    from ..geometry import check_nonempty

    if (
        plan.kind != "image"
        or not plan.to_file
        or plan.fmt in image.PILLOW_ONLY
        or plan.out_fmt not in pixels.OUT_FORMATS
        or plan.settings.steps
    ):
        return None
    kernel = plan.kernel
    if kernel.ndim != 2:
        return None
    im = image.prepare(plan.header, plan.settings.gray)
    if not pixels.applies(kernel, plan.settings, image.describe(im, plan.fmt), plan.out_fmt):
        return None
    geometry = plan.image_geometry
    check_nonempty(geometry)
    image.check_output_size(geometry[1].length, geometry[0].length)
    return (
        f"{im.width}x{im.height}x{im.bands} image, {kernel.shape[0]}x{kernel.shape[1]} "
        "kernel: compiled strips between libvips's decoder and encoder, in flat memory"
    )


def run(plan, show_steps=None) -> None:
    """Read, filter and write the plan's image in strips."""
    from ..engine.compiled import THREADS, run_strips
    from ..io.imagerows import RowReader
    from .plan import stage

    s = plan.settings
    im = image.prepare(plan.header, s.gray)
    meta = {**image.describe(im, plan.fmt), "name": plan.name, **s.image_options()}
    colour = im.bands - meta["alpha"]
    source = np.uint16 if im.format == "ushort" else np.uint8
    shape = (im.height, im.width, im.bands)
    strips = pixels.strips_for(
        shape, colour, plan.kernel, plan.image_geometry, s, plan.out_fmt, source
    )
    messages.verbose(
        f"compiled tiles of {strips.height}x{strips.width} outputs, "
        f"{np.dtype(strips.dtype).name} sums, on {THREADS} threads"
    )
    with stage(f"{plan.name} -> {plan.out} in compiled strips"), _one_libvips_thread():
        span = None
        if s.normalize:  # one pass for the range, one to write: the file is read twice
            parts = run_strips(strips, RowReader(im, plan.name), _extremes(s))
            lows, highs = zip(*messages.tracked(parts, strips.rows.length, "range"))
            span = (min(lows), max(highs))
            im = image.prepare(plan.open_image(), s.gray)
        post = _post(s, span, meta.get("max") or 1.0)
        _finish_tiles(strips, post, meta, plan.out_fmt)
        results = run_strips(strips, RowReader(im, plan.name), _with_alpha(meta))
        results = messages.tracked(results, strips.rows.length, "filtering")
        if plan.out_fmt == "npy":
            _write_npy(results, strips, colour, plan.out)
        else:
            if plan.fmt == "jpg":
                meta["quality"] = jpeg_quality(plan.source)
            _write_pixels(results, strips, meta, s, plan.out, plan.out_fmt)


def _post(settings, span, full_scale):
    """``--abs``, ``--offset`` and ``--normalize`` (from the range ``span``) of a strip, in
    float64: the memory route's :func:`~convcli.job.convolve.postprocess`, piece by piece."""
    from ..job.convolve import shifted, stretched

    def post(y):
        y = shifted(y.astype(np.float64), settings)
        return y if span is None else stretched(y, *span, full_scale)

    return post


def _extremes(settings):
    post = _post(settings, None, 1.0)

    def extremes(y, rest):
        y = post(y)
        return (y.min(), y.max()) if y.size else (np.inf, -np.inf)

    return extremes


@contextlib.contextmanager
def _one_libvips_thread():
    """libvips decodes and encodes here, one row after the next, while the filtering has
    threads of its own: more libvips threads would only hold more buffers."""
    import pyvips

    threads = pyvips.concurrency_get()
    pyvips.concurrency_set(1)
    try:
        yield
    finally:
        pyvips.concurrency_set(threads)


def _finish_tiles(strips, post, meta, out_fmt) -> None:
    """Each tile's sums made what is written (float64 numbers, or the output's pixels) as
    they are stored: a strip keeps its results at the output's size, not as sums."""
    from ..io.imagerows import pixel_array

    if out_fmt == "npy":
        strips.finish, strips.out_dtype = post, np.dtype("<f8")
        return
    strips.out_dtype = np.uint16 if image.sample_format(meta) == "ushort" else np.uint8

    def finish(part):  # (rows, cols, C) sums, or pixels OpenCV rounded as it stored them
        return part if part.dtype.kind == "u" else pixel_array(post(part), meta, scratch=True)

    strips.finish = finish


def _with_alpha(meta):
    """A strip's results with its alpha joined back as pixels (none for ``.npy``)."""
    from ..io.imagerows import pixel_array

    def finish(y, rest):
        if rest.shape[2] and y.dtype.kind == "u":
            return np.concatenate([y, pixel_array(rest, meta)], axis=2)
        return y

    return finish


def _write_pixels(results, strips, meta, settings, out, out_fmt) -> None:
    """Encode the strips' pixels through a PNG pipe into libvips's saver."""
    from ..io.pngpipe import PngPipe

    rows, cols = strips.rows.length, strips.cols.length
    bits = 16 if image.sample_format(meta) == "ushort" else 8
    pipe = PngPipe(cols, rows, strips.channels, bits, results)
    try:  # the strips' own error (a damaged input) before the file is put in place
        image.save(pipe.image(), out, out_fmt, meta, settings.quality, check=pipe.close)
    except BaseException:
        pipe.close(failed=True)
        raise


def _write_npy(results, strips, colour, out) -> None:
    """A ``.npy`` file: its header, then the float64 rows as they are made."""
    shape = (strips.rows.length, strips.cols.length) + ((colour,) if colour > 1 else ())
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f8")), "fortran_order": False}
    with atomic_path(out) as tmp, open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {**header, "shape": shape})
        for y in results:
            f.write(y.data)
