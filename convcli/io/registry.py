"""The format table: one row per format, from which everything about formats is derived.

Each row names the format, its kind of data, its extensions, a test of a file's
first bytes (``accept``, as Pillow's plugins have) and where its reader and writer
live (``"module:function"``, imported only when used, so this module imports
nothing of the readers and no module of ``convcli.io`` imports back into a circle).
Sniffing, ``--from``/``--to`` choices and the lists in error messages all come from
``FORMATS``. To add a format: one row here, plus its reader and writer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import FormatError


@dataclass(frozen=True)
class Format:
    name: str
    kind: str  # 'text', 'json', 'npy', 'audio', 'image' or 'chunked'
    extensions: tuple[str, ...]
    accept: Callable[[bytes], bool] | None
    reader: str  # "module:function" in convcli.io
    writer: str

    @property
    def binary(self) -> bool:
        return self.kind not in ("text", "json")


def _magic(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _riff(form: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == form


def _aiff(head: bytes) -> bool:
    return head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")


def _json(head: bytes) -> bool:
    return head.lstrip()[:1] == b"["


_AUDIO = ("audio:read_audio", "audio:write_audio")
_IMAGE = ("image:read_image", "image:write_image")
_NPY = ("numbers:read_npy", "numbers:write_npy")

FORMATS = {
    f.name: f
    for f in [
        Format(
            "txt", "text", (".txt", ".tsv", ".dat"), None, "numbers:read_text", "numbers:write_text"
        ),
        Format("csv", "text", (".csv",), None, "numbers:read_csv", "numbers:write_csv"),
        Format("json", "json", (".json",), _json, "numbers:read_json", "numbers:write_json"),
        Format("npy", "npy", (".npy",), _magic(b"\x93NUMPY"), *_NPY),
        Format("wav", "audio", (".wav", ".wave"), _riff(b"WAVE"), *_AUDIO),
        Format("flac", "audio", (".flac",), _magic(b"fLaC"), *_AUDIO),
        Format("ogg", "audio", (".ogg", ".oga"), _magic(b"OggS"), *_AUDIO),
        Format("opus", "audio", (".opus",), None, *_AUDIO),  # Ogg too: sniffed as ogg
        Format("aiff", "audio", (".aiff", ".aif", ".aifc"), _aiff, *_AUDIO),
        Format(
            "mp3",
            "audio",
            (".mp3",),
            _magic(b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
            *_AUDIO,
        ),
        Format("png", "image", (".png",), _magic(b"\x89PNG"), *_IMAGE),
        Format("jpg", "image", (".jpg", ".jpeg"), _magic(b"\xff\xd8\xff"), *_IMAGE),
        Format("tiff", "image", (".tiff", ".tif"), _magic(b"II*\x00", b"MM\x00*"), *_IMAGE),
        Format("bmp", "image", (".bmp",), _magic(b"BM"), *_IMAGE),
        Format("gif", "image", (".gif",), _magic(b"GIF8"), *_IMAGE),
        Format("webp", "image", (".webp",), _riff(b"WEBP"), *_IMAGE),
        Format("pgm", "image", (".pgm", ".pbm"), _magic(b"P5", b"P2", b"P4", b"P1"), *_IMAGE),
        Format("ppm", "image", (".ppm", ".pnm"), _magic(b"P6", b"P3"), *_IMAGE),
        Format("zarr", "chunked", (".zarr",), None, "zarrfile:read_zarr", "zarrfile:write_zarr"),
    ]
}
ALIASES = {"text": "txt", "jpeg": "jpg", "tif": "tiff", "aif": "aiff", "wave": "wav"}
NAMES = tuple(FORMATS)
# formats that libsndfile reads but convcli cannot write or name: a hint instead
FOREIGN_AUDIO = {
    ".m4a": "M4A/AAC",
    ".aac": "AAC",
    ".wma": "WMA",
    ".mp4": "MP4",
    ".mka": "Matroska",
    ".opus": None,
    ".amr": "AMR",
    ".ac3": "AC-3",
}


def names() -> str:
    """The supported formats as a comma-separated list, for error messages."""
    return ", ".join(NAMES)


def canonical(name: str) -> str:
    """The table's name for a format given by the user (``jpeg`` -> ``jpg``)."""
    key = name.lower().lstrip(".")
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise FormatError(f"unknown format {name!r}; supported: {names()}")
    return key


def kind_of(name: str) -> str:
    return FORMATS[name].kind


def by_extension(path: str) -> str | None:
    """The format named by a path's extension, or None."""
    ext = os.path.splitext(path.rstrip("/" + os.sep))[1].lower()
    for f in FORMATS.values():
        if ext in f.extensions:
            return f.name
    return None


def sniff(head: bytes) -> str:
    """The format of data that starts with ``head`` (its first 64 bytes or so)."""
    for f in FORMATS.values():
        if f.accept is not None and f.accept(head):
            return f.name
    if b"\x00" in head:
        raise FormatError(f"unrecognised binary data; supported: {names()}")
    return "txt"


def _resolve(where: str) -> Callable:
    module, function = where.split(":")
    return getattr(importlib.import_module(f"convcli.io.{module}"), function)


def reader(name: str) -> Callable:
    """``read(source, name, **options) -> Data`` for a format; source is a path or bytes."""
    return _resolve(FORMATS[name].reader)


def writer(name: str) -> Callable:
    """``write(data, target, fmt, **options)``; target is a path (written atomically) or a
    binary stream."""
    return _resolve(FORMATS[name].writer)
