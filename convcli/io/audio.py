"""Audio through soundfile: (frames, channels) float64 in [-1, 1]."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import soundfile as sf

from .. import messages
from ..errors import DataError, FileError
from .atomic import atomic_path, write_bytes
from .data import Data

SF_FORMATS = {
    "wav": "WAV",
    "flac": "FLAC",
    "ogg": "OGG",
    "aiff": "AIFF",
    "mp3": "MP3",
    "opus": "OGG",
}
_FROM_SF = {v: k for k, v in SF_FORMATS.items() if k != "opus"}
_CODEC = {"opus": "OPUS"}  # formats whose subtype is their name, not their container's default
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def reason(e) -> str:
    """libsndfile's own words for an error."""
    text = getattr(e, "error_string", None) or str(e)
    return text.strip().rstrip(".")


def open_audio(source, name: str) -> sf.SoundFile:
    """A SoundFile on a path or bytes, or one clear error."""
    try:
        return sf.SoundFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except sf.LibsndfileError as e:
        raise DataError(f"{name}: corrupt or unreadable audio ({reason(e)})") from None
    except (RuntimeError, TypeError) as e:
        raise DataError(f"{name}: corrupt or unreadable audio ({e})") from None


def read_audio(source, name: str, fmt: str = "wav", **_) -> Data:
    """Read a whole audio file (a path or bytes) as (frames, channels) float64."""
    with open_audio(source, name) as f:
        try:
            array = f.read(dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{name}: corrupt or unreadable audio ({reason(e)})") from None
        rate, subtype = f.samplerate, f.subtype
        fmt = _FROM_SF.get(f.format, fmt)
        declared = _declared_frames(source, f) if fmt == "wav" else None
    if len(array) == 0:
        raise DataError(f"{name}: the audio has no samples")
    if declared and len(array) < declared:
        messages.warning(
            f"{name}: the file ends early: read {len(array)} of the "
            f"{declared} frames its header declares (truncated?)"
        )
    if not np.isfinite(array).all():
        frame = int(np.argwhere(~np.isfinite(array))[0][0])
        raise DataError(f"{name}: NaN or infinite sample at frame {frame}")
    return Data(array, fmt, name, sample_rate=rate, subtype=subtype)


def wav_data(source) -> tuple[int, int] | None:
    """(offset, size) of a RIFF WAV file's data chunk, as its header declares them."""
    import struct

    if isinstance(source, bytes):
        head = source[: 1 << 16]
    else:
        with open(source, "rb") as g:
            head = g.read(1 << 16)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], struct.unpack("<I", head[at + 4 : at + 8])[0]
        if chunk == b"data":
            return at + 8, size
        at += 8 + size + (size & 1)
    return None


def _declared_frames(source, f) -> int | None:
    """The frames a WAV header's data chunk declares (libsndfile reports what is there)."""
    data = wav_data(source)
    width = {"PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}.get(
        f.subtype
    )
    if data is None or not width or data[1] >= 0xFFFFFFF0:
        return None
    return data[1] // (width * f.channels)


def match_rate(kernel: np.ndarray, kernel_rate, rate) -> np.ndarray:
    """Resample an audio kernel to the input's rate, with a notice on stderr."""
    if not kernel_rate or not rate or kernel_rate == rate:
        return kernel
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(kernel_rate), int(rate))
    up, down = int(rate) // g, int(kernel_rate) // g
    if len(kernel) * up // down > 1 << 26 or max(up, down) > 1 << 20:
        raise DataError(
            f"cannot resample the kernel from {kernel_rate} Hz to {rate} Hz "
            "(the ratio is too large); resample it first, e.g. with sox"
        )
    messages.notice(f"resampled the kernel from {kernel_rate} Hz to {rate} Hz")
    return resample_poly(kernel, up, down, axis=0) * (kernel_rate / rate)


def subtype_for(fmt: str, wanted: str | None, fallback: str | None) -> str:
    """The subtype to write: ``--subtype``, else the input's, else the format's default."""
    sf_format = SF_FORMATS[fmt]
    if fallback and not fallback.startswith(("PCM_", "FLOAT", "DOUBLE", "ULAW", "ALAW")):
        fallback = None  # a codec (MP3, Vorbis, Opus, ADPCM): the format's own default
    for candidate in (wanted, fallback):
        if candidate and sf.check_format(sf_format, candidate):
            return candidate
        if candidate and candidate is wanted:
            raise DataError(
                f"{fmt} cannot hold subtype {wanted}; try one of "
                f"{', '.join(sorted(sf.available_subtypes(sf_format)))}"
            )
    return _CODEC.get(fmt) or sf.default_subtype(sf_format)


def check_rate(subtype: str, rate: float) -> None:
    """Opus holds five sample rates only: refuse the others rather than write Vorbis."""
    if subtype == "OPUS" and rate not in OPUS_RATES:
        raise DataError(
            f"Opus holds {', '.join(f'{r // 1000}' for r in OPUS_RATES)} kHz audio, "
            f"not {rate:g} Hz; resample first (sox in.wav -r 48000 out.wav) or "
            "write .ogg (Vorbis)"
        )


def clip(y: np.ndarray, subtype: str) -> tuple[np.ndarray, int]:
    """Clip to full scale for integer subtypes (as SoX does), counting the clipped samples."""
    if subtype in ("FLOAT", "DOUBLE") or (
        y.max(initial=-1.0) <= 1.0 and y.min(initial=1.0) >= -1.0  # two passes, no copies
    ):
        return y, 0
    count = int(np.count_nonzero(y > 1.0)) + int(np.count_nonzero(y < -1.0))
    if count:  # minimum/maximum: five times faster than np.clip here
        y = np.minimum(y, 1.0, dtype=y.dtype)
        np.maximum(y, -1.0, out=y)
    return y, count


def warn_clipped(count: int) -> None:
    if count:
        messages.warning(
            f"clipped {count} sample(s) beyond full scale; "
            "--normalize scales the peak to full scale instead"
        )


_PCM = {"PCM_16": np.int16, "PCM_24": np.int32, "PCM_32": np.int32}


def pcm(y: np.ndarray, subtype: str, fmt: str, scratch=None) -> np.ndarray | None:
    """The integers libsndfile would store for ``y`` (frames, channels) in [-1, 1], or None.

    soundfile turns on libsndfile's clipping writer, which rounds at 2**31 and keeps the
    top bits (``lrint(y * 2**31) >> 16`` for 16 bits); NumPy does the same 2.8x faster
    than libsndfile's loop (a second of a 10 minute stereo job). Integers are written
    as they are, so the bytes are the same. For WAV and AIFF PCM; FLAC rounds its own way.
    ``scratch``, a float64 array of at least ``y.size`` elements, spares an allocation.

    >>> pcm(np.array([[0.5, -1.0, 1.0, 0.25 / 32768]]), "PCM_16", "wav").tolist()
    [[16384, -32768, 32767, 0]]
    """
    if fmt not in ("wav", "aiff") or subtype not in _PCM:
        return None
    t = None if scratch is None else scratch.ravel()[: y.size].reshape(y.shape)
    t = np.multiply(y, 2.0**31, out=t)
    np.rint(t, out=t)
    if subtype == "PCM_16":
        t *= 2.0**-16  # exact: a power of two
        np.floor(t, out=t)
        np.minimum(t, 2**15 - 1, out=t)
    else:  # 24-bit keeps the top three bytes of the 32-bit integer, as libsndfile does
        np.minimum(t, 2**31 - 1, out=t)
    return t.astype(_PCM[subtype])


@contextlib.contextmanager
def audio_writer(target, fmt: str, rate: int, channels: int, subtype: str):
    """``write(block)`` for (frames, channels) float64 blocks in [-1, 1] (clipped) into
    ``target`` (a path or a binary file object): the system's MP3 encoder where there is
    one (:mod:`convcli.io.mp3`), integers for PCM, else libsndfile's own conversion."""
    from . import mp3

    fast = mp3.writer(target, rate, channels) if fmt == "mp3" and isinstance(target, str) else None
    if fast is not None:
        with fast:
            yield fast.write
        return
    with sf.SoundFile(target, "w", rate, channels, subtype, format=SF_FORMATS[fmt]) as g:
        scratch = np.empty(0)  # the largest block's size, reused: blocks of megabytes each

        def write(block):
            nonlocal scratch
            if scratch.size < block.size:
                scratch = np.empty(block.size)
            samples = pcm(block, subtype, fmt, scratch)
            g.write(block if samples is None else samples)

        yield write


def write_audio(data: Data, path: str, fmt: str, subtype: str | None = None, **_) -> None:
    """Write ``data.array`` (frames[, channels]) as audio, atomically or to stdout (``-``)."""
    y = np.asarray(data.array, dtype=np.float64)
    y = y if y.ndim == 2 else y.reshape(len(y), -1)
    if y.ndim != 2 or y.shape[1] > 1024:
        raise DataError(f"a {data.array.shape} array is not audio (frames, channels)")
    subtype = subtype_for(fmt, subtype, data.subtype)
    y, clipped = clip(y, subtype)
    warn_clipped(clipped)
    rate = data.sample_rate or 44100
    check_rate(subtype, rate)
    try:
        if path == "-":
            buffer = io.BytesIO()
            buffer.name = f"out.{fmt}"
            with audio_writer(buffer, fmt, rate, y.shape[1], subtype) as write:
                write(y)
            write_bytes(buffer.getvalue(), "-")
            return
        with atomic_path(path) as tmp, audio_writer(tmp, fmt, rate, y.shape[1], subtype) as write:
            write(y)
    except sf.LibsndfileError as e:
        raise FileError(f"cannot write {fmt} audio ({reason(e)})") from None
