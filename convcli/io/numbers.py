"""Readers and writers of plain numbers (text, CSV, JSON, ``.npy``) for the format table."""

from __future__ import annotations

from . import arrays
from .atomic import write_bytes
from .data import Data


def _bytes(source) -> bytes:
    """The bytes of a source: already bytes, or a regular file's path."""
    if isinstance(source, bytes):
        return source
    with open(source, "rb") as f:
        return f.read()


def _text(source, name: str) -> str:
    from ..errors import DataError

    raw = _bytes(source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: not text (and not a format convcli knows)") from None


def read_text(source, name: str, fmt: str = "txt", **_) -> Data:
    array, orientation = arrays.parse_text(_text(source, name), name)
    return Data(array, fmt, name, orientation=orientation)


def read_csv(source, name: str, fmt: str = "csv", **_) -> Data:
    """Comma-separated numbers; a first line holding a non-number is a header, kept aside."""
    text = _text(source, name)
    header = arrays.csv_header(text)
    if header is not None:  # an empty first line instead: errors keep the file's line numbers
        text = "\n" + text.split("\n", 1)[1] if "\n" in text else ""
    array, orientation = arrays.parse_text(text, name)
    return Data(array, fmt, name, orientation=orientation, header=header)


def read_json(source, name: str, fmt: str = "json", **_) -> Data:
    return Data(arrays.parse_json(_text(source, name), name), fmt, name)


def read_npy(source, name: str, fmt: str = "npy", **_) -> Data:
    return Data(arrays.parse_npy(_bytes(source), name), fmt, name)


def write_text(data: Data, path: str, fmt: str = "txt", precision=None, **_) -> None:
    write_bytes(arrays.format_text(data.array, data.orientation, precision).encode(), path)


def write_csv(data: Data, path: str, fmt: str = "csv", precision=None, **_) -> None:
    header = data.header if data.format == "csv" else None
    write_bytes(
        arrays.format_text(
            data.array, data.orientation, precision, sep=",", header=header
        ).encode(),
        path,
    )


def write_json(data: Data, path: str, fmt: str = "json", precision=None, **_) -> None:
    write_bytes(arrays.format_json(data.array, precision).encode(), path)


def write_npy(data: Data, path: str, fmt: str = "npy", **_) -> None:
    write_bytes(arrays.format_npy(data.array), path)
