"""Audio through soundfile: (frames, channels) float64 in [-1, 1], and a streaming path."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile

import numpy as np
import soundfile as sf

from ..errors import DataError, FileError, ShapeError
from .atomic import atomic_path
from .formats import Data

STREAM_MIN_FRAMES = 1 << 20  # about 24 s at 44.1 kHz: longer files go block by block
BLOCK_FRAMES = 1 << 16
# float32 holds these subtypes' samples exactly and keeps FFT rounding far below their LSB
_SINGLE = {"PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "VORBIS", "OPUS", "MPEG_LAYER_III",
           "FLOAT", "GSM610", "IMA_ADPCM", "MS_ADPCM"}
_SF_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "aiff": "AIFF"}


def read_audio(source, fmt: str, name: str) -> Data:
    """Read a whole audio file (a path or bytes) as (frames, channels) float64."""
    try:
        with sf.SoundFile(io.BytesIO(source) if isinstance(source, bytes) else source) as f:
            array = f.read(dtype="float64", always_2d=True)
            rate, subtype = f.samplerate, f.subtype
            fmt = {v: k for k, v in _SF_FORMATS.items()}.get(f.format, fmt)
    except sf.LibsndfileError as e:
        raise DataError(f"{name}: corrupt or unreadable audio ({_reason(e)})") from None
    except (RuntimeError, TypeError) as e:
        raise DataError(f"{name}: corrupt or unreadable audio ({e})") from None
    if len(array) == 0:
        raise DataError(f"{name}: the audio has no samples")
    return Data(array, fmt, name, sample_rate=rate, subtype=subtype)


def _reason(e) -> str:
    text = getattr(e, "error_string", None) or str(e)
    return text.strip().rstrip(".")


def match_rate(kernel: np.ndarray, kernel_rate, rate) -> np.ndarray:
    """Resample an audio kernel to the input's rate, with a notice on stderr."""
    if not kernel_rate or not rate or kernel_rate == rate:
        return kernel
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(kernel_rate), int(rate))
    print(f"Notice: resampled the kernel from {kernel_rate} Hz to {rate} Hz", file=sys.stderr)
    return resample_poly(kernel, int(rate) // g, int(kernel_rate) // g, axis=0) * (
        kernel_rate / rate
    )


def _subtype(fmt: str, wanted: str | None, fallback: str | None) -> str:
    sf_format = _SF_FORMATS[fmt]
    for candidate in (wanted, fallback):
        if candidate and sf.check_format(sf_format, candidate):
            return candidate
        if candidate and candidate is wanted:
            raise DataError(f"{fmt} cannot hold subtype {wanted}; try one of "
                            f"{', '.join(sorted(sf.available_subtypes(sf_format)))}")
    return sf.default_subtype(sf_format)


def _clip(y: np.ndarray, subtype: str) -> tuple[np.ndarray, int]:
    """Clip to full scale for integer subtypes (as SoX does), counting the clipped samples."""
    if subtype in ("FLOAT", "DOUBLE"):
        return y, 0
    count = int(np.count_nonzero(y > 1.0)) + int(np.count_nonzero(y < -1.0))
    if count:  # minimum/maximum: five times faster than np.clip here
        y = np.minimum(y, 1.0, dtype=y.dtype)
        np.maximum(y, -1.0, out=y)
    return y, count


def _warn_clipped(count: int) -> None:
    if count:
        print(f"Warning: clipped {count} sample(s) beyond full scale; "
              "--normalize scales the peak to full scale instead", file=sys.stderr)


def encode_audio(data: Data, fmt: str, subtype: str | None) -> bytes:
    """The bytes of an audio file holding ``data.array`` (frames, channels)."""
    y = data.array if data.array.ndim == 2 else data.array[:, None]
    subtype = _subtype(fmt, subtype, data.subtype)
    y, clipped = _clip(y, subtype)
    _warn_clipped(clipped)
    buffer = io.BytesIO()
    buffer.name = f"out.{fmt}"
    sf.write(buffer, y, data.sample_rate or 44100, subtype=subtype, format=_SF_FORMATS[fmt])
    return buffer.getvalue()


def _edges(f, n, before, after, pad_mode, pad_value):
    """The padding before and after a file of ``n`` frames, read from its two ends."""
    from ..engine.padding import canonical_mode, pad_pairs

    mode = canonical_mode(pad_mode)
    reach = max(before, after) + 1
    f.seek(0)
    head = f.read(min(n, reach), dtype="float64", always_2d=True)
    f.seek(max(n - reach, 0))
    tail = f.read(dtype="float64", always_2d=True)
    if mode == "circular":
        return tail[len(tail) - before :] if before else tail[:0], head[:after]
    prefix = pad_pairs(head, [(before, 0)], mode, pad_value)[:before]
    suffix = pad_pairs(tail, [(0, after)], mode, pad_value)[len(tail) :]
    return prefix, suffix


def stream_convolve(path: str, out, s) -> bool:
    """Convolve a long audio file block by block in flat memory.

    Returns False (and does nothing) when the job is better done in memory: short
    files, output to a pipe or to a non-audio format, padding wider than the file.
    """
    from ..engine.spectral import OverlapAdd, dilate
    from ..geometry import axes, check_nonempty
    from .formats import output_format
    from .kernelfile import load_kernel

    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError):
        return False  # the in-memory path reports the error
    if out in (None, "-") or info.frames < STREAM_MIN_FRAMES:
        return False
    meta = Data(np.zeros((0, info.channels)), "wav", path, sample_rate=info.samplerate,
                subtype=info.subtype)
    fmt = output_format(out, s["to_format"], meta)
    if fmt not in _SF_FORMATS:
        return False
    kernel, kernel_rate = load_kernel(s["kernel"], 1, info.samplerate)
    kernel = match_rate(kernel, kernel_rate, info.samplerate)
    if kernel.ndim == 2 and kernel.shape[1] not in (1, info.channels):
        raise ShapeError(f"the kernel has {kernel.shape[1]} channels but the input has "
                         f"{info.channels}")
    geometry = axes(info.frames, kernel.shape[0], s["mode"], pad=s["pad"], stride=s["stride"],
                    dilation=s["dilation"])
    check_nonempty(geometry)
    (ax,) = geometry
    if ax.before >= info.frames or ax.after >= info.frames:
        return False
    wc = kernel if not s["correlate"] else kernel[::-1]
    subtype = _subtype(fmt, s.get("subtype"), info.subtype)
    single = info.subtype in _SINGLE and subtype in _SINGLE
    dtype = np.float32 if single else np.float64
    conv = OverlapAdd(dilate(np.asarray(wc, float), 1, (ax.dilation,)), info.channels, dtype)
    with sf.SoundFile(path) as f:
        prefix, suffix = _edges(f, info.frames, ax.before, ax.after, s["pad_mode"], s["pad_value"])
        f.seek(0)
        chunks = _chunks(f, prefix.astype(dtype), suffix.astype(dtype), conv.block, dtype)
        blocks = _prefetch(_select(conv, chunks, ax))  # read and convolve while writing
        _write_stream(out, fmt, subtype, info, blocks, s.get("normalize"))
    return True


def _prefetch(blocks, depth: int = 2):
    """Run a generator in a thread, ``depth`` items ahead (libsndfile and FFTs drop the GIL)."""
    import queue
    import threading

    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work():
        try:
            for item in blocks:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as e:  # handed to the consumer, raised there
            items.put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _chunks(f, prefix, suffix, block, dtype):
    """The padded signal in pieces; file reads sized to the convolver's block."""
    yield prefix
    size = max(BLOCK_FRAMES, block)
    yield from f.blocks(blocksize=size, dtype=np.dtype(dtype).name, always_2d=True)
    yield suffix


def _select(conv, chunks, ax):
    """Yield the kept outputs: full index ``ke-1 + i*stride`` for ``i < ax.length``."""
    position, first = 0, ax.ke - 1
    last = first + ax.stride * (ax.length - 1)
    for produced in _produce(conv, chunks):
        start = max(first, position)
        start += (-(start - first)) % ax.stride
        stop = min(position + len(produced), last + 1)
        if start < stop:
            yield produced[start - position : stop - position : ax.stride]
        position += len(produced)


def _produce(conv, chunks):
    for chunk in chunks:
        if len(chunk):
            yield conv.push(chunk)
    yield conv.flush()


def _write_stream(out, fmt, subtype, info, blocks, normalize):
    """Write blocks atomically; with --normalize, through a float scratch file first."""
    with atomic_path(out) as tmp:
        if normalize:
            with _scratch(out) as raw:
                peak = 0.0
                with sf.SoundFile(raw, "w", info.samplerate, info.channels, "DOUBLE",
                                  format="WAV") as g:
                    for block in blocks:
                        peak = max(peak, float(np.abs(block).max(initial=0)))
                        g.write(block)
                scale = 1.0 / peak if peak else 1.0
                scaled = (b * scale for b in sf.blocks(raw, BLOCK_FRAMES, always_2d=True))
                clipped = _copy(tmp, fmt, subtype, info, scaled)
        else:
            clipped = _copy(tmp, fmt, subtype, info, blocks)
    _warn_clipped(clipped)


@contextlib.contextmanager
def _scratch(near: str):
    """A temporary file beside ``near``, always removed."""
    fd, path = tempfile.mkstemp(suffix=".wav", dir=os.path.dirname(os.path.abspath(near)))
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _copy(tmp, fmt, subtype, info, blocks) -> int:
    clipped = 0
    try:
        with sf.SoundFile(tmp, "w", info.samplerate, info.channels, subtype,
                          format=_SF_FORMATS[fmt]) as g:
            for block in blocks:
                block, count = _clip(block, subtype)
                clipped += count
                g.write(block)
    except sf.LibsndfileError as e:
        raise FileError(f"cannot write {fmt} audio ({_reason(e)})") from None
    return clipped
