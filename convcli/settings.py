"""The options of a convolution job as one typed, frozen object, built once.

The CLI builds a :class:`ConvSettings` from Click's values; the library
(:func:`convcli.job.convolve_file`) reads nothing else. Defaults live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UsageProblem
from .geometry import per_axis


def check_padding(pad, mode) -> None:
    """``--pad`` and ``--mode same|full`` both say how to pad: a usage error (exit 2)."""
    if pad is not None and mode in ("same", "full"):
        raise UsageProblem(f"--pad and --mode {mode} both say how to pad; give one")


def default_mode(ndim: int) -> str:
    """``full`` for signals (every sample of the convolution); ``same`` for images (a filter
    keeps the image's size)."""
    return "full" if ndim == 1 else "same"


def default_pad_mode(kind: str) -> str:
    """What padding holds unless ``--pad-mode`` says: the edge for images, else zeros."""
    return "replicate" if kind == "image" else "zeros"


@dataclass(frozen=True)
class ConvSettings:
    """How to convolve a file: the kernel, the geometry and what to do with the result.

    ``ndim`` is the number of convolved axes (1 for signals, 2 for images and
    matrices); ``stride`` and ``dilation`` hold one value per axis. ``mode`` is
    filled in when neither it nor ``pad`` is given: ``full`` in 1-D, ``same`` in
    2-D (an image filter keeps its size). ``pad_mode`` None means the default of
    the input's kind (:meth:`for_kind`): ``replicate`` for image files, as libvips,
    ImageMagick and OpenCV extend a photo's edges; ``zeros`` for everything else.
    """

    kernel: str
    ndim: int = 1
    mode: str | None = None
    pad: tuple[int, ...] | None = None
    pad_mode: str | None = None
    pad_value: float = 0.0
    stride: tuple[int, ...] = (1,)
    dilation: tuple[int, ...] = (1,)
    correlate: bool = False
    method: str = "auto"
    bias: tuple[float, ...] | str | None = None
    layout: str = "oihw"
    gray: bool = False
    absolute: bool = False
    real: bool = False
    imag: bool = False
    offset: float = 0.0
    normalize: bool = False
    precision: int | None = None
    subtype: str | None = None
    quality: int | None = None
    depth: int | None = None
    flatten: bool = False
    background: tuple[float, float, float] | None = None
    from_format: str | None = None
    to_format: str | None = None
    rate: float | None = None
    steps: bool = False
    scheduler: str | None = None

    def __post_init__(self):
        check_padding(self.pad, self.mode)
        if self.real + self.imag + self.absolute > 1:
            raise UsageProblem("--real, --imag and --abs each choose what to keep; give one")
        if self.background is not None and not self.flatten:
            raise UsageProblem(
                "--background is the colour --flatten composes onto; give --flatten too"
            )
        if self.mode is None and self.pad is None:
            object.__setattr__(self, "mode", default_mode(self.ndim))
        for name in ("stride", "dilation"):
            value = getattr(self, name)
            object.__setattr__(self, name, per_axis(value, self.ndim, name))

    def image_options(self) -> dict:
        """What an image writer needs beyond the pixels: ``--depth`` and ``--flatten``."""
        background = (self.background or (1.0, 1.0, 1.0)) if self.flatten else None
        return {"depth": self.depth, "background": background}

    def for_kind(self, kind: str) -> ConvSettings:
        """These settings for an input of ``kind``, the padding's default filled in."""
        if self.pad_mode is not None:
            return self
        from dataclasses import replace

        return replace(self, pad_mode=default_pad_mode(kind))

    def engine_options(self) -> dict:
        """Keyword arguments of :func:`convcli.engine.convolve` for this job."""
        return {
            "mode": self.mode,
            "pad": self.pad,
            "pad_mode": self.pad_mode or "zeros",
            "pad_value": self.pad_value,
            "stride": self.stride,
            "dilation": self.dilation,
            "method": self.method,
            "ndim": self.ndim,
            "layout": self.layout,
        }

    @property
    def post(self) -> bool:
        """Whether the result is post-processed (``--abs``, ``--offset``, ``--normalize``)."""
        return bool(self.absolute or self.offset or self.normalize)


@dataclass(frozen=True)
class PadSettings:
    """How ``convcli pad`` pads a file: MATLAB's ``padarray`` sizes, mode, value, direction."""

    size: tuple[int, ...]
    mode: str = "zeros"
    value: float = 0.0
    direction: str = "both"
    from_format: str | None = None
    to_format: str | None = None
    precision: int | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class PoolSettings:
    """How ``convcli pool`` pools a file, with PyTorch's geometry (checked here, once)."""

    size: tuple[int, ...]
    stride: tuple[int, ...] | None = None
    pad: tuple[int, ...] = (0,)
    ceil: bool = False
    op: str = "max"
    gray: bool = False
    from_format: str | None = None
    to_format: str | None = None
    precision: int | None = None

    def __post_init__(self):
        from .geometry import check_pool_pad

        check_pool_pad(self.size * (2 // len(self.size)), self.pad * (2 // len(self.pad)))

    def engine_options(self) -> dict:
        """Keyword arguments of :func:`convcli.pool` for this job."""
        return {"stride": self.stride, "pad": self.pad, "ceil": self.ceil, "op": self.op}
