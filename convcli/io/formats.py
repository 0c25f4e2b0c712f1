"""The format table: extensions, magic bytes, and one reader and writer per kind of data."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DataError, FileError, FormatError
from . import arrays
from .atomic import atomic_path


@dataclass(frozen=True)
class Format:
    name: str
    kind: str  # 'text', 'json', 'npy', 'audio' or 'image'
    extensions: tuple[str, ...]


FORMATS = {
    f.name: f
    for f in [
        Format("txt", "text", (".txt", ".csv", ".tsv", ".dat")),
        Format("json", "json", (".json",)),
        Format("npy", "npy", (".npy",)),
        Format("wav", "audio", (".wav", ".wave")),
        Format("flac", "audio", (".flac",)),
        Format("ogg", "audio", (".ogg", ".oga")),
        Format("aiff", "audio", (".aiff", ".aif", ".aifc")),
        Format("png", "image", (".png",)),
        Format("jpg", "image", (".jpg", ".jpeg")),
        Format("tiff", "image", (".tiff", ".tif")),
        Format("bmp", "image", (".bmp",)),
        Format("gif", "image", (".gif",)),
        Format("webp", "image", (".webp",)),
        Format("pgm", "image", (".pgm", ".pbm")),
        Format("ppm", "image", (".ppm", ".pnm")),
    ]
}
ALIASES = {"text": "txt", "jpeg": "jpg", "tif": "tiff", "aif": "aiff", "wave": "wav"}
BINARY_KINDS = ("npy", "audio", "image")


@dataclass
class Data:
    """An array with what its file said about it.

    ``array`` is (n,) or (n, m) for text, any shape for JSON/npy, (frames, channels)
    for audio and (rows, cols[, channels]) for images.
    """

    array: np.ndarray
    format: str
    name: str = "input"
    orientation: str = "matrix"  # text: 'row', 'column' or 'matrix'
    sample_rate: int | None = None
    subtype: str | None = None
    image: dict = field(default_factory=dict)  # mode, bit depth, alpha channel
    header: str | None = None  # a .csv file's header line

    @property
    def kind(self) -> str:
        return FORMATS[self.format].kind

    def with_array(self, array: np.ndarray) -> Data:
        return replace(self, array=array)


def format_names() -> str:
    return ", ".join(FORMATS)


def canonical(name: str) -> str:
    """The table's name for a format given by the user (``jpeg`` -> ``jpg``)."""
    name = ALIASES.get(name.lower().lstrip("."), name.lower().lstrip("."))
    if name not in FORMATS:
        raise FormatError(f"unknown format {name!r}; supported: {format_names()}")
    return name


def by_extension(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    for f in FORMATS.values():
        if ext in f.extensions:
            return f.name
    return None


def sniff(prefix: bytes) -> str:
    """The format of data that starts with ``prefix`` (its first 16 bytes or more)."""
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WAVE":
        return "wav"
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP":
        return "webp"
    table = [
        (b"fLaC", "flac"), (b"OggS", "ogg"), (b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"),
        (b"GIF8", "gif"), (b"BM", "bmp"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
        (b"\x93NUMPY", "npy"), (b"P5", "pgm"), (b"P2", "pgm"), (b"P4", "pgm"), (b"P6", "ppm"),
        (b"P3", "ppm"),
    ]
    for magic, name in table:
        if prefix.startswith(magic):
            return name
    if prefix[:4] == b"FORM" and prefix[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if prefix.lstrip()[:1] == b"[":
        return "json"
    if b"\x00" in prefix:
        raise FormatError(f"unrecognised binary data; supported: {format_names()}")
    return "txt"


def _read_bytes(path: str, size: int = -1) -> bytes:
    """The bytes of a file (the first ``size`` of them), or of standard input for ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise FileError(f"{path}: cannot read ({e.strerror})") from None


def detect(path: str, fmt: str | None = None, prefix: bytes | None = None) -> str:
    """Format of an input: ``--from``, else its extension, else its first bytes."""
    if fmt:
        return canonical(fmt)
    if path != "-":
        found = by_extension(path)
        if found:
            return found
        if prefix is None:
            prefix = _read_bytes(path, 64)
    return sniff(prefix or b"")


def read(path: str, fmt: str | None = None, *, gray: bool = False) -> Data:
    """Read a file (or ``-`` for standard input) into a :class:`Data`."""
    name = "stdin" if path == "-" else path
    if path != "-" and not os.path.exists(path):
        raise FileError(f"{path}: no such file")
    data = None
    if path == "-":
        data = _read_bytes(path)
        if not data:
            raise DataError("stdin: the input is empty")
    fmt = detect(path, fmt, data[:64] if data is not None else None)
    kind = FORMATS[fmt].kind
    if kind == "audio":
        from .audio import read_audio

        return read_audio(data if data is not None else path, fmt, name)
    if kind == "image":
        from .image import read_image

        return read_image(data if data is not None else path, fmt, name, gray=gray)
    if data is None:
        data = _read_bytes(path)
    if kind == "npy":
        return Data(arrays.parse_npy(data, name), fmt, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: not text (and not a format convcli knows)") from None
    if kind == "json":
        return Data(arrays.parse_json(text, name), fmt, name)
    array, orientation = arrays.parse_text(text, name)
    header = arrays.csv_header(text) if name.lower().endswith(".csv") else None
    return Data(array, fmt, name, orientation=orientation, header=header)


def output_format(path: str | None, to: str | None, data: Data) -> str:
    """Format of an output: ``--to``, else the extension, else the input's text/JSON format."""
    if to:
        return canonical(to)
    if path and path != "-":
        found = by_extension(path)
        if found:
            return found
        if not os.path.isdir(path):
            raise FormatError(f"{path}: cannot tell the output format from the extension; "
                              f"use --to ({format_names()})")
    return data.format


def encode(data: Data, fmt: str, **options) -> bytes:
    """The bytes of ``data`` in format ``fmt`` (options: precision, subtype, quality)."""
    kind = FORMATS[fmt].kind
    array = data.array
    if kind == "text":
        csv = options.get("csv", False)  # comma-separated, the header kept
        return arrays.format_text(array, data.orientation, options.get("precision"),
                                  sep="," if csv else " ",
                                  header=data.header if csv else None).encode()
    if kind == "json":
        return arrays.format_json(array, options.get("precision")).encode()
    if kind == "npy":
        return arrays.format_npy(array)
    if kind == "audio":
        from .audio import encode_audio

        return encode_audio(data, fmt, options.get("subtype"))
    from .image import encode_image

    return encode_image(data, fmt)


def write(data: Data, path: str, fmt: str, **options) -> None:
    """Write ``data`` to ``path`` atomically, or to standard output for ``-``."""
    payload = encode(data, fmt, csv=path.lower().endswith(".csv"), **options)
    if path == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(payload)


def is_binary(fmt: str) -> bool:
    return FORMATS[fmt].kind in BINARY_KINDS
