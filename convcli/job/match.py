"""The job of ``convcli match``: a template and one input file in, matches (or a delay) out.

The template is read once (:func:`read_template`) and matched against each input by
:func:`match_file`, which returns a plain dict (it pickles, for a cluster); :func:`lines`
and :func:`records` turn it into the printed lines and the ``--json`` objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import messages
from ..engine.match import LOWER_IS_BETTER, score_map
from ..errors import DataError, ShapeError, UsageProblem
from ..io import atomic, files, marks, registry
from ..io.data import Data
from ..matching import default_distance, peaks
from .matchstrips import split_alpha


@dataclass(frozen=True)
class MatchSettings:
    """The options of ``convcli match`` as one value (defaults as the command's)."""

    score: str = "ccoeff-normed"
    top: int | None = 1
    min_distance: int | None = None
    threshold: float | None = None
    subsample: bool = False
    gray: bool = False
    from_format: str | None = None
    map_path: str | None = None
    mark_path: str | None = None
    lags: bool = False
    delay: bool = False
    align_path: str | None = None
    steps: bool = False
    precision: int | None = None


def read_template(path: str, settings: MatchSettings) -> Data:
    """The template, read once for every input."""
    return files.read(path, settings.from_format, gray=settings.gray)


def _arrays(template: Data, data: Data, settings: MatchSettings):
    """(x, t, mask, nd, sample_rate): the arrays as the engine takes them."""
    x, _ = split_alpha(data)
    t, mask = split_alpha(template)
    if mask is not None and (mask >= 1).all():
        mask = None  # opaque: the plain (faster) scores
    one_d = "audio" in (data.kind, template.kind) or (x.ndim == 1 and t.ndim == 1)
    if one_d:
        x = x.reshape(len(x), -1)  # (frames, channels)
        t = t.reshape(len(t), -1)
        mask = None if mask is None else mask.reshape(-1)
    elif x.ndim == 1 or t.ndim == 1:
        raise ShapeError(
            f"{template.name} and {data.name}: one is a signal, the other a matrix or image"
        )
    rate = data.sample_rate
    if one_d and template.sample_rate and rate and template.sample_rate != rate:
        t = _resample(t, template.sample_rate, rate, template.name)
    if not one_d and t.ndim == 3 and x.ndim == 2:
        raise ShapeError(
            f"the template {template.name} has {t.shape[2]} channels, {data.name} one: give --gray"
        )
    return x, t, mask, 1 if one_d else 2, rate


def _stream_template(template: Data, source: str) -> np.ndarray:
    """The template as (k, C) at the sample rate of the audio file at ``source``."""
    import soundfile as sf

    t = template.array.reshape(len(template.array), -1)
    rate = sf.info(source).samplerate
    if template.sample_rate and template.sample_rate != rate:
        t = _resample(t, template.sample_rate, rate, template.name)
    return t


def _open(path: str, settings: MatchSettings) -> tuple[str, str, str]:
    """(name, source, format) of an input, opened once: a pipe is spooled to a file."""
    import os

    name = "stdin" if path == "-" else path
    source = files.source_of(path)
    fmt = files.detect(path, settings.from_format, source)
    if registry.kind_of(fmt) != "chunked" and os.path.getsize(source) == 0:
        raise DataError(f"{name}: the input is empty")
    return name, source, fmt


def _resample(t, rate_from, rate_to, name):
    from scipy.signal import resample_poly

    messages.notice(f"{name} resampled from {rate_from} Hz to {rate_to} Hz")
    g = math.gcd(int(rate_from), int(rate_to))
    return resample_poly(t, int(rate_to) // g, int(rate_from) // g, axis=0)


def match_file(path: str, template: Data, settings: MatchSettings) -> dict:
    """Match ``template`` in the file at ``path``; the result as a plain dict.

    Keys: ``path``, ``nd``, ``rate``, ``size`` (the template's, per axis), and
    ``matches`` (list of (position, score)), ``delay`` (samples, xcorr peak) or
    ``lags`` (lags, values), and ``steps`` (text) as asked for.
    """
    from .matchstream import match_stream, streams
    from .matchstrips import match_strips, strips

    name, source, fmt = _open(path, settings)
    for out in (settings.map_path, settings.mark_path, settings.align_path):
        if out and out != "-":  # a folder that is missing or read-only: before any work
            atomic.check_writable_folder(out)
            atomic.check_replaceable(out)
    if settings.map_path:
        flat = template.kind == "audio" or template.array.ndim == 1
        marks.map_format(settings.map_path, 1 if flat else 2)  # a wrong one before any work
    if settings.lags and registry.kind_of(fmt) == "audio" and template.kind == "audio":
        import soundfile as sf

        from .matchstream import check_lags

        check_lags(sf.info(source).frames + len(template.array) - 1)
    if template.kind != "image" and streams(source, fmt, settings):
        t = _stream_template(template, source)
        return match_stream(path, source, fmt, settings, t)
    if template.kind == "image" and strips(source, fmt, template, settings):
        return match_strips(path, source, fmt, template, settings)
    data = registry.reader(fmt)(source, name, fmt=fmt, gray=settings.gray)
    x, t, mask, nd, rate = _arrays(template, data, settings)
    result = {
        "path": path,
        "nd": nd,
        "rate": rate,
        "audio": data.kind == "audio",
        "size": t.shape[:nd],
        "score": settings.score,
    }
    if settings.lags or settings.delay or settings.align_path:
        return _lags(result, x, t, nd, data, settings)
    if settings.steps:
        result["steps"] = _steps(x, t, nd, settings)
    scores = score_map(x, t, settings.score, ndim=nd, mask=mask)
    if settings.score == "ccoeff-normed" and np.ptp(t) == 0:
        messages.warning(f"{template.name} has no variance: every window scores 0")
    distance = (
        default_distance(t.shape[:nd]) if settings.min_distance is None else settings.min_distance
    )
    found = peaks(
        scores,
        settings.top,
        distance,
        settings.threshold,
        settings.score in LOWER_IS_BETTER,
        settings.subsample,
    )
    digits = 7 if scores.dtype == np.float32 else 12  # what the map's precision can say
    result["matches"] = [(_rounded(m.position), float(f"{m.score:.{digits}g}")) for m in found]
    if not found:
        best = scores.min() if settings.score in LOWER_IS_BETTER else scores.max()
        result["best"] = float(best)
    _pictures(result, scores, data, settings)
    return result


def _lags(result, x, t, nd, data, settings):
    from ..engine.lags import align, finddelay, xcorr

    if nd != 1:
        raise UsageProblem("--lags, --delay and --align are for 1-D signals and audio")
    if settings.lags:
        from .matchstream import check_lags

        check_lags(len(x) + len(t) - 1)
        lags, c = xcorr(x, t, "full")
        result["lags"] = (lags.tolist(), c.tolist())
        return result
    d = finddelay(t, x)
    lags, c = xcorr(x, t, "full")
    result["delay"] = (d, float(c[lags == d][0]))
    if settings.align_path:
        out_fmt = files.check_output(data.format, data.name, settings.align_path, None)
        y = align(data.array, d)
        files.write(data.with_array(y), settings.align_path, out_fmt, precision=settings.precision)
    return result


def _steps(x, t, nd, settings) -> str:
    from ..steps_match import match_steps

    if nd != 1 or x.shape[1] != 1:
        raise UsageProblem("--steps shows a match of one-channel 1-D signals")
    if settings.score != "ccoeff-normed":
        raise UsageProblem("--steps shows the default score, ccoeff-normed")
    return match_steps(x[:, 0], t[:, 0], precision=settings.precision)


def _pictures(result, scores, data, settings) -> None:
    if settings.map_path:
        marks.write_map(scores, settings.map_path, settings.score)
    if settings.mark_path:
        if result["nd"] == 2:
            marks.mark_image(
                data,
                result["matches"],
                result["size"],
                settings.mark_path,
                marks.score_label(settings.score),
            )
        else:
            marks.mark_signal(
                scores,
                result["matches"],
                result["rate"],
                settings.mark_path,
                marks.score_label(settings.score),
                data.name,
            )


def _rounded(position):
    return tuple(p if isinstance(p, int) else round(p, 4) for p in position)


def _value(v: float, score: str) -> str:
    return f"{v:.3f}" if score.endswith("normed") else f"{v:.6g}"


def _coordinate(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:.2f}"


def lines(result: dict, template_name: str) -> list[str]:
    """What ``convcli match`` prints for one input, one line per match."""
    path, label, score = result["path"], marks.score_label(result["score"]), result["score"]
    if "lags" in result:
        lags, c = result["lags"]
        return [f"{lag} {v:.6g}" for lag, v in zip(lags, c)]
    if "delay" in result:
        d, peak = result["delay"]
        where = "in step with" if d == 0 else "behind" if d > 0 else "ahead of"
        seconds = f" ({abs(d) / result['rate']:.3f} s)" if result["audio"] else ""
        size = f"{abs(d)} sample{'s' if abs(d) != 1 else ''}{seconds} " if d else ""
        return [f"{path}: {size}{where} {template_name}, xcorr={peak:.3f}"]
    if not result["matches"]:
        return [f"{path}: no match (best {label}={_value(result['best'], score)})"]
    out = []
    for position, value in result["matches"]:
        if result["nd"] == 1:
            where = f"sample {_coordinate(position[0])}"
            if result["audio"]:
                where += f" ({position[0] / result['rate']:.3f} s)"
        else:
            kh, kw = result["size"]
            where = f"x={_coordinate(position[1])} y={_coordinate(position[0])} ({kw}x{kh})"
        out.append(f"{path}: {where}, {label}={_value(value, score)}")
    return out


def records(result: dict) -> list[dict]:
    """The ``--json`` objects of one input."""
    path = result["path"]
    if "lags" in result:
        lags, c = result["lags"]
        return [{"path": path, "lags": lags, "xcorr": c}]
    if "delay" in result:
        d, peak = result["delay"]
        record = {"path": path, "delay": d, "score": peak}
        if result["audio"]:
            record["time"] = d / result["rate"]
        return [record]
    out = []
    for position, value in result["matches"]:
        if result["nd"] == 1:
            record = {"path": path, "position": position[0]}
            if result["audio"]:
                record["time"] = position[0] / result["rate"]
        else:
            kh, kw = result["size"]
            record = {
                "path": path,
                "position": [position[1], position[0]],
                "box": [position[1], position[0], kw, kh],
            }
        record["score"] = value
        out.append(record)
    return out
