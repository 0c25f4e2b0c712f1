"""``convcli match`` on long audio, block by block in flat memory (overlap-save).

Each block of ``plan.step + k - 1`` frames gives ``plan.step`` windows' scores (the
engine's strip); only the best so far is kept, so a clip is found in an hour of audio in
the memory of one block. Taken for ``--top 1`` without ``--threshold`` or pictures, on
PCM WAV, FLAC and AIFF files of at least :data:`STREAM_MIN_FRAMES` frames; everything
else is matched in memory, with the same result to rounding.
"""

from __future__ import annotations

import os

import numpy as np

from .. import messages
from ..engine.match import LOWER_IS_BETTER, score_map, signal_plan
from ..errors import ShapeError
from ..io import registry

STREAM_MIN_FRAMES = 1 << 20  # about 24 s at 44.1 kHz
_SEEKABLE = ("wav", "flac", "aiff")


def streams(path: str, settings) -> bool:
    """Whether this input and these settings take the block route."""
    plain = (
        settings.top == 1
        and settings.threshold is None
        and not (
            settings.map_path
            or settings.mark_path
            or settings.steps
            or settings.lags
            or settings.delay
            or settings.align_path
        )
    )
    fmt = settings.from_format or registry.by_extension(path)
    if not plain or path == "-" or fmt not in _SEEKABLE or not os.path.isfile(path):
        return False
    import soundfile as sf

    try:
        info = sf.info(path)
    except (RuntimeError, sf.LibsndfileError):
        return False  # the in-memory route says what is wrong with it
    return info.frames >= STREAM_MIN_FRAMES and info.subtype.startswith("PCM")


def match_stream(path: str, template, settings, template_array) -> dict:
    """The best match of ``template_array`` (k, C) in the audio file at ``path``.

    Returns the dict of :func:`convcli.job.match.match_file`.
    """
    import soundfile as sf

    with sf.SoundFile(path) as f:
        n, channels, rate = f.frames, f.channels, f.samplerate
        t = template_array
        if t.shape[1] not in (1, channels):
            raise ShapeError(f"the template has {t.shape[1]} channels, the input {channels}")
        k = len(t)
        if k > n:
            raise ShapeError(f"the template ({k}) is larger than the input ({n})")
        t = np.repeat(t, channels, axis=1) if t.shape[1] == 1 else t  # (k, C)
        plan = signal_plan(t.astype(np.float64), n, settings.score)
        messages.verbose(
            f"{path}: {n} frames in blocks of {plan.size[0]} ({plan.step} windows each)"
        )
        position, value = _best(f, plan, n - k + 1, k, settings.score in LOWER_IS_BETTER)
        if settings.subsample:
            position = _refine(f, t, position, n - k + 1, settings.score)
    return {
        "path": path,
        "nd": 1,
        "rate": rate,
        "audio": True,
        "size": (k,),
        "score": settings.score,
        "matches": [((position,), float(f"{value:.12g}"))],
    }


def _best(f, plan, windows: int, k: int, lower: bool):
    """The first best window over every block."""
    best, best_value = 0, None
    for r0 in range(0, windows, plan.step):
        stop = min(r0 + plan.step, windows)
        f.seek(r0)
        s = plan.strip(f.read(stop - r0 + k - 1, dtype="float64", always_2d=True))
        i = int(np.argmin(s) if lower else np.argmax(s))
        if best_value is None or (s[i] < best_value if lower else s[i] > best_value):
            best, best_value = r0 + i, float(s[i])
    return best, best_value


def _refine(f, t, p: int, windows: int, score: str) -> float:
    """The parabolic sub-sample position, from the scores of the peak and its neighbours."""
    if not 0 < p < windows - 1:
        return float(p)
    f.seek(p - 1)
    s = score_map(f.read(len(t) + 2, dtype="float64", always_2d=True), t, score, ndim=1)
    a, b, c = s
    bend = a - 2 * b + c
    return p + float(np.clip(0.5 * (a - c) / bend if bend else 0.0, -0.5, 0.5))
