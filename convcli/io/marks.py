"""Pictures of a match: the score map as a file, the input with its matches boxed, and
for signals the score against time (Matplotlib, imported only when drawn)."""

from __future__ import annotations

import numpy as np

from ..errors import FormatError
from . import files, registry
from .data import Data

_RANGES = {"ccoeff-normed": (-1.0, 1.0), "ccorr-normed": (0.0, 1.0), "sqdiff-normed": (0.0, 1.0)}


def write_map(scores: np.ndarray, path: str, score: str) -> None:
    """The score map: float in .npy/.tiff (and text or JSON), a grey picture in other image
    formats (normalised scores on their fixed range, others stretched min to max)."""
    fmt = files.output_format(path, None, "npy")
    kind = registry.kind_of(fmt)
    if kind == "audio" or kind == "chunked":
        raise FormatError(f"{path}: write the score map as .npy, .tiff, .png or text")
    if kind != "image" or fmt == "tiff":
        if kind == "image" and scores.ndim != 2:
            raise FormatError(f"{path}: a 1-D score map is numbers: write .npy or .txt")
        files.write(
            Data(scores.astype(np.float32 if kind == "image" else np.float64), fmt, image={}),
            path,
            fmt,
        )
        return
    if scores.ndim != 2:
        raise FormatError(
            f"{path}: a 1-D score map is numbers: write .npy or .txt (or draw it with --mark)"
        )
    low, high = _RANGES.get(score, (float(scores.min()), float(scores.max())))
    grey = (scores.astype(np.float64) - low) / ((high - low) or 1.0) * 255
    files.write(Data(np.clip(grey, 0, 255), fmt, image={}), path, fmt)


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


def mark_image(data: Data, matches, size, path: str, label: str) -> None:
    """The input with each match boxed in red and its score written beside it (PNG)."""
    from PIL import Image, ImageDraw

    from .atomic import write_bytes

    im = Image.fromarray(_rgb8(data))
    draw = ImageDraw.Draw(im)
    kh, kw = size
    width = max(1, round(max(im.size) / 400))
    for rank, (position, value) in enumerate(matches, 1):
        y, x = (round(float(v)) for v in position)
        draw.rectangle([x, y, x + kw - 1, y + kh - 1], outline=(255, 0, 0), width=width)
        text = f"{rank}: {label}={value:.3f}"
        ty = y - 12 if y >= 12 else min(y + kh + 1, im.size[1] - 11)
        box = draw.textbbox((x, ty), text)
        draw.rectangle(box, fill=(0, 0, 0))
        draw.text((x, ty), text, fill=(255, 255, 0))
    import io

    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    write_bytes(buffer.getvalue(), path)


def mark_signal(scores: np.ndarray, matches, rate, path: str, label: str, name: str) -> None:
    """The score of every window against time (or sample), matches marked and numbered."""
    from .plots import _pyplot, _save

    plt = _pyplot()
    scale = 1.0 / rate if rate else 1.0
    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
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
