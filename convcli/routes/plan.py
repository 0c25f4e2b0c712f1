"""One plan per input: the source opened once, its format, the kernel loaded once, the
settings for its kind and the target, handed whole to whichever route runs it."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from functools import cached_property

from .. import messages
from ..errors import FormatError
from ..io import files, registry
from ..settings import ConvSettings


@dataclass(frozen=True)
class Plan:
    """Everything a route needs to convolve one input into one output.

    ``source`` is a regular file's path (a pipe was spooled once into one), ``out`` a
    path, ``-`` or None for standard output; ``settings`` has the padding default of
    the input's kind filled in. ``kernel``, ``rate`` and ``header`` are read on first
    use and kept: each is read once, whichever routes ask.
    """

    path: str
    name: str
    source: str
    fmt: str
    kind: str
    out: str | None
    out_fmt: str
    settings: ConvSettings

    @cached_property
    def rate(self) -> float | None:
        """The sample rate from an audio input's header (None for the rest)."""
        if self.kind != "audio":
            return None
        import soundfile as sf

        try:
            return sf.info(self.source).samplerate
        except (sf.LibsndfileError, RuntimeError):
            return None  # unreadable: the reader will say why

    @cached_property
    def kernel(self):
        """The kernel, at the input's sample rate where both are audio."""
        from ..job import load_kernel

        return load_kernel(self.settings, self.rate)

    @cached_property
    def header(self):
        """The image, opened once (pixels are decoded only as a route reads them)."""
        return self.open_image()

    @cached_property
    def image_geometry(self):
        """The rows and columns Axis of an image's (first) page through the kernel."""
        from ..geometry import axes
        from ..io import image

        s, header = self.settings, self.header
        rows = image.describe(header, self.fmt)["page_height"] or header.height
        return axes(
            (rows, header.width),
            self.kernel.shape,
            s.mode,
            pad=s.pad,
            stride=s.stride,
            dilation=s.dilation,
        )

    def open_image(self):
        """A pyvips image of the input: in sequence, or at random for mirrored and wrapped
        edges, which read rows out of order (the bottom's mirror, the top's wrap)."""
        from ..io import image

        random = self.settings.pad_mode in ("symmetric", "reflect", "circular")
        return image.load(self.source, self.name, self.fmt, "random" if random else "sequential")

    @property
    def to_file(self) -> bool:
        return self.out not in (None, "-")


_COMMAND = {1: "conv1d", 2: "conv2d"}


def open_input(path: str, from_format: str | None = None) -> tuple[str, str, str, str]:
    """(source, name, format, kind) of one input, opened once: every job starts here."""
    source = files.source_of(path)
    fmt = files.detect(path, from_format, source)
    return source, "stdin" if path == "-" else path, fmt, registry.kind_of(fmt)


def read_input(source: str, name: str, fmt: str, **options):
    """The whole input, read from what :func:`open_input` opened."""
    return registry.reader(fmt)(source, name, fmt=fmt, **options)


def make_plan(path: str, out: str | None, settings: ConvSettings) -> Plan:
    """The plan of one input (a path or ``-``): read its first bytes, refuse the wrong kind."""
    source, name, fmt, kind = open_input(path, settings.from_format)
    if kind == "image" and settings.ndim == 1:
        raise FormatError(f"{name} is an image: use conv2d")
    if kind == "audio" and settings.ndim == 2:
        raise FormatError(f"{name} is audio: use conv1d")
    out_fmt = files.check_output(fmt, name, out, settings.to_format)
    return Plan(path, name, source, fmt, kind, out, out_fmt, settings.for_kind(kind))


@contextlib.contextmanager
def stage(what: str):
    """With -v: what a stage did and how long it took."""
    start = time.perf_counter()
    yield
    messages.verbose(f"{what}: {time.perf_counter() - start:.3f} s")
