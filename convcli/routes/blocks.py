"""Long audio, block by block in flat memory: overlap-save with reads, transforms and writes
overlapped, and a progress bar on a terminal.

The plan holds the kernel (loaded once, at the file's rate); :func:`accepts` computes
the geometry and :func:`run` moves blocks. A pipe arrives spooled to a file, so it
takes this route as a file does and gives the same bytes.
"""

from __future__ import annotations

import numpy as np
import soundfile as sf

from .. import allocator, messages
from ..errors import FileError
from ..io.atomic import atomic_path, scratch_path
from ..io.audio import (
    SF_FORMATS,
    audio_writer,
    check_rate,
    clip,
    reason,
    subtype_for,
    warn_clipped,
)
from ..job.convolve import gain

STREAM_MIN_FRAMES = 1 << 20  # about 24 s at 44.1 kHz: longer files go block by block
BLOCK_FRAMES = 1 << 16


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
    from ..engine.partitioned import OverlapSave
    from ..engine.spectral import dilate

    info = sf.info(path)
    subtype = subtype_for(fmt, settings.subtype, info.subtype)
    check_rate(subtype, info.samplerate)
    dtype = np.float64  # as the memory route computes: one result whatever the route
    conv = OverlapSave(dilate(np.asarray(wc, float), 1, (ax.dilation,)), info.channels, dtype)
    messages.verbose(
        f"streaming {info.frames} frames in blocks of {conv.block} "
        f"({np.dtype(dtype).name} overlap-save, transforms of {conv.size}, "
        f"{conv.workers} thread(s))"
    )
    with sf.SoundFile(path) as f, allocator.kept():
        prefix, suffix = _edges(
            f, info.frames, ax.before, ax.after, settings.pad_mode, settings.pad_value
        )
        f.seek(0)
        samples = _mapped(path, info)
        chunks = _chunks(
            samples if samples is not None else f,
            prefix.astype(dtype),
            suffix.astype(dtype),
            conv.block * conv.workers,  # a block for each thread per push
            dtype,
        )
        blocks = _prefetch(_select(conv, chunks, ax))  # read and convolve while writing
        blocks = messages.tracked(blocks, ax.length, "convolving")
        _write_stream(out, fmt, subtype, info, blocks, settings.normalize, ax.length)


def accepts(plan) -> str | None:
    """Why a long audio file to an audio file goes block by block, or None."""
    from ..geometry import axes, check_nonempty
    from ..job.convolve import check_channels

    if (
        plan.kind != "audio"
        or plan.settings.steps
        or not plan.to_file
        or plan.out_fmt not in SF_FORMATS
    ):
        return None
    try:
        info = sf.info(plan.source)
    except (sf.LibsndfileError, RuntimeError):
        return None  # the memory route reports the error
    if info.frames < STREAM_MIN_FRAMES:
        return None
    kernel, s = plan.kernel, plan.settings
    if np.iscomplexobj(kernel):
        return None  # a complex result: in memory, where its part is chosen
    check_channels(kernel, info.channels)
    (ax,) = axes(
        info.frames, kernel.shape[0], s.mode, pad=s.pad, stride=s.stride, dilation=s.dilation
    )
    check_nonempty((ax,))
    if not streamable(info, plan.out, ax):
        return None
    return f"{info.frames} frames (at least {STREAM_MIN_FRAMES}): overlap-save in blocks"


def run(plan, show_steps=None) -> None:
    from ..geometry import axes
    from .plan import stage

    info, kernel, s = sf.info(plan.source), plan.kernel, plan.settings
    (ax,) = axes(
        info.frames, kernel.shape[0], s.mode, pad=s.pad, stride=s.stride, dilation=s.dilation
    )
    wc = kernel if not s.correlate else kernel[::-1]
    with stage(f"streamed {info.frames} frames x {info.channels} channel(s) to {plan.out}"):
        stream_convolve(plan.source, plan.out, plan.out_fmt, wc, ax, s)


def streamable(info, out, ax) -> bool:
    """Whether a job is better done block by block than in memory."""
    return (
        out not in (None, "-")
        and info.frames >= STREAM_MIN_FRAMES
        and ax.before < info.frames
        and ax.after < info.frames
    )


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

    Scaling int16 by 1/32768 is exactly what libsndfile returns, at a third of the time
    of its block reads; memory stays one block, as with libsndfile.
    """

    def __init__(self, path: str, offset: int, frames: int, channels: int):
        self.path, self.offset, self.frames, self.channels = path, offset, frames, channels

    def blocks(self, size: int):
        """Blocks of (frames, channels) float64, each in the same buffer: a block is used
        (the convolver copies it) before the next is read."""
        scale, C = 1 / 32768, self.channels
        raw, out = np.empty((size, C), "<i2"), np.empty((size, C))
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            for start in range(0, self.frames, size):
                count = min(size, self.frames - start)
                if f.readinto(memoryview(raw[:count]).cast("B")) != count * C * 2:
                    raise FileError(f"{self.path}: the file ended early (truncated?)")
                yield np.multiply(raw[:count], scale, out=out[:count])


def _mapped(path: str, info):
    """A direct reader of a 16-bit PCM WAV's samples, or None for libsndfile's route."""
    from ..io.audio import wav_data

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
                with sf.SoundFile(
                    raw, "w", info.samplerate, info.channels, "DOUBLE", format="WAV"
                ) as g:
                    for block in blocks:
                        peak = max(peak, float(np.abs(block).max(initial=0)))
                        g.write(block)
                scale = gain(peak)
                scaled = (b * scale for b in sf.blocks(raw, BLOCK_FRAMES, always_2d=True))
                clipped = _copy(tmp, fmt, subtype, info, scaled)
        else:
            clipped = _copy(tmp, fmt, subtype, info, blocks, frames)
    warn_clipped(clipped)


def _copy(tmp, fmt, subtype, info, blocks, frames=None) -> int:
    """Write blocks through the writer the memory route writes its whole result with."""
    clipped = 0
    try:
        with audio_writer(tmp, fmt, info.samplerate, info.channels, subtype) as write:
            for block in blocks:
                block, count = clip(block, subtype)
                clipped += count
                write(block)
    except sf.LibsndfileError as e:
        raise FileError(f"cannot write {fmt} audio ({reason(e)})") from None
    return clipped
