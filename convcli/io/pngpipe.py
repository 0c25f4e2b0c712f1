"""Pixels computed in Python, handed to libvips's encoders as they are made.

libvips encodes (JPEG, PNG, WebP, TIFF, GIF) from a pipeline it pulls rows through;
it cannot be handed rows from Python one strip at a time, but it loads PNG from a
pipe as it arrives. So strips of 8- or 16-bit samples are written into an OS pipe as
an *uncompressed* PNG (stored deflate blocks: a copy and two checksums, about 3 GB/s)
by a thread, while libvips reads the other end and encodes: decoding, filtering and
encoding overlap, and memory holds a few strips whatever the image's size.
"""

from __future__ import annotations

import os
import select
import struct
import threading
import zlib

import numpy as np

_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # grey, grey+alpha, RGB, RGBA
_STORED = 65535  # the most a stored deflate block holds
_PIPE_SIZE = 1 << 20


def _chunk(kind: bytes, data) -> list:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return [struct.pack(">I", len(data)) + kind, data, struct.pack(">I", crc)]


def png_header(width: int, height: int, bands: int, bits: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bits, _COLOUR_TYPES[bands], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + b"".join(_chunk(b"IHDR", ihdr))
        + b"".join(
            _chunk(b"IDAT", b"\x78\x01")  # a zlib header: deflate, no dictionary
        )
    )


def png_rows(samples: np.ndarray, last: bool, adler: int, buffer=None):
    """One IDAT chunk of whole rows as stored deflate blocks, and the running Adler-32.

    ``samples`` : ndarray of shape (rows, cols, bands), uint8 or uint16. The chunk is a
    list of pieces to write in turn, views of ``buffer`` (a uint8 array, reused from
    call to call when given and big enough) rather than one joined copy.
    """
    rows, cols, bands = samples.shape
    width = cols * bands * samples.itemsize + 1  # a filter byte (0, none) before each row
    if buffer is None or buffer.size < rows * width:
        buffer = np.empty(rows * width, np.uint8)
    raw = buffer[: rows * width].reshape(rows, width)
    raw[:, 0] = 0
    raw[:, 1:] = (
        samples.astype(samples.dtype.newbyteorder(">"), copy=False).view(np.uint8).reshape(rows, -1)
    )
    raw = raw.reshape(-1)
    adler = zlib.adler32(raw, adler)
    pieces = []
    for start in range(0, len(raw), _STORED):
        piece = memoryview(raw[start : start + _STORED])
        final = last and start + _STORED >= len(raw)
        pieces += [struct.pack("<BHH", final, len(piece), len(piece) ^ 0xFFFF), piece]
    crc = zlib.crc32(b"IDAT")
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    size = sum(len(piece) for piece in pieces)
    return [struct.pack(">I", size) + b"IDAT", *pieces, struct.pack(">I", crc)], adler


def png_end(adler: int) -> bytes:
    return b"".join(_chunk(b"IDAT", struct.pack(">I", adler)) + _chunk(b"IEND", b""))


class PngPipe:
    """A pipe that a thread fills with a PNG of ``strips`` while libvips reads it.

    ``strips`` yields (rows, cols, bands) uint8/uint16 arrays, top to bottom, whose rows
    add up to ``height``. ``image()`` is the libvips image of the pipe's far end (pull it
    once, in order); ``close()`` joins the thread and raises what it raised.
    """

    def __init__(self, width: int, height: int, bands: int, bits: int, strips):
        self._read, self._write = os.pipe()
        try:  # Linux: fewer wake-ups with a larger pipe
            import fcntl

            fcntl.fcntl(self._write, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
        except (ImportError, OSError):
            pass
        os.set_blocking(self._write, False)  # so that a stopped reader never hangs the thread
        self.error = None
        self._stop = threading.Event()
        self._head = (width, height, bands, bits)
        self._thread = threading.Thread(target=self._fill, args=(strips,), daemon=True)
        self._thread.start()

    def image(self):
        import pyvips

        source = pyvips.Source.new_from_descriptor(self._read)
        return pyvips.Image.new_from_source(source, "", access="sequential", fail_on="truncated")

    def _fill(self, strips):
        try:
            self._send(png_header(*self._head))
            adler, done, height = 1, 0, self._head[1]
            buffer = np.empty(0, np.uint8)
            for samples in strips:
                done += len(samples)
                if buffer.size < samples.size * samples.itemsize + len(samples):
                    buffer = np.empty(samples.size * samples.itemsize + len(samples), np.uint8)
                parts, adler = png_rows(samples, done == height, adler, buffer)
                for part in parts:
                    self._send(part)
            self._send(png_end(adler))
        except (BrokenPipeError, _Stopped):
            pass  # the reader stopped (its error is the one to report)
        except BaseException as e:  # noqa: BLE001 - handed to the reading thread
            self.error = e
        finally:
            os.close(self._write)

    def _send(self, data) -> None:
        view = memoryview(data).cast("B")
        while view:
            try:
                view = view[os.write(self._write, view) :]
            except BlockingIOError:
                select.select([], [self._write], [], 0.2)
                if self._stop.is_set():
                    raise _Stopped from None

    def close(self, failed: bool = False) -> None:
        """Wait for the thread (stopping it first when the reader ``failed``), and raise
        what it raised; once: a second call does nothing."""
        if self._read is None:
            return
        if failed:
            self._stop.set()
        self._thread.join()
        os.close(self._read)
        self._read = None
        if self.error is not None:
            raise self.error


class _Stopped(Exception):
    pass
