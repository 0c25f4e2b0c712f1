"""Images through libvips (pyvips): reading, writing, and everything a file holds.

Arrays are (rows, cols[, channels]) in the image's own units: 8-bit images hold
0..255 and 16-bit ones 0..65535 (as float32, which holds them exactly), 32-bit
integer images float64, float images as they are. Alpha is the last channel and
passes through unfiltered. EXIF, ICC profile, XMP and resolution travel with the
image to the output; multi-page TIFF and animated GIF/WebP load as one tall image
of ``page_height``-row pages. BMP and PGM/PPM, which the bundled libvips does not
read or write, go through Pillow.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, FileError, ResourceError
from .atomic import atomic_path, write_bytes
from .data import Data
from .jpeg import jpeg_quality

MAX_PIXELS = 1 << 34  # 17 gigapixels: a header claiming more is refused as a bomb
PILLOW_ONLY = ("bmp", "pgm", "ppm")
_SAVERS = {
    "png": "pngsave",
    "jpg": "jpegsave",
    "tiff": "tiffsave",
    "gif": "gifsave",
    "webp": "webpsave",
}
_MULTIPAGE = ("tiff", "gif", "webp")
_META = ("exif-data", "icc-profile-data", "xmp-data", "xres", "yres", "resolution-unit")
SAMPLE_TOP = {"uchar": 255, "ushort": 65535}  # the largest sample of each integer format
DEFAULT_QUALITY = 92


def vips_error(e) -> str:
    """libvips's own words for an error, without its 'unable to call' lines."""
    lines = [
        ln.strip()
        for ln in str(e).splitlines()
        if ln.strip() and not ln.strip().startswith("unable to")
    ]
    return lines[-1].rstrip(".") if lines else "not a format libvips knows"


def vips_open(source, name: str, access: str, **options):
    import pyvips

    try:
        if isinstance(source, bytes):
            return pyvips.Image.new_from_buffer(
                source, "", access=access, fail_on="truncated", **options
            )
        return pyvips.Image.new_from_file(source, access=access, fail_on="truncated", **options)
    except pyvips.Error as e:
        raise DataError(f"{name}: corrupt or unreadable image ({vips_error(e)})") from None


def check_output_size(width: int, height: int) -> None:
    """A result is held to the same pixel limit as an input."""
    if width * height > MAX_PIXELS:
        raise DataError(
            f"the result would be {width}x{height} pixels, over the limit of "
            f"{MAX_PIXELS:,} that inputs have too; pad less"
        )


def check_bomb(width: int, height: int, name: str) -> None:
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{name}: over the decompression-bomb limit of {MAX_PIXELS:,} pixels "
            f"({width}x{height}: a huge or hostile image)"
        )


MAX_RATIO = 4096  # no codec here packs more raw bytes than this into one byte of file


def _check_claim(im, source, name: str) -> None:
    """A header that claims far more pixels than the file's bytes could hold (a few hundred
    bytes claiming gigapixels) is refused before a filter runs into the missing data."""
    import os

    if isinstance(source, bytes) or im.width * im.height < 1 << 26:
        return
    raw = im.width * im.height * im.bands * _BYTES.get(im.format, 8)
    size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
    if raw > MAX_RATIO * size:
        raise DataError(
            f"{name}: its header claims {im.width}x{im.height} pixels, more than "
            f"its {size:,} bytes can hold: a damaged or hostile image"
        )


_BYTES = {"uchar": 1, "char": 1, "ushort": 2, "short": 2, "uint": 4, "int": 4, "float": 4}


def _check_finite(source, name: str, fmt: str) -> None:
    """Float samples must be numbers: NaN or infinity is refused, as for every other input."""
    im = vips_open(source, name, "random", **({"n": -1} if fmt in _MULTIPAGE else {}))
    bad = (im != im) | (im.abs() == float("inf"))  # NaN is the one value unequal to itself
    if bad.max() > 0:
        raise DataError(f"{name}: holds NaN or infinite samples, which convcli cannot filter")


def load(source, name: str, fmt: str, access: str = "sequential"):
    """A pyvips image of every page, EXIF orientation applied, or one clear error."""
    if fmt in PILLOW_ONLY:
        from .pillowformats import pillow_open

        return pillow_open(source, name, check_bomb)
    im = vips_open(source, name, access)
    check_bomb(im.width, im.height, name)
    _check_claim(im, source, name)
    if im.format in ("float", "double"):
        _check_finite(source, name, fmt)
    if fmt in _MULTIPAGE and field(im, "n-pages", 1) > 1:
        im = vips_open(source, name, "random", n=-1)  # pages are filtered side by side
    if field(im, "orientation", 1) > 1:
        im = (
            vips_open(source, name, "random", n=-1)
            if field(im, "n-pages", 1) > 1
            else vips_open(source, name, "random")
        )
        im = im.autorot()
    return im


def field(im, name: str, default):
    """A metadata field of a pyvips image, or ``default`` where it has none."""
    return im.get(name) if im.get_typeof(name) else default


def describe(im, fmt: str) -> dict:
    """What writing back needs to know: bit depth, alpha, pages, metadata, quality."""
    page = field(im, "page-height", im.height)
    return {
        "format": im.format,
        "max": SAMPLE_TOP.get(im.format),
        "alpha": bool(im.hasalpha()),
        "interpretation": im.interpretation,
        "bands": im.bands,
        "page_height": page if 0 < page < im.height and im.height % page == 0 else None,
        "meta": {f: im.get(f) for f in _META if im.get_typeof(f)},
        "input_format": fmt,
    }


def prepare(im, gray: bool):
    """Unusual sample formats made usual; ``gray``: luminance as Pillow computes it."""
    if im.format in ("char", "short", "int", "uint"):
        im = im.cast("double")
    elif im.format in ("complex", "dpcomplex"):
        raise DataError("complex images are not supported")
    if gray and im.interpretation == "cmyk":
        im = im.colourspace("srgb")
    if gray and im.bands - im.hasalpha() == 3:
        alpha = im[3:] if im.hasalpha() else None
        y = im[:3].recomb([[0.299, 0.587, 0.114]])  # ITU-R 601-2, as Pillow's convert('L')
        y = y.rint().cast(im.format) if im.format in SAMPLE_TOP else y.cast(im.format)
        y = y.copy(interpretation="grey16" if im.format == "ushort" else "b-w")
        im = y.bandjoin(alpha) if alpha is not None else y
    return im


def read_image(source, name: str, fmt: str = "png", gray: bool = False, **_) -> Data:
    """Read a whole image into memory as (rows, cols[, channels])."""
    import pyvips

    im = prepare(load(source, name, fmt), gray)
    meta = describe(im, fmt)
    if fmt == "jpg":
        meta["quality"] = jpeg_quality(source)
    from ..engine.padding import check_memory

    check_memory(im.width * im.height * im.bands * 2)
    try:
        array = im.numpy()
    except pyvips.Error as e:
        raise DataError(f"{name}: corrupt or truncated image ({vips_error(e)})") from None
    array = array.astype(np.float32 if im.format in ("uchar", "ushort", "float") else np.float64)
    return Data(array, fmt, name, image=meta)


def output_quality(meta: dict, quality: int | None) -> int:
    return quality or meta.get("quality") or DEFAULT_QUALITY


def check_writable(fmt: str, bands: int, alpha: bool, sample: str, meta: dict) -> None:
    """Refuse, naming the option or the format that would hold it, what a format cannot
    hold: never a silent reduction of depth or alpha."""
    colour = bands - alpha
    cmyk = meta.get("interpretation") == "cmyk" and colour == 4
    if colour not in (1, 3) and not cmyk or (fmt == "pgm" and bands != 1):
        raise DataError(
            f"{fmt} cannot hold a {colour}-channel image; write it to .npy (-o out.npy)"
        )
    if fmt in ("jpg", "gif", "bmp", "ppm", "webp") and sample == "ushort":
        raise DataError(
            f"{fmt} holds no 16-bit samples; give --depth 8 to convert, or write .png or .tiff"
        )
    if fmt == "jpg" and alpha:
        raise DataError(
            "jpg holds no alpha channel; give --flatten (onto --background, "
            "white by default), or write .png, .tiff or .webp"
        )


def sample_format(meta: dict) -> str:
    """The output's sample format: ``--depth``'s, else the input's (8-bit for float input)."""
    depth = meta.get("depth")
    if depth:
        return "ushort" if depth == 16 else "uchar"
    return meta.get("format") if meta.get("format") in SAMPLE_TOP else "uchar"


def pixels(y, meta: dict):
    """A float pyvips image rounded (ties to even) and clipped to the output's bit depth
    (``--depth`` rescales the input's full scale to the output's)."""
    sample = sample_format(meta)
    top_in, top_out = meta.get("max"), SAMPLE_TOP[sample]
    if top_in and top_in != top_out:
        y = y * (top_out / top_in)
    return y.rint().cast(sample)


def flattened(im, meta: dict):
    """``--flatten``: alpha composed onto the background (fractions of full scale, RGB)."""
    background = meta.get("background")
    if background is None or not meta.get("alpha"):
        return im
    top = SAMPLE_TOP.get(im.format, 1.0)
    colour = [v * top for v in background]
    if im.bands - 1 == 1:  # grey: the colour's luminance (ITU-R 601-2)
        colour = [0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]]
    flat = im.flatten(background=colour, max_alpha=top)
    return flat.rint().cast(im.format) if im.format in SAMPLE_TOP else flat.cast(im.format)


def to_vips(array: np.ndarray):
    import pyvips

    return pyvips.Image.new_from_array(np.ascontiguousarray(array))


def write_image(data: Data, path: str, fmt: str, quality: int | None = None, **_) -> None:
    """Write an in-memory result (rows, cols[, channels]); alpha rides in ``image``."""
    save(
        output_samples(data, fmt),
        path,
        fmt,
        data.image,
        quality,
        pages=data.image.get("out_page_height"),
    )


def output_samples(data: Data, fmt: str):
    """A result as the pyvips image of its output samples (alpha joined back)."""
    meta = data.image
    y = data.array
    alpha = meta.get("alpha_array")
    if y.ndim == 3 and y.shape[2] == 1:
        y = y[:, :, 0]
    channels = 1 if y.ndim == 2 else y.shape[2]  # save() checks what the format can hold
    im = to_vips(y.astype(np.float64, copy=False))
    if fmt == "tiff" and channels == 1 and alpha is None:
        im = im.cast("float")  # a float result, unclipped
    else:
        im = pixels(im, meta)
        if alpha is not None:
            im = im.bandjoin(pixels(to_vips(alpha.astype(np.float64)), meta))
    return im


def _tagged(im, meta: dict, pages):
    """Metadata and interpretation put back on a result."""
    from pyvips import GValue

    tags = meta.get("meta", {})
    im = im.copy(**{k: tags[k] for k in ("xres", "yres") if k in tags})
    for key, value in tags.items():
        if key not in ("xres", "yres"):
            im.set_type(getattr(GValue, _GTYPES[key]), key, value)
    if pages:
        im.set_type(GValue.gint_type, "page-height", pages)
    if "exif-data" in tags:  # the pixels were turned upright on reading: say so in the EXIF
        im.set_type(GValue.gint_type, "orientation", 1)
    colour = im.bands - im.hasalpha()
    if meta.get("interpretation") == "cmyk" and colour == 4:
        return im.copy(interpretation="cmyk")
    wide = im.format == "ushort"
    kind = ("grey16" if wide else "b-w") if colour == 1 else ("rgb16" if wide else "srgb")
    return im.copy(interpretation=kind) if im.format in SAMPLE_TOP else im


_GTYPES = {
    "exif-data": "blob_type",
    "icc-profile-data": "blob_type",
    "xmp-data": "blob_type",
    "resolution-unit": "gstr_type",
    "page-height": "gint_type",
}


def save(im, path: str, fmt: str, meta: dict, quality=None, pages=None, check=None) -> None:
    """Encode ``im`` (already in its output sample format) atomically, or to stdout.

    ``check()``, if given, runs once the pixels are written and before the file is put
    in place: a pipeline fed from elsewhere raises there what went wrong upstream.
    """
    import pyvips

    im = flattened(im, meta)
    check_writable(
        fmt, im.bands, meta.get("alpha", False) and meta.get("background") is None, im.format, meta
    )
    if meta.get("interpretation") == "cmyk" and im.bands == 4 and fmt not in ("jpg", "tiff"):
        im = im.copy(interpretation="cmyk").colourspace("srgb")  # the format holds no CMYK
    im = _tagged(im, meta, pages)
    options = _options(fmt, meta, quality)
    try:
        if fmt in PILLOW_ONLY:
            from .pillowformats import pillow_save

            return pillow_save(im, path, fmt)
        if path == "-":
            data = im.write_to_buffer(f".{_suffix(fmt)}", **options)
            if check:
                check()
            write_bytes(data, "-")
            return
        with atomic_path(path) as tmp:
            getattr(im, _SAVERS[fmt])(tmp, **options)
            if check:
                check()
    except pyvips.Error as e:
        raise _save_error(e, path, fmt, meta.get("name", "the input")) from None
    except MemoryError:
        raise ResourceError("not enough memory for this image") from None


def _save_error(e, path: str, fmt: str, name: str) -> Exception:
    """What a failed pipeline says: the output's disk, or (most often) a damaged input,
    which libvips only finds while it writes, since it reads as it goes."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    text = " ".join(lines)
    if "No space" in text or "space left" in text:
        return FileError(f"{path}: no space left on the device")
    if "cannot hold" in text or "not supported" in text or "unsupported" in text:
        return DataError(f"cannot write the image as {fmt} ({vips_error(e)})")
    reading = [
        ln
        for ln in lines
        if not ln.startswith(("unable to", "vips2", "vips_")) and "unable to write" not in ln
    ]
    why = (reading[-1] if reading else vips_error(e)).rstrip(".")
    return DataError(f"{name}: corrupt or truncated image ({why})")


def _suffix(fmt: str) -> str:
    return {"jpg": "jpg", "tiff": "tif"}.get(fmt, fmt)


def _options(fmt: str, meta: dict, quality: int | None) -> dict:
    if fmt == "png":  # zlib level 1: twice as fast as the usual 6, files ~15% larger
        return {"compression": 1}
    if fmt in ("jpg", "webp"):
        return {"Q": output_quality(meta, quality)}
    return {}
