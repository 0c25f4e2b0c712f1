"""BMP and PGM/PPM, which the bundled libvips neither reads nor writes: through Pillow.

Read, they are handed to libvips as an image of the same samples; written, a libvips
image's samples go to Pillow's encoder.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .atomic import write_bytes


def pillow_open(source, name: str, check_bomb):
    """BMP and PGM/PPM: decoded by Pillow (``check_bomb(width, height, name)`` first), then
    handed to libvips."""
    import io
    import warnings

    import pyvips
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            check_bomb(im.width, im.height, name)
            im = ImageOps.exif_transpose(im)
            im.load()
        except UnidentifiedImageError:
            raise DataError(f"{name}: corrupt or unreadable image") from None
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
            raise DataError(f"{name}: corrupt or truncated image ({e})") from None
    if im.mode in ("1", "P", "PA", "CMYK", "YCbCr", "HSV", "LAB"):
        im = im.convert(
            "RGBA"
            if im.mode == "PA" or "transparency" in im.info
            else "L"
            if im.mode == "1"
            else "RGB"
        )
    array = np.asarray(im)
    if im.mode.startswith("I;16"):
        array = array.astype(np.uint16)
    return pyvips.Image.new_from_array(np.ascontiguousarray(array))


def pillow_save(im, path: str, fmt: str) -> None:
    import io

    from PIL import Image

    array = im.numpy()
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(
        buffer, format="BMP" if fmt == "bmp" else "PPM"
    )
    write_bytes(buffer.getvalue(), path)
