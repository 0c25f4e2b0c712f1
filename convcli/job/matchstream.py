"""``convcli match`` on long audio, block by block in flat memory (overlap-save).

The file is read once, in order: each block of ``plan.step + k - 1`` frames (the last
``k - 1`` carried over from the block before) gives ``plan.step`` windows' scores, the
engine's strip. Every output is built from the blocks as they pass: the matches
(:class:`convcli.matching.Candidates`: top N and threshold with non-maximum suppression
across block edges, sub-sample peaks), the ``--map`` rows (an .npy header, then the
rows), the ``--mark`` plot (an envelope, one pixel column at a time), and ``--delay``
(the peak of the cross-correlation over every lag, the file padded with ``k - 1`` zeros
at each end) with ``--align`` (a second pass that copies the file shifted). A pipe
arrives spooled to a file, so it streams as a file does. Taken for WAV, FLAC, AIFF, MP3,
Ogg and Opus (not float samples, which the memory route checks for NaN) of at least
:data:`STREAM_MIN_FRAMES` frames; ``--lags`` and ``--steps`` are not
(``--lags`` prints one line per lag: at most :data:`MAX_LAGS`, in memory).
"""

from __future__ import annotations

import numpy as np

from .. import allocator, messages
from ..engine.match import LOWER_IS_BETTER, signal_plan
from ..errors import DataError, ShapeError
from ..matching import Candidates, default_distance

STREAM_MIN_FRAMES = 1 << 20  # about 24 s at 44.1 kHz
MAX_LAGS = 1 << 21  # lines --lags prints at most (about 47 s at 44.1 kHz)
COPY_FRAMES = 1 << 16  # frames --align copies at once
_STREAMED = ("wav", "flac", "aiff", "mp3", "ogg", "opus")


def streams(source: str, fmt: str, settings) -> bool:
    """Whether an input (a file, or a pipe's spool) and these settings take the block route."""
    if settings.steps or settings.lags or fmt not in _STREAMED:
        return False
    import soundfile as sf

    try:
        info = sf.info(source)
    except (RuntimeError, sf.LibsndfileError):
        return False  # the in-memory route says what is wrong with it
    # float files may hold NaN, infinity or samples far past 1: the memory route checks them
    return info.frames >= STREAM_MIN_FRAMES and info.subtype not in ("FLOAT", "DOUBLE")


def check_lags(count: int) -> None:
    """Refuse a --lags print of more than :data:`MAX_LAGS` lines, before any work."""
    from ..errors import UsageProblem

    if count > MAX_LAGS:
        raise UsageProblem(
            f"--lags prints one line per lag: {count:,} here, more than {MAX_LAGS:,}; "
            "give --delay, or --map FILE.npy for the scores of every window"
        )


def match_stream(path: str, source: str, fmt: str, settings, t: np.ndarray) -> dict:
    """Match ``t`` (k, C) in the audio at ``source``, or find its delay; the dict of
    :func:`convcli.job.match.match_file`."""
    from ..io.audio import open_audio

    name = "stdin" if path == "-" else path
    with allocator.kept(64 << 20), open_audio(source, name) as f:  # blocks reuse their memory
        n, channels = f.frames, f.channels
        if t.shape[1] not in (1, channels):
            raise ShapeError(f"the template has {t.shape[1]} channels, the input {channels}")
        k = len(t)
        t = np.repeat(t, channels, axis=1) if t.shape[1] == 1 else t  # (k, C)
        result = {"path": path, "nd": 1, "rate": f.samplerate, "audio": True, "size": (k,)}
        result["score"] = settings.score
        if settings.delay:
            return {**result, **_delay(f, t, n, name, fmt, settings)}
        if k > n:
            raise ShapeError(f"the template ({k}) is larger than the input ({n})")
        return {**result, **_matches(f, t, n, name, settings)}


def _matches(f, t, n: int, name: str, settings) -> dict:
    """The matches, and the map and the plot if asked for, in one pass."""
    from contextlib import ExitStack

    from ..io import marks

    k, score = len(t), settings.score
    windows = n - k + 1
    if settings.map_path:
        marks.map_format(settings.map_path, 1)
        if not settings.map_path.lower().endswith(".npy"):
            raise DataError(f"{settings.map_path}: long audio's score map is written as .npy")
    plan = signal_plan(t.astype(np.float32), n, score)  # float32 transforms: twice as fast
    messages.verbose(f"{name}: {n} frames in blocks of {plan.size[0]} ({plan.step} windows each)")
    distance = default_distance((k,)) if settings.min_distance is None else settings.min_distance
    found = Candidates(
        (windows,),
        settings.top,
        distance,
        settings.threshold,
        score in LOWER_IS_BETTER,
        settings.subsample,
    )
    envelope = marks.Envelope(windows) if settings.mark_path else None
    with ExitStack() as stack:
        rows = None
        if settings.map_path:
            rows = stack.enter_context(marks.map_rows(settings.map_path, (windows,)))
        for start, s, first, count in scored(_Frames(f, n, 0), plan, k):
            found.add(s, start, first, count)
            inner = s[first : first + count]
            if rows is not None:
                rows(inner)
            if envelope is not None:
                envelope.add(inner, start + first)
    matches = [(m.position, float(f"{m.score:.7g}")) for m in found.matches()]  # float32
    out = {"matches": matches}
    if not matches:
        out["best"] = found.best
    if envelope is not None:
        allocator.trim()  # the blocks' memory back before Matplotlib takes its own
        label = marks.score_label(score)
        marks.mark_signal(envelope, matches, f.samplerate, settings.mark_path, label, name)
    return out


def scored(frames, plan, k: int):
    """(start, scores, first, count) for each block of ``frames`` (a :class:`_Frames`):
    ``scores`` of windows ``start ..``, of which ``first .. first + count - 1`` are the
    block's own and the others its neighbours' (one each side where the map has them).
    One block at a time (two in flight on two threads took 40 MB more)."""
    windows = frames.n + 2 * frames.pad - k + 1
    own = plan.step - 2
    for w0 in range(0, windows, own):
        count = min(own, windows - w0)
        a, b = max(0, w0 - 1), min(windows, w0 + count + 1)
        yield a, plan.strip(frames.take(a, b + k - 1)), w0 - a, count


class _Frames:
    """Frames ``a .. b - 1`` of a file read once in order, ``pad`` zeros before and after,
    the frames still needed kept from one take to the next; the sum of squares read."""

    def __init__(self, f, n: int, pad: int):
        self.f, self.n, self.pad = f, n, pad
        self.buffer, self.start = np.empty((0, f.channels), dtype=np.float32), 0
        self.energy, self.short = 0.0, False

    def take(self, a: int, b: int) -> np.ndarray:
        end = self.start + len(self.buffer)
        new = self._read(end, b) if b > end else self.buffer[:0]
        self.buffer = np.concatenate([self.buffer[a - self.start :], new])  # (b - a, C)
        self.start = a
        return self.buffer[: b - a]

    def _read(self, a: int, b: int) -> np.ndarray:
        pad, n, channels = self.pad, self.n, self.f.channels
        before = np.zeros((max(0, min(b, pad) - a), channels), dtype=np.float32)
        count = max(0, min(b, pad + n) - max(a, pad))
        x = self.f.read(count, dtype="float32", always_2d=True)  # 16- and 24-bit exactly
        if len(x) < count:  # a codec's length was an estimate: silence for the rest
            if not self.short:
                messages.warning(f"the audio ends early: {self.f.tell()} of {n} frames")
            self.short = True
            x = np.concatenate([x, np.zeros((count - len(x), channels), np.float32)])
        self.energy += float(np.einsum("ij,ij->", x, x, dtype=np.float64))
        after = np.zeros((max(0, b - max(a, pad + n)), channels), dtype=np.float32)
        return np.concatenate([before, x, after])


def _delay(f, t, n: int, name: str, fmt: str, settings) -> dict:
    """How far the file lags ``t`` (:func:`convcli.engine.lags.finddelay`), in one pass
    over every lag; with ``--align``, a second pass writes it lined up."""
    from ..io import files

    k = len(t)
    out_fmt = None
    if settings.align_path:
        out_fmt = files.check_output(fmt, name, settings.align_path, None)
    plan = signal_plan(t.astype(np.float32), n + 2 * (k - 1), "ccorr")
    peak, frames = _Peak(), _Frames(f, n, k - 1)
    for start, c, first, count in scored(frames, plan, k):
        peak.add(c[first : first + count], start + first - (k - 1))
    d = peak.lag
    scale = np.sqrt(frames.energy * float(np.sum(t * t)))
    result = {"delay": (d, peak.value / scale if scale > 0 else 0.0)}
    if settings.align_path:
        write_aligned(f, n, d, settings.align_path, out_fmt, name)
    return result


class _Peak:
    """The lag of the largest ``|c|``, the smallest in size among ties (as finddelay)."""

    def __init__(self):
        self.top, self.lags, self.values = -1.0, np.empty(0, int), np.empty(0)

    def add(self, c: np.ndarray, lag0: int) -> None:
        size = np.abs(c)
        self.top = max(self.top, float(size.max()))
        near = self.top - 1e-12 * max(self.top, 1e-300)
        keep = np.abs(self.values) >= near
        at = np.flatnonzero(size >= near)
        self.lags = np.r_[self.lags[keep], lag0 + at]
        self.values = np.r_[self.values[keep], c[at]]

    @property
    def lag(self) -> int:
        return int(self.lags[np.argmin(np.abs(self.lags))])

    @property
    def value(self) -> float:
        return float(self.values[np.argmin(np.abs(self.lags))])


def write_aligned(f, n: int, d: int, path: str, fmt: str, name: str) -> None:
    """The file moved ``d`` frames earlier (later if negative), zero-filled, its length and
    subtype kept (:func:`convcli.engine.lags.align`), written a block at a time."""
    import shutil
    import sys

    from ..io.atomic import atomic_path, scratch_path

    if path == "-":
        with scratch_path(name if name != "stdin" else "stdin", f".{fmt}") as tmp:
            _copy_shifted(f, n, d, tmp, fmt)
            with open(tmp, "rb") as g:
                shutil.copyfileobj(g, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        return
    with atomic_path(path) as tmp:
        _copy_shifted(f, n, d, tmp, fmt)


def _copy_shifted(f, n: int, d: int, tmp: str, fmt: str) -> None:
    import soundfile as sf

    from ..errors import FileError
    from ..io.audio import SF_FORMATS, reason, subtype_for

    subtype = subtype_for(fmt, None, f.subtype)
    try:
        with sf.SoundFile(tmp, "w", f.samplerate, f.channels, subtype, format=SF_FORMATS[fmt]) as g:
            lead = max(0, -d)  # zeros first when the file leads
            _zeros(g, min(lead, n), f.channels)
            f.seek(max(0, d) if d < n else n)
            left = max(0, n - abs(d))
            while left:
                block = f.read(min(COPY_FRAMES, left), dtype="float64", always_2d=True)
                if not len(block):  # a codec's length was an estimate
                    block = np.zeros((left, f.channels))
                g.write(block)
                left -= len(block)
            _zeros(g, min(max(0, d), n), f.channels)
    except sf.LibsndfileError as e:
        raise FileError(f"cannot write {fmt} audio ({reason(e)})") from None


def _zeros(g, count: int, channels: int) -> None:
    while count:
        step = min(COPY_FRAMES, count)
        g.write(np.zeros((step, channels)))
        count -= step
