"""Multi-page TIFFs whose pages differ in size: read a page at a time, written back whole.

libvips loads a multi-page file as one tall image of equal pages; pages of other sizes
are read here one by one and written back through Pillow.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .atomic import atomic_path
from .data import Data
from .image import check_bomb, describe, field, flattened, output_samples, prepare, vips_open


def page_sizes(source, name: str, fmt: str) -> list[tuple[int, int]] | None:
    """Each page's (width, height) when a multi-page TIFF's pages differ in size, else None."""
    if fmt != "tiff":
        return None
    pages = field(vips_open(source, name, "sequential"), "n-pages", 1)
    if pages < 2:
        return None
    sizes = [
        (p.width, p.height)
        for p in (vips_open(source, name, "sequential", page=i) for i in range(pages))
    ]
    return sizes if len(set(sizes)) > 1 else None


def read_page(source, name: str, page: int, gray: bool = False) -> Data:
    """One page of a multi-page TIFF, as :func:`read_image` reads a whole image."""
    im = prepare(vips_open(source, f"{name} (page {page + 1})", "random", page=page), gray)
    check_bomb(im.width, im.height, name)
    array = im.numpy().astype(
        np.float32 if im.format in ("uchar", "ushort", "float") else np.float64
    )
    return Data(array, "tiff", name, image=describe(im, "tiff"))


def write_pages(results: list[Data], path: str) -> None:
    """Pages of different sizes as one multi-page TIFF (libvips writes equal pages only, so
    Pillow writes these: 8-bit grey, RGB and RGBA, 16-bit and float grey)."""
    from PIL import Image

    frames = []
    for data in results:
        im = flattened(output_samples(data, "tiff"), data.image)
        array = im.numpy()
        if array.dtype == np.uint16 and array.ndim == 3:
            raise DataError(
                "pages of different sizes in 16-bit colour cannot be written "
                "back; give --depth 8, or write each page on its own"
            )
        frames.append(Image.fromarray(np.ascontiguousarray(array)))
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="TIFF", save_all=True, append_images=frames[1:])
