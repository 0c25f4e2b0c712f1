"""Images through Pillow: (rows, cols[, channels]) arrays in the image's own units.

8-bit images hold 0..255 and 16-bit ones 0..65535 (as float32, which holds them
exactly); 32-bit integer images float64, float images as they are. Alpha is kept
aside and passes through unfiltered.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from ..errors import DataError
from .formats import Data

_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "tiff": "TIFF", "bmp": "BMP", "gif": "GIF",
                "webp": "WEBP", "pgm": "PPM", "ppm": "PPM"}
_TO_RGB = ("CMYK", "YCbCr", "LAB", "HSV", "RGBX")
_MAX = {"L": 255, "LA": 255, "RGB": 255, "RGBA": 255, "I;16": 65535, "I": None, "F": None}


def _open(source, name: str):
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            limit = Image.MAX_IMAGE_PIXELS
            raise DataError(f"{name}: over the decompression-bomb limit of {limit:,} pixels "
                            "(a huge or hostile image)") from None
        except UnidentifiedImageError:
            raise DataError(f"{name}: not an image Pillow can read (corrupt?)") from None
        except (OSError, SyntaxError, ValueError) as e:
            raise DataError(f"{name}: corrupt or truncated image ({e})") from None
    return im


def _normal_mode(im, gray: bool):
    """Convert to one of L, LA, RGB, RGBA, I;16, I, F."""
    mode = im.mode
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        alpha = mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if alpha else "RGB")
    elif mode in _TO_RGB:
        im = im.convert("RGB")
    elif mode in ("RGBa", "La"):
        im = im.convert(mode.upper())
    elif mode.startswith("I;16"):
        im = im if mode == "I;16" else im.convert("I").convert("I;16")
    if gray and im.mode in ("RGB", "RGBA"):
        im = im.convert("L" if im.mode == "RGB" else "LA")
    return im


def read_image(source, fmt: str, name: str, gray: bool = False) -> Data:
    """Read an image (a path or bytes), EXIF orientation applied."""
    from PIL import ImageOps

    im = _normal_mode(ImageOps.exif_transpose(_open(source, name)), gray)
    array = np.asarray(im)
    if im.mode == "I;16" and array.dtype != np.uint16:
        array = array.astype(np.uint16)
    array = array.astype(np.float64 if im.mode == "I" else np.float32)
    meta = {"mode": im.mode, "max": _MAX.get(im.mode), "alpha": im.mode in ("LA", "RGBA")}
    return Data(array, fmt, name, image=meta)


def split_alpha(array: np.ndarray, meta: dict):
    """(colour channels, alpha or None); a single colour channel comes out 2-D."""
    if not meta.get("alpha"):
        return array, None
    colour = array[..., :-1]
    return (colour[..., 0] if colour.shape[-1] == 1 else colour), array[..., -1]


def finish_image(data: Data, y: np.ndarray, alpha, s) -> Data:
    """Apply --abs/--offset/--normalize; rounding waits for the output format."""
    from .pipeline import postprocess

    full = data.image.get("max") or 1.0
    y = postprocess(y.astype(np.float64 if data.image.get("mode") == "I" else np.float32),
                    2, s, full_scale=full)
    return Data(y, data.format, data.name, image={**data.image, "alpha_array": alpha})


def _pixels(y, meta, fmt):
    """Round (ties to even) and clip to the input's bit depth."""
    top = meta.get("max") or 255
    dtype = np.uint16 if top == 65535 else np.uint8
    y = np.rint(y, out=y if y.dtype.kind == "f" else None)  # the result is ours to round
    np.clip(y, 0, top, out=y)
    return y.astype(dtype)


def encode_image(data: Data, fmt: str) -> bytes:
    """The bytes of an image file holding ``data``; floats go to TIFF as mode F unclipped."""
    from PIL import Image

    y = data.array
    alpha = data.image.get("alpha_array")
    channels = 1 if y.ndim == 2 else y.shape[2]
    if y.ndim == 3 and channels == 1:
        y, channels = y[:, :, 0], 1
    if fmt == "tiff" and channels == 1 and alpha is None:
        im = Image.fromarray(np.ascontiguousarray(y, dtype=np.float32), mode="F")
    else:
        if channels not in (1, 3) or (fmt == "pgm" and channels != 1):
            raise DataError(f"{fmt} cannot hold a {channels}-channel image; "
                            "write it to .npy (-o out.npy)")
        pixels = _pixels(y, data.image, fmt)
        if alpha is not None:
            a = _pixels(alpha, data.image, fmt)
            pixels = np.dstack([pixels, a])
        if fmt == "jpg" and (alpha is not None or pixels.dtype != np.uint8):
            raise DataError("jpg holds neither alpha nor 16-bit samples; write .png or .tiff")
        im = Image.fromarray(np.ascontiguousarray(pixels))
    # PNG at zlib level 1: 2x faster to write than Pillow's default 6, files ~15% larger
    options = {"quality": 95} if fmt in ("jpg", "webp") else {"compress_level": 1} \
        if fmt == "png" else {}
    buffer = io.BytesIO()
    try:
        im.save(buffer, format=_PIL_FORMATS[fmt], **options)
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"cannot write a {im.mode} image as {fmt} ({e})") from None
    return buffer.getvalue()
