"""Reading any input and writing any output, through the format table.

Every input is read exactly once: a regular file is handed to its reader by path
(so big files can stream); anything else (standard input, a pipe, a FIFO,
``/dev/stdin``, ``<(...)``) is copied once, a block at a time, into a hidden spool
file that lives as long as the run, and handed over by that path. A pipe then takes
the same routes as a file (audio blocks, image strips) in the same flat memory, and
gives the same bytes.
"""

from __future__ import annotations

import os
import stat
import sys

from ..errors import DataError, FileError, FormatError, UsageProblem
from . import registry
from .data import Data


class OutputNeeded(UsageProblem):
    """A binary result with nowhere to go but a terminal."""


def _spooled(stream, name: str) -> str:
    from .atomic import spool

    copied = spool(stream)
    if not os.path.getsize(copied):
        raise DataError(f"{name}: the input is empty")
    return copied


def source_of(path: str) -> str:
    """A regular file's path (or a store's), or the path of a spool of anything else."""
    if path == "-":
        return _spooled(sys.stdin.buffer, "stdin")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except OSError as e:
        raise FileError(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        if registry.by_extension(path) == "zarr":
            return path
        raise FileError(f"{path}: is a folder, not a file")
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            raise FileError(f"{path}: cannot read (permission denied)")
        return path
    try:
        with open(path, "rb") as f:
            return _spooled(f, path)
    except OSError as e:
        raise FileError(f"{path}: cannot read ({e.strerror})") from None


def head_of(source, size: int = 64) -> bytes:
    """The first bytes of a source (a path or bytes)."""
    if isinstance(source, bytes):
        return source[:size]
    if os.path.isdir(source):
        return b""
    try:
        with open(source, "rb") as f:
            return f.read(size)
    except OSError as e:
        raise FileError(f"{source}: cannot read ({e.strerror})") from None


def _foreign(path: str) -> None:
    """Refuse, with a conversion hint, audio containers convcli cannot read."""
    ext = os.path.splitext(path)[1].lower()
    what = registry.FOREIGN_AUDIO.get(ext)
    if what:
        raise FormatError(
            f"{path}: {what} audio is not a format convcli reads; convert it "
            f"first, e.g. ffmpeg -i {path} -f wav - | convcli conv1d - ..."
        )


def detect(path: str, fmt: str | None, source) -> str:
    """Format of an input: ``--from``, else its extension, else its first bytes."""
    if fmt:
        return registry.canonical(fmt)
    if path != "-":
        found = registry.by_extension(path)
        if found:
            return found
        _foreign(path)
    head = head_of(source)
    if not head:
        raise DataError(f"{'stdin' if path == '-' else path}: the input is empty")
    return registry.sniff(head)


def read(path: str, fmt: str | None = None, **options) -> Data:
    """Read a file (or ``-`` for standard input) into a :class:`Data`.

    ``options`` go to the format's reader (``gray=True`` for images).
    """
    name = "stdin" if path == "-" else path
    source = source_of(path)
    fmt = detect(path, fmt, source)
    if registry.kind_of(fmt) != "chunked" and os.path.getsize(source) == 0:
        raise DataError(f"{name}: the input is empty")
    return registry.reader(fmt)(source, name, fmt=fmt, **options)


def output_format(path: str | None, to: str | None, data_format: str) -> str:
    """Format of an output: ``--to``, else the extension, else the input's format."""
    if to:
        return registry.canonical(to)
    if path and path != "-":
        found = registry.by_extension(path)
        if found:
            return found
        if not os.path.isdir(path) and not path.startswith("/dev/"):
            raise FormatError(
                f"{path}: cannot tell the output format from the extension; "
                f"use --to ({registry.names()})"
            )
    return data_format


def check_output(data_format: str, name: str, out: str | None, to: str | None) -> str:
    """The output format for an input of ``data_format``; binary results need ``-o``."""
    fmt = output_format(out, to, data_format)
    kinds = {registry.kind_of(data_format), registry.kind_of(fmt)}
    if kinds == {"audio", "image"}:
        src, dst = registry.kind_of(data_format), registry.kind_of(fmt)
        raise FormatError(
            f"{name} is {src}; it cannot be written as {fmt} ({dst}). "
            f"Write {src}, or npy/json/txt for the numbers"
        )
    if out is None and registry.FORMATS[fmt].binary and _terminal():
        raise OutputNeeded(
            f"the result is {fmt} data; write it with -o FILE.{fmt} "
            f"(or redirect standard output to a file or a pipe)"
        )
    return fmt


def _terminal() -> bool:
    """Whether standard output is a terminal (binary results then need ``-o``)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def write(data: Data, path: str | None, fmt: str, **options) -> None:
    """Write ``data`` atomically to ``path``, or to standard output for ``-``/None.

    ``options``: precision (numbers), subtype (audio), quality (images).
    """
    registry.writer(fmt)(data, path or "-", fmt, **options)
