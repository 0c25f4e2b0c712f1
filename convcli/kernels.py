"""Named kernels: ``name[:key=value,...]`` in 1-D and/or 2-D form.

Smoothing kernels sum to 1; derivative kernels sum to 0 and are oriented for
*convolution* (``sobel-x`` responds positively where intensity grows to the right).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ResourceError, SpecError

MAX_TAPS_2D = 1 << 24  # a 4096x4096 kernel: 134 MB, far beyond any useful image filter


@dataclass(frozen=True)
class Named:
    summary: str
    params: str
    one: Callable | None = None  # (params, rate) -> 1-D array
    two: Callable | None = None  # (params, rate) -> 2-D array
    positional: str | None = None  # key that a bare value fills: box:5 == box:n=5
    defaults: tuple = ()

    @property
    def dims(self) -> str:
        return "/".join(d for d, f in (("1-D", self.one), ("2-D", self.two)) if f)


def _normalized(a):
    return a / a.sum()


def _gauss_size(p) -> int:
    return _count(p, "size") if "size" in p else 2 * math.ceil(3 * _positive(p, "sigma")) + 1


def _gauss1(p, rate=None):
    sigma = _positive(p, "sigma")
    size = _gauss_size(p)
    t = np.arange(size) - (size - 1) / 2
    return _normalized(np.exp(-(t**2) / (2 * sigma**2)))


def _log(p, rate=None):
    g = _gauss1(p)
    sigma = float(p["sigma"])
    t = np.arange(len(g)) - (len(g) - 1) / 2
    r2 = t[:, None] ** 2 + t[None, :] ** 2
    k = np.outer(g, g) * (r2 - 2 * sigma**2) / sigma**4
    return k - k.mean()  # zero response to a flat image


def _motion(p, rate=None):
    length = _positive(p, "length")
    angle = math.radians(float(p.get("angle", 0)))
    n = int(math.ceil(length)) | 1  # odd, so the line runs through the centre
    k = np.zeros((n, n))
    c = n // 2
    reach = (length - 1) / 2 / max(abs(math.cos(angle)), abs(math.sin(angle)))  # L pixels long
    for t in np.linspace(-reach, reach, 8 * n):
        k[round(c - t * math.sin(angle)), round(c + t * math.cos(angle))] = 1
    return _normalized(k)


def _disk(p, rate=None):
    r = _positive(p, "radius")
    n = 2 * math.ceil(r) + 1
    t = np.arange(n) - n // 2
    return _normalized((t[:, None] ** 2 + t[None, :] ** 2 <= r * r).astype(float))


def _window(name):
    def make(p, rate=None):
        from scipy.signal import windows

        return _normalized(getattr(windows, name)(_count(p, "n")))

    return make


def _fir(kind):
    def make(p, rate):
        from scipy.signal import firwin

        fs = _need_rate(rate, kind)
        taps = _count(p, "taps") | 1  # odd: a type I filter can be high-pass
        if kind == "bandpass":
            cut = [_positive(p, "low"), _positive(p, "high")]
        else:
            cut = _positive(p, "cutoff")
        if max(np.atleast_1d(cut)) >= fs / 2:
            raise SpecError(
                f"{kind}: the cutoff must be below half the sample rate ({fs / 2:g} Hz)"
            )
        try:
            return firwin(taps, cut, pass_zero=(kind == "lowpass"), fs=fs)
        except ValueError as e:
            raise SpecError(f"{kind}: {e}") from None

    return make


def _echo(p, rate):
    fs = _need_rate(rate, "echo")
    delay = round(_positive(p, "delay") * fs)
    decay = float(p.get("decay", 0.5))
    count = _count(p, "count")
    k = np.zeros(delay * count + 1)
    k[:: max(delay, 1)] = decay ** np.arange(count + 1) if delay else 1 + decay
    return k


def _fixed(rows):
    a = np.array(rows, dtype=float)
    return lambda p, rate=None: a.copy()


_SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
_SCHARR = [[3, 0, -3], [10, 0, -10], [3, 0, -3]]
_PREWITT = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]

KERNELS = {
    "identity": Named("leaves the data as it is", "", _fixed([1]), _fixed([[1]])),
    "box": Named(
        "moving average of N taps",
        "N (default 3)",
        lambda p, r=None: np.full(_count(p, "n"), 1 / _count(p, "n")),
        lambda p, r=None: np.full((_count(p, "n"),) * 2, 1 / _count(p, "n") ** 2),
        "n",
        (("n", 3),),
    ),
    "gaussian": Named(
        "Gaussian blur",
        "sigma=S[,size=N]",
        _gauss1,
        lambda p, r=None: np.outer(_gauss1(p), _gauss1(p)),
        "sigma",
    ),
    "sobel-x": Named("horizontal gradient (Sobel)", "", None, _fixed(_SOBEL)),
    "sobel-y": Named("vertical gradient (Sobel)", "", None, _fixed(np.transpose(_SOBEL))),
    "scharr-x": Named("horizontal gradient (Scharr)", "", None, _fixed(_SCHARR)),
    "scharr-y": Named("vertical gradient (Scharr)", "", None, _fixed(np.transpose(_SCHARR))),
    "prewitt-x": Named("horizontal gradient (Prewitt)", "", None, _fixed(_PREWITT)),
    "prewitt-y": Named("vertical gradient (Prewitt)", "", None, _fixed(np.transpose(_PREWITT))),
    "laplacian": Named(  # 2-D only, as SPEC names it; in 1-D it is diff2
        "Laplacian (edges in every direction)",
        "",
        None,
        _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    ),
    "log": Named(
        "Laplacian of Gaussian (blob and edge detector)", "sigma=S[,size=N]", None, _log, "sigma"
    ),
    "sharpen": Named("sharpen", "", None, _fixed([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
    "emboss": Named("emboss", "", None, _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])),
    "motion": Named("motion blur along a line", "length=L[,angle=DEG]", None, _motion, "length"),
    "disk": Named("disk (out-of-focus) blur", "radius=R", None, _disk, "radius"),
    "diff": Named("first difference", "", _fixed([1, -1])),
    "diff2": Named("second difference", "", _fixed([1, -2, 1])),
    "hann": Named("Hann window, unit sum", "N", _window("hann"), None, "n"),
    "hamming": Named("Hamming window, unit sum", "N", _window("hamming"), None, "n"),
    "blackman": Named("Blackman window, unit sum", "N", _window("blackman"), None, "n"),
    "lowpass": Named(
        "windowed-sinc FIR low-pass (needs a rate)",
        "cutoff=HZ[,taps=N]",
        _fir("lowpass"),
        None,
        "cutoff",
        (("taps", 101),),
    ),
    "highpass": Named(
        "windowed-sinc FIR high-pass (needs a rate)",
        "cutoff=HZ[,taps=N]",
        _fir("highpass"),
        None,
        "cutoff",
        (("taps", 101),),
    ),
    "bandpass": Named(
        "windowed-sinc FIR band-pass (needs a rate)",
        "low=HZ,high=HZ[,taps=N]",
        _fir("bandpass"),
        None,
        None,
        (("taps", 101),),
    ),
    "echo": Named(
        "echo: the signal plus delayed, decayed copies (needs a rate)",
        "delay=SEC[,decay=G][,count=N]",
        _echo,
        None,
        "delay",
        (("count", 1),),
    ),
}


def _positive(p, key) -> float:
    if key not in p:
        raise SpecError(f"missing parameter {key}=")
    try:
        value = float(p[key])
    except ValueError:
        raise SpecError(f"{key}={p[key]} is not a number") from None
    if not value > 0 or math.isinf(value):
        raise SpecError(f"{key} must be a positive number, got {p[key]}")
    return value


def _count(p, key) -> int:
    value = _positive(p, key)
    if value != int(value) or value > 1_000_000:
        raise SpecError(f"{key} must be a whole number up to 1000000, got {p[key]}")
    return int(value)


def _need_rate(rate, name) -> float:
    if not rate:
        raise SpecError(f"{name} needs a sample rate: give --rate HZ or an audio input")
    return float(rate)


def parse_spec(spec: str) -> tuple[str, dict]:
    """``'gaussian:sigma=2,size=7'`` -> ``('gaussian', {'sigma': '2', 'size': '7'})``."""
    name, _, rest = spec.strip().partition(":")
    name = name.strip().lower()
    if name not in KERNELS:
        raise SpecError(f"unknown kernel {name!r}; see 'convcli kernels'")
    entry = KERNELS[name]
    params = {k: str(v) for k, v in entry.defaults}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            if entry.positional is None:
                raise SpecError(f"{name}: write {item!r} as key=value ({entry.params})")
            key, value = entry.positional, item
        params[key.strip().lower()] = value.strip()
    return name, params


def make(spec: str, dims: int | None = None, rate: float | None = None) -> np.ndarray:
    """Build a named kernel.

    Parameters
    ----------
    spec : str
        ``name[:key=value,...]``, e.g. ``'gaussian:sigma=1.5'`` or ``'box:5'``.
    dims : {1, 2}, optional
        Which form; default the 2-D form where the kernel has one.
    rate : float, optional
        Sample rate in Hz, for the FIR designs and ``echo``.

    Returns
    -------
    ndarray of float64, shape (k,) or (kh, kw)

    Examples
    --------
    >>> make('box:3', dims=1).tolist() == [1/3, 1/3, 1/3]
    True
    """
    name, params = parse_spec(spec)
    entry = KERNELS[name]
    builder = {1: entry.one, 2: entry.two, None: entry.two or entry.one}[dims]
    if builder is None:
        raise SpecError(f"{name} has no {dims}-D form (it is {entry.dims})")
    known = set(dict(entry.defaults)) | {entry.positional} | _keys(entry.params)
    unknown = set(params) - known
    if unknown:
        raise SpecError(f"{name}: unknown parameter {sorted(unknown)[0]}= (takes {entry.params})")
    _check_size(spec, _length(name, params, rate), builder is entry.two)
    return np.asarray(builder(params, rate), dtype=float)


def _length(name: str, p: dict, rate) -> int | None:
    """The kernel's length (its side in 2-D) from its parameters alone; None if small."""
    if name in ("gaussian", "log"):
        return _gauss_size(p)
    if name == "motion":
        return int(math.ceil(_positive(p, "length"))) | 1
    if name == "disk":
        return 2 * math.ceil(_positive(p, "radius")) + 1
    if name == "echo":
        return round(_positive(p, "delay") * _need_rate(rate, "echo")) * _count(p, "count") + 1
    key = {"box": "n", "hann": "n", "hamming": "n", "blackman": "n"}.get(name, "taps")
    return _count(p, key) if key in p else None


def _check_size(spec: str, length: int | None, two: bool) -> None:
    """Refuse, before building it, a kernel too large to use or to fit in memory."""
    if length is None:
        return
    from .engine.padding import _size, available_memory

    taps = length**2 if two else length
    n = f"{length:,}" if length < 10**15 else f"{float(length):.3g}"
    if two and taps > MAX_TAPS_2D:
        raise SpecError(
            f"{spec}: a {n}x{n} kernel is too large (at most {MAX_TAPS_2D:,} taps, 4096x4096)"
        )
    need, have = 3 * 8 * taps, available_memory()  # float64, and two temporaries to build it
    if need > have:
        raise ResourceError(
            f"{spec}: the kernel ({n} taps{' a side' if two else ''}) "
            f"would need about {_size(need)} of memory but only {_size(have)} "
            "is available"
        )


def _keys(params: str) -> set:
    parts = params.replace("[", ",").split(",")
    return {part.split("=")[0].strip("[]") for part in parts if "=" in part}
