"""Pictures of a match: the score map as a file, the input with its matches boxed, and
for signals the score against time (Matplotlib, imported only when drawn)."""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import FormatError
from . import files, registry
from .data import Data

_RANGES = {"ccoeff-normed": (-1.0, 1.0), "ccorr-normed": (0.0, 1.0), "sqdiff-normed": (0.0, 1.0)}


def map_format(path: str, nd: int) -> str:
    """The format ``write_map`` writes ``path`` in, or one clear error before any work."""
    fmt = files.output_format(path, None, "npy")
    kind = registry.kind_of(fmt)
    if kind == "audio" or kind == "chunked":
        raise FormatError(f"{path}: write the score map as .npy, .tiff, .png or text")
    if kind == "image" and nd != 2:
        raise FormatError(
            f"{path}: a 1-D score map is numbers: write .npy or .txt (or draw it with --mark)"
        )
    return fmt


def write_map(scores: np.ndarray, path: str, score: str) -> None:
    """The score map: float in .npy/.tiff (and text or JSON), a grey picture in other image
    formats (normalised scores on their fixed range, others stretched min to max)."""
    fmt = map_format(path, scores.ndim)
    kind = registry.kind_of(fmt)
    if kind != "image" or fmt == "tiff":
        files.write(
            Data(scores.astype(np.float32 if kind == "image" else np.float64), fmt, image={}),
            path,
            fmt,
        )
        return
    low, high = _RANGES.get(score, (float(scores.min()), float(scores.max())))
    grey = (scores.astype(np.float64) - low) / ((high - low) or 1.0) * 255
    files.write(Data(np.clip(grey, 0, 255), fmt, image={}), path, fmt)


@contextlib.contextmanager
def map_rows(path: str, shape: tuple):
    """Write a score map of ``shape`` (m,) or (rows, cols) as float64 .npy, rows at a time:
    the header first, then each ``write(rows)``; put in place only when every row came."""
    from .atomic import atomic_path

    dtype = np.dtype(np.float64)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {**header, "shape": tuple(shape)})
        done = [0]

        def write(rows):
            f.write(np.ascontiguousarray(rows, dtype=dtype).tobytes())
            done[0] += len(rows)

        yield write
        if done[0] != shape[0]:
            raise RuntimeError(f"{path}: {done[0]} of {shape[0]} rows of the map written")


class Envelope:
    """The lowest and highest score in each of ``columns`` runs of windows: a plot of a long
    signal's scores one pixel column at a time, from blocks of it.

    Parameters
    ----------
    windows : int
        The map's length.
    """

    def __init__(self, windows: int, columns: int = 2000):
        self.per = max(1, -(-windows // columns))  # windows per column
        count = -(-windows // self.per)
        self.low, self.high = np.full(count, np.inf), np.full(count, -np.inf)

    def add(self, s: np.ndarray, start: int) -> None:
        """Scores ``s`` (m,) of windows ``start .. start + m - 1``."""
        column = (start + np.arange(len(s))) // self.per  # (m,)
        cuts = np.r_[0, np.flatnonzero(np.diff(column)) + 1]
        at = column[cuts]
        np.minimum.at(self.low, at, np.minimum.reduceat(s, cuts))
        np.maximum.at(self.high, at, np.maximum.reduceat(s, cuts))


def _rgb8(data: Data) -> np.ndarray:
    """The input as 8-bit RGB for drawing on: (rows, cols, 3) uint8."""
    a = data.array.astype(np.float64)
    if a.ndim == 3 and data.image.get("alpha"):
        a = a[..., :-1]
    if a.ndim == 3 and a.shape[2] not in (1, 3):
        a = a[..., :3] if a.shape[2] > 3 else a[..., :1]
    top = data.image.get("max") or (float(a.max()) or 1.0)
    a = np.clip(a / top * 255, 0, 255)
    if a.ndim == 2 or a.shape[2] == 1:
        a = np.repeat(a.reshape(a.shape[0], a.shape[1], 1), 3, axis=2)
    return a.round().astype(np.uint8)


def mark_image_rows(im, matches, size, path: str, label: str) -> None:
    """:func:`mark_image` for a pyvips image read top to bottom (a strip route's input):
    each box and label is drawn on a small transparent picture of its own, composited
    where it lies, and libvips writes the PNG as the rows go by, in flat memory."""
    import pyvips
    from PIL import Image, ImageDraw

    from .image import save

    rgb = _rgb8_vips(im)
    style = _style(max(rgb.width, rgb.height))
    layers, xs, ys = [], [], []
    for rank, (position, value) in enumerate(matches, 1):
        y, x = (round(float(v)) for v in position)
        text = f"{rank}: {label}={value:.3f}"
        x0, y0, x1, y1 = _extent(x, y, size, text, style, rgb.height)
        layer = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
        _draw_match(ImageDraw.Draw(layer), x, y, size, text, style, rgb.height, (x0, y0))
        pixels = np.asarray(layer)  # (rows, cols, 4) uint8
        layers.append(pyvips.Image.new_from_array(pixels, interpretation="srgb"))
        xs.append(x0)
        ys.append(y0)
    if layers:
        rgb = rgb.composite(layers, "over", x=xs, y=ys)[:3].rint().cast("uchar")
    save(rgb, path, "png", {})


def _rgb8_vips(im):
    """:func:`_rgb8` for a pyvips image (its alpha already left out)."""
    if im.bands > 3:
        im = im[:3]
    from .image import SAMPLE_TOP

    top = SAMPLE_TOP.get(im.format) or (im.max() or 1.0)
    if top != 255:
        im = (im * (255.0 / top) + 0.5).cast("uchar")  # as _rgb8 rounds
    if im.bands == 1:
        im = im.bandjoin([im, im])
    return im.copy(interpretation="srgb")


def score_label(score: str) -> str:
    """What a picture calls a score: r for Pearson's, else the score's name."""
    return "r" if score == "ccoeff-normed" else score


def _style(longest: int):
    """(line width, font, rows of a label) for a picture of ``longest`` pixels."""
    return (max(1, round(longest / 400)), *_font(longest))


def _label_row(y: int, kh: int, tall: int, height: int) -> int:
    """The label's top row: above the box, or below it at the picture's top edge."""
    return y - tall if y >= tall else min(y + kh + 1, height - tall + 1)


def _extent(x, y, size, text, style, height):
    """(x0, y0, x1, y1): the pixels a match's box and label cover."""
    from PIL import Image, ImageDraw

    kh, kw = size
    ty = _label_row(y, kh, style[2], height)
    left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(
        (x, ty), text, font=style[1]
    )
    return min(x, left), min(y, top), max(x + kw, right + 1), max(y + kh, bottom + 1)


def _draw_match(draw, x, y, size, text, style, height, origin=(0, 0)) -> None:
    """Box the match at (x, y) in red and write ``text`` beside it on ``draw``, whose
    top-left pixel is ``origin`` in the picture."""
    (kh, kw), (width, font, tall), (ox, oy) = size, style, origin
    ty = _label_row(y, kh, tall, height) - oy
    x, y = x - ox, y - oy
    draw.rectangle([x, y, x + kw - 1, y + kh - 1], outline=(255, 0, 0), width=width)
    draw.rectangle(draw.textbbox((x, ty), text, font=font), fill=(0, 0, 0))
    draw.text((x, ty), text, fill=(255, 255, 0), font=font)


def _font(longest: int):
    """A label font that reads on a picture of ``longest`` pixels seen whole (about 1/80 of
    it, 11 pixels at least), and the rows its line takes."""
    from PIL import ImageFont

    size = max(11, round(longest / 80))
    try:
        return ImageFont.load_default(size=size), size + 1
    except (OSError, ValueError):  # a Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default(), 12


def mark_image(data: Data, matches, size, path: str, label: str) -> None:
    """The input with each match boxed in red and its score written beside it (PNG)."""
    from PIL import Image, ImageDraw

    from .atomic import write_bytes

    im = Image.fromarray(_rgb8(data))
    draw = ImageDraw.Draw(im)
    style = _style(max(im.size))
    for rank, (position, value) in enumerate(matches, 1):
        y, x = (round(float(v)) for v in position)
        _draw_match(draw, x, y, size, f"{rank}: {label}={value:.3f}", style, im.size[1])
    import io

    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    write_bytes(buffer.getvalue(), path)


def mark_signal(scores, matches, rate, path: str, label: str, name: str) -> None:
    """The score of every window against time (or sample), matches marked and numbered.

    ``scores`` is the map (m,), or an :class:`Envelope` of a long one (drawn as the band
    from the lowest to the highest score of each pixel column).
    """
    from .plots import _pyplot, _save

    if not isinstance(scores, Envelope) and len(scores) > 4000:
        envelope = Envelope(len(scores))
        envelope.add(np.asarray(scores, dtype=np.float64), 0)
        scores = envelope
    plt = _pyplot()
    scale = 1.0 / rate if rate else 1.0
    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
    if isinstance(scores, Envelope):
        at = (np.arange(len(scores.high)) + 0.5) * scores.per * scale
        ax.fill_between(at, scores.low, scores.high, lw=0, color="tab:blue", alpha=0.35)
        ax.plot(at, scores.high, lw=0.6, color="tab:blue")
    else:
        ax.plot(np.arange(len(scores)) * scale, scores, lw=0.8, color="tab:blue")
    for rank, (position, value) in enumerate(matches, 1):
        ax.plot(position[0] * scale, value, "o", color="tab:red")
        ax.annotate(
            f"{rank}: {value:.3f}",
            (position[0] * scale, value),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    ax.set(
        xlabel="window start (s)" if rate else "window start (sample)",
        ylabel=label,
        title=f"{name}: {label} of every window",
    )
    ax.grid(alpha=0.3)
    _save(fig, path)
