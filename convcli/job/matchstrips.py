"""``convcli match`` on large images, in strips of rows in flat memory (overlap-save).

The image is opened through libvips with sequential access and read once, top to
bottom: each strip of ``plan.step + kh - 1`` rows (the last ``kh - 1`` carried over
from the strip before) gives ``plan.step`` rows of the score map, the engine's strip
(:func:`convcli.engine.match.piece_plan`), scored on :data:`THREADS` threads while the
next strip is read. The matches are kept across strips by
:class:`convcli.matching.Candidates` (top N, threshold, suppression across strip
edges, sub-pixel peaks) and ``--map FILE.npy`` is written a strip at a time, so memory
grows with the width and the template, not the height; ``--mark`` reads the image a
second time as libvips writes the boxed copy. Taken for images of at least
:data:`STRIP_MIN_PIXELS` pixels whose template fits a strip; pictures of the map are
made in memory.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import allocator, messages
from ..engine.match import LOWER_IS_BETTER, THREADS, piece_plan
from ..errors import ShapeError
from ..io.data import Data
from ..matching import Candidates, default_distance

STRIP_MIN_PIXELS = 1 << 20  # a megapixel: smaller images are decoded whole (the same scores)
MAX_TEMPLATE_ROWS = 1024  # taller templates make strips as large as the image


def strips(source: str, fmt: str, template, settings) -> bool:
    """Whether an image and these settings take the strip route."""
    from ..io import image, registry

    if registry.kind_of(fmt) != "image" or fmt in image.PILLOW_ONLY:
        return False
    if settings.map_path and not settings.map_path.lower().endswith(".npy"):
        return False
    if template.array.shape[0] > MAX_TEMPLATE_ROWS:
        return False
    import pyvips

    try:
        im = pyvips.Image.new_from_file(source, access="sequential")
    except pyvips.Error:
        return False  # the in-memory route says what is wrong with it
    return im.width * im.height >= STRIP_MIN_PIXELS


def _opened(source: str, name: str, fmt: str, gray: bool):
    """The image as libvips streams it, its alpha left out (as the memory route does)."""
    from ..io import image

    im = image.prepare(image.load(source, name, fmt), gray)
    return im[: im.bands - 1] if im.hasalpha() else im


def _template(template, bands: int, name: str):
    """(t, mask): the template (kh, kw, C) and its alpha as a mask, or None."""

    t, mask = split_alpha(template)
    if mask is not None and (mask >= 1).all():
        mask = None
    if t.ndim == 1:
        raise ShapeError(f"{template.name} and {name}: one is a signal, the other an image")
    if t.ndim == 3 and bands == 1:
        raise ShapeError(
            f"the template {template.name} has {t.shape[2]} channels, {name} one: give --gray"
        )
    t = t if t.ndim == 3 else t[..., None]  # (kh, kw, C)
    return (np.repeat(t, bands, axis=2) if t.shape[2] == 1 else t), mask


def match_strips(path: str, source: str, fmt: str, template, settings) -> dict:
    """Match ``template`` in the image at ``source`` strip by strip; the dict of
    :func:`convcli.job.match.match_file`."""
    from contextlib import ExitStack

    from ..io import marks

    name = "stdin" if path == "-" else path
    im = _opened(source, name, fmt, settings.gray)
    t, mask = _template(template, im.bands, name)
    rows = _Rows(im, name)
    kh, kw = t.shape[:2]
    if kh > im.height or kw > im.width:
        raise ShapeError(
            f"the template ({kh}x{kw}) is larger than the input ({im.height}x{im.width})"
        )
    if rows.dtype == np.float64 or t.dtype != np.float32:
        t = t.astype(np.float64)  # float32 transforms only for float32 operands, as in memory
    shape = (im.height - kh + 1, im.width - kw + 1)
    first = rows.take(0, min(im.height, 256))
    centre = first.reshape(-1, im.bands).mean(axis=0, dtype=np.float64)  # (C,)
    plan = piece_plan(
        t,
        (im.height, im.width, im.bands),
        settings.score,
        _peak(im, source, name, fmt, centre),
        centre,
        mask,
    )
    messages.verbose(
        f"{name}: {im.width}x{im.height}x{im.bands} in strips of {plan.size[0]} rows "
        f"({plan.step} map rows each)"
    )
    distance = (
        default_distance((kh, kw)) if settings.min_distance is None else settings.min_distance
    )
    found = Candidates(
        shape,
        settings.top,
        distance,
        settings.threshold,
        settings.score in LOWER_IS_BETTER,
        settings.subsample,
    )
    with ExitStack() as stack:
        write = None
        if settings.map_path:
            write = stack.enter_context(marks.map_rows(settings.map_path, shape))

        def take(s, a, r0, count):  # s: (b - a, cols - kw + 1), map rows a .. b - 1
            found.add(s, a, r0 - a, count)
            if write is not None:
                write(s[r0 - a : r0 - a + count])

        stack.enter_context(allocator.kept())  # the strips' buffers, reused
        pool = stack.enter_context(ThreadPoolExecutor(THREADS))
        pending = deque()  # strips scored on the threads while the next is read
        own = plan.step - 2
        for r0 in range(0, shape[0], own):
            count = min(own, shape[0] - r0)
            a, b = max(0, r0 - 1), min(shape[0], r0 + count + 1)
            pending.append((pool.submit(plan.strip, rows.take(a, b + kh - 1)), a, r0, count))
            if len(pending) == THREADS:
                done, *place = pending.popleft()
                take(done.result(), *place)
        for done, *place in pending:
            take(done.result(), *place)
    digits = 7 if plan.dtype == np.float32 else 12
    matches = [
        (
            tuple(p if isinstance(p, int) else round(p, 4) for p in m.position),
            float(f"{m.score:.{digits}g}"),
        )
        for m in found.matches()
    ]
    result = {
        "path": path,
        "nd": 2,
        "rate": None,
        "audio": False,
        "size": (kh, kw),
        "score": settings.score,
        "matches": matches,
    }
    if not matches:
        result["best"] = found.best
    if settings.mark_path:  # a second pass over the image, drawn on as libvips writes it
        im = _opened(source, name, fmt, settings.gray)
        label = marks.score_label(settings.score)
        marks.mark_image_rows(im, matches, (kh, kw), settings.mark_path, label)
    return result


def _peak(im, source, name, fmt, centre) -> float:
    """A bound on ``|x - centre|``: from the sample format, or a pass over a float image."""
    from ..io.image import SAMPLE_TOP

    top, low = SAMPLE_TOP.get(im.format), 0.0
    if top is None:
        whole = _opened(source, name, fmt, False)
        low, top = float(whole.min()), float(whole.max())
    return float(max(np.abs(top - centre).max(), np.abs(centre - low).max()))


_NUMPY = {"uchar": np.uint8, "ushort": np.uint16, "float": np.float32, "double": np.float64}


class _Rows:
    """Rows ``a .. b - 1`` of an image that libvips reads once, top to bottom, in its own
    sample format (:class:`convcli.io.imagerows.RowReader` keeps the rows still needed);
    ``dtype``: the transforms' (the engine makes its float copy of each strip once, as it
    pads it)."""

    def __init__(self, im, name: str):
        from ..io.imagerows import RowReader

        if im.format not in _NUMPY:
            im = im.cast("double")
        self.read = RowReader(im, name)
        self.dtype = np.float32 if im.format in ("uchar", "ushort", "float") else np.float64

    def take(self, a: int, b: int) -> np.ndarray:
        return self.read(np.arange(a, b))  # (rows, cols, C)


def split_alpha(data: Data):
    """An image's colour (rows, cols[, C]) and its alpha scaled to 0..1 (or None)."""
    a = data.array
    if data.kind != "image" or not data.image.get("alpha"):
        return a, None
    top = data.image.get("max") or max(float(a[..., -1].max()), 1.0)
    colour = a[..., :-1]
    return (colour[..., 0] if colour.shape[-1] == 1 else colour), a[..., -1] / top
