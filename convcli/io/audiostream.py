"""Long audio, block by block in flat memory: overlap-add with reads, transforms and writes
overlapped.

The caller (:func:`convcli.job.convolve_file`) loads and checks the kernel and computes
the geometry once, as for the in-memory route; this module only moves blocks.
"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from .. import messages
from ..errors import FileError
from .atomic import atomic_path, scratch_path
from .audio import SF_FORMATS, check_rate, clip, reason, subtype_for, warn_clipped

STREAM_MIN_FRAMES = 1 << 20  # about 24 s at 44.1 kHz: longer files go block by block
BLOCK_FRAMES = 1 << 16
# float32 holds these subtypes' samples exactly and keeps FFT rounding far below their LSB
_SINGLE = {"PCM_S8", "PCM_U8", "PCM_16", "ULAW", "ALAW", "VORBIS", "OPUS", "MPEG_LAYER_III",
           "FLOAT", "GSM610", "IMA_ADPCM", "MS_ADPCM"}


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


def stream_convolve(path: str, out: str, fmt: str, wc: np.ndarray, ax, settings) -> None:
    """Convolve a long audio file block by block in flat memory.

    Parameters
    ----------
    path : str
        A regular audio file of at least ``STREAM_MIN_FRAMES`` frames.
    out : str
        The output file (written atomically) in audio format ``fmt``.
    wc : ndarray of shape (k,) or (k, channels)
        The kernel in convolution orientation, at the file's rate, channels checked.
    ax : convcli.geometry.Axis
        The geometry of the frame axis, computed once by the caller.
    settings : convcli.settings.ConvSettings
    """
    from ..engine.spectral import OverlapAdd, dilate

    info = sf.info(path)
    subtype = subtype_for(fmt, settings.subtype, info.subtype)
    check_rate(subtype, info.samplerate)
    single = info.subtype in _SINGLE and subtype in _SINGLE
    dtype = np.float32 if single else np.float64
    conv = OverlapAdd(dilate(np.asarray(wc, float), 1, (ax.dilation,)), info.channels, dtype)
    messages.verbose(f"streaming {info.frames} frames in blocks of {conv.block} "
                     f"({np.dtype(dtype).name} overlap-add)")
    with sf.SoundFile(path) as f:
        prefix, suffix = _edges(f, info.frames, ax.before, ax.after, settings.pad_mode,
                                settings.pad_value)
        f.seek(0)
        samples = _mapped(path, info) if dtype == np.float32 else None
        chunks = _chunks(samples if samples is not None else f, prefix.astype(dtype),
                         suffix.astype(dtype), conv.block, dtype)
        blocks = _prefetch(_select(conv, chunks, ax))  # read and convolve while writing
        _write_stream(out, fmt, subtype, info, blocks, settings.normalize, ax.length)


def streamable(info, out, ax) -> bool:
    """Whether a job is better done block by block than in memory."""
    return (out not in (None, "-") and info.frames >= STREAM_MIN_FRAMES
            and ax.before < info.frames and ax.after < info.frames)


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


class _Pcm16:
    """A 16-bit PCM WAV's samples read straight from the file, a block at a time.

    Scaling int16 by 1/32768 in float32 is exactly what libsndfile returns, at a third of
    the time of its block reads; memory stays one block, as with libsndfile.
    """

    def __init__(self, path: str, offset: int, frames: int, channels: int):
        self.path, self.offset, self.frames, self.channels = path, offset, frames, channels

    def blocks(self, size: int):
        scale = np.float32(1 / 32768)
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            for start in range(0, self.frames, size):
                count = min(size, self.frames - start)
                raw = np.frombuffer(f.read(count * self.channels * 2), dtype="<i2")
                if len(raw) != count * self.channels:
                    raise FileError(f"{self.path}: the file ended early (truncated?)")
                yield np.multiply(raw.reshape(count, self.channels), scale, dtype=np.float32)


def _mapped(path: str, info):
    """A direct reader of a 16-bit PCM WAV's samples, or None for libsndfile's route."""
    from .audio import wav_data

    data = wav_data(path)
    if info.format != "WAV" or info.subtype != "PCM_16" or data is None:
        return None
    offset, size = data
    if size < info.frames * info.channels * 2:
        return None  # a header that promises more than the file holds: libsndfile's route
    return _Pcm16(path, offset, info.frames, info.channels)


def _chunks(source, prefix, suffix, block, dtype):
    """The padded signal in pieces; reads sized to the convolver's block.

    ``source`` is an open SoundFile, or a direct reader of a 16-bit PCM WAV.
    """
    yield prefix
    size = max(BLOCK_FRAMES, block)
    if isinstance(source, _Pcm16):
        yield from source.blocks(size)
    else:
        yield from source.blocks(blocksize=size, dtype=np.dtype(dtype).name, always_2d=True)
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


def _write_stream(out, fmt, subtype, info, blocks, normalize, frames):
    """Write blocks atomically; with --normalize, through a float scratch file first."""
    with atomic_path(out) as tmp:
        if normalize:
            with scratch_path(out) as raw:
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
            clipped = _copy(tmp, fmt, subtype, info, blocks, frames)
    warn_clipped(clipped)


def _copy(tmp, fmt, subtype, info, blocks, frames=None) -> int:
    """Write blocks; float32 blocks of a known count to 16-bit WAV go the direct way."""
    if frames and fmt == "wav" and subtype == "PCM_16" and info.subtype in _SINGLE \
            and frames * info.channels * 2 < 0xFFFFFFF0 - 36:
        return _copy_pcm16(tmp, info, blocks, frames)
    clipped = 0
    try:
        with sf.SoundFile(tmp, "w", info.samplerate, info.channels, subtype,
                          format=SF_FORMATS[fmt]) as g:
            for block in blocks:
                block, count = clip(block, subtype)
                clipped += count
                g.write(block)
    except sf.LibsndfileError as e:
        raise FileError(f"cannot write {fmt} audio ({reason(e)})") from None
    return clipped


def _copy_pcm16(tmp, info, blocks, frames) -> int:
    """16-bit PCM WAV written directly: a 44-byte header, then samples converted as libsndfile
    converts them (floor of x * 32768, clipped), at a fifth of the time of its writes."""
    import struct

    size = frames * info.channels * 2
    header = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, info.channels, info.samplerate, info.samplerate * info.channels * 2,
        info.channels * 2, 16) + b"data" + struct.pack("<I", size)
    clipped, written = 0, 0
    with open(tmp, "wb") as g:
        g.write(header)
        for block in blocks:
            block, count = clip(np.asarray(block, dtype=np.float32), "PCM_16")
            clipped += count
            y = np.floor(np.multiply(block, 32768, dtype=np.float32))
            np.minimum(y, 32767, out=y)
            g.write(y.astype("<i2").tobytes())
            written += len(block)
    if written != frames:
        raise FileError(f"wrote {written} frames where {frames} were planned")
    return clipped
