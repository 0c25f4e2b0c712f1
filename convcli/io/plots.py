"""Pictures a person would rather look at than read: training curves and learned filters.

Drawn with Pillow alone (no plotting library), written atomically as PNG.
"""

from __future__ import annotations

import numpy as np

from .atomic import atomic_path

_COLOURS = {"loss": (200, 60, 40), "train": (40, 100, 200), "test": (30, 150, 60)}


def _panel(draw, box, title, series, y_range=None):
    """One line chart in ``box`` (left, top, right, bottom) with axes, ticks and a legend."""
    left, top, right, bottom = box
    values = np.concatenate([v for _, v, _ in series])
    lo, hi = y_range or (float(values.min()), float(values.max()))
    if hi <= lo:
        hi = lo + 1
    n = max(len(v) for _, v, _ in series)
    x0, y0, x1, y1 = left + 50, top + 25, right - 10, bottom - 30
    draw.text((left + 50, top + 5), title, fill=(0, 0, 0))
    draw.rectangle((x0, y0, x1, y1), outline=(0, 0, 0))
    for i in range(5):  # y ticks
        value = lo + (hi - lo) * i / 4
        y = y1 - (y1 - y0) * i / 4
        draw.line((x0 - 4, y, x0, y), fill=(0, 0, 0))
        draw.line((x0 + 1, y, x1 - 1, y), fill=(230, 230, 230))
        draw.text((left + 2, y - 6), f"{value:.3g}", fill=(0, 0, 0))
    for e in range(1, n + 1):  # x ticks at epochs
        x = x0 + (x1 - x0) * (e - 1) / max(n - 1, 1)
        draw.line((x, y1, x, y1 + 4), fill=(0, 0, 0))
        if n <= 15 or e % max(1, n // 10) == 0:
            draw.text((x - 4, y1 + 6), str(e), fill=(0, 0, 0))
    draw.text(((x0 + x1) // 2 - 15, bottom - 12), "epoch", fill=(0, 0, 0))
    for k, (name, v, colour) in enumerate(series):
        points = [(x0 + (x1 - x0) * i / max(n - 1, 1), y1 - (y1 - y0) * (val - lo) / (hi - lo))
                  for i, val in enumerate(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for p in points:
            draw.ellipse((p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2), fill=colour)
        draw.text((x1 - 90, y0 + 6 + 14 * k), f"- {name}", fill=colour)


def training_curves(path: str, epochs: list[dict]) -> None:
    """Loss and accuracy per epoch, side by side, as a PNG."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (880, 320), "white")
    draw = ImageDraw.Draw(im)
    loss = np.array([e["loss"] for e in epochs])
    train = np.array([e["train_accuracy"] for e in epochs])
    test = np.array([e["test_accuracy"] for e in epochs])
    _panel(draw, (0, 0, 440, 320), "training loss", [("loss", loss, _COLOURS["loss"])],
           (0.0, float(loss.max())))
    low = float(min(train.min(), test.min()))
    _panel(draw, (440, 0, 880, 320), "accuracy",
           [("train", train, _COLOURS["train"]), ("test", test, _COLOURS["test"])],
           (np.floor(low * 20) / 20, 1.0))
    _save(im, path)


def filter_grid(path: str, w: np.ndarray, scale: int = 24) -> None:
    """First-layer filters (K, C, kh, kw) in a grid: grey zero, white positive, black negative."""
    from PIL import Image

    k, c, kh, kw = w.shape
    tiles = w.transpose(0, 2, 3, 1)  # (K, kh, kw, C)
    if c not in (1, 3):
        tiles = tiles.mean(axis=3, keepdims=True)
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    gap = max(2, scale // 6)
    canvas = np.full((rows * (kh * scale + gap) + gap, cols * (kw * scale + gap) + gap,
                      tiles.shape[3]), 255, np.uint8)
    for i, tile in enumerate(tiles):
        peak = np.abs(tile).max() or 1.0
        pixels = np.rint(127.5 + 127.5 * tile / peak).astype(np.uint8)
        big = pixels.repeat(scale, axis=0).repeat(scale, axis=1)  # nearest-neighbour zoom
        r, q = divmod(i, cols)
        y, x = gap + r * (kh * scale + gap), gap + q * (kw * scale + gap)
        canvas[y : y + kh * scale, x : x + kw * scale] = big
    _save(Image.fromarray(canvas[..., 0] if canvas.shape[2] == 1 else canvas), path)


def _save(im, path: str) -> None:
    with atomic_path(path) as tmp:
        im.save(tmp, format="PNG")
