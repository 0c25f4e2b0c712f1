"""Click options that several commands share, defined once."""

from __future__ import annotations

import math

import click

from ..geometry import METHODS, MODES, PAD_ALIASES, PAD_MODES
from ..io.registry import NAMES as FORMAT_NAMES


def int_list(counts, minimum=0):
    """A Click callback turning ``'1,2'`` into ``(1, 2)``, allowing ``counts`` values."""

    def parse(ctx, param, value):
        if value is None:
            return None
        try:
            numbers = tuple(int(v) for v in value.replace("x", ",").split(","))
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a list of whole numbers") from None
        if len(numbers) not in counts:
            allowed = " or ".join(str(c) for c in counts)
            raise click.BadParameter(f"{value!r} has {len(numbers)} values; give {allowed}")
        if any(n < minimum for n in numbers):
            raise click.BadParameter(f"{value!r}: values must be at least {minimum}")
        return numbers

    return parse


class FiniteFloat(click.ParamType):
    """A float that is neither infinite nor NaN (which would spread through every sample)."""

    name = "float"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


FINITE = FiniteFloat()


class FiniteRange(click.FloatRange):
    """A float within a range, and never NaN (which every range comparison lets through)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _float_list(ctx, param, value):
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        return value  # a file name
    if not all(math.isfinite(n) for n in numbers):
        raise click.BadParameter(f"{value!r}: biases must be finite numbers")
    return numbers


def _complete_kernel(ctx, param, incomplete):
    """Kernel names, then files, for shell completion."""
    from click.shell_completion import CompletionItem

    from ..kernels import KERNELS

    names = [CompletionItem(n) for n in KERNELS if n.startswith(incomplete)]
    return names + [CompletionItem(incomplete, type="file")]


inputs = click.argument(
    "inputs", nargs=-1, required=True, metavar="INPUT...", type=click.Path(allow_dash=True)
)
kernel = click.option(
    "-k",
    "--kernel",
    required=True,
    metavar="KERNEL",
    shell_complete=_complete_kernel,
    help="A file, a named kernel (see 'convcli kernels') or numbers: "
    "'1,-1,2', '1 2 1; 0 0 0; -1 -2 -1'.",
)
output = click.option(
    "-o",
    "--output",
    metavar="OUT",
    type=click.Path(allow_dash=True),
    help="Output file, DIR/ for several inputs, or - for standard output.",
)


def mode(ndim: int):
    """``--mode``, whose default differs between conv1d (full) and conv2d (same)."""
    from ..settings import default_mode

    default = default_mode(ndim)
    return click.option(
        "--mode",
        type=click.Choice(MODES),
        help="Implicit padding, centred as scipy.signal.convolve does: full gives n+k-1 "
        "samples, same n, valid n-k+1 (k: the dilated kernel's span). "
        f"[default: {default}, or valid after --pad]",
    )


pad_mode = click.option(
    "--pad-mode",
    type=click.Choice(PAD_MODES + tuple(PAD_ALIASES)),
    help="What the padding holds. [default: replicate for image files, "
    "as photo editors extend edges; zeros for numbers and audio]",
)
pad_value = click.option(
    "--pad-value",
    type=FINITE,
    default=0.0,
    show_default=True,
    help="The value of --pad-mode constant.",
)
correlate = click.option(
    "--correlate", is_flag=True, help="Slide the kernel unflipped, as CNN frameworks do."
)
method = click.option(
    "--method",
    type=click.Choice(METHODS),
    default="auto",
    show_default=True,
    help="auto picks direct, FFT or overlap-add by cost.",
)
normalize = click.option(
    "--normalize",
    is_flag=True,
    help="Audio: peak to full scale. Images: min-max stretch to the range.",
)
to = click.option(
    "--to",
    "to_format",
    type=click.Choice(FORMAT_NAMES),
    help="Output format, when the extension does not say it.",
)
from_ = click.option(
    "--from",
    "from_format",
    type=click.Choice(FORMAT_NAMES),
    help="Input format, when the extension or content does not say it.",
)
precision = click.option(
    "--precision",
    type=click.IntRange(1, 17),
    help="Print numbers as %.Ng instead of their shortest exact form.",
)
_COLOURS = {
    "white": (1.0, 1.0, 1.0),
    "black": (0.0, 0.0, 0.0),
    "grey": (0.5, 0.5, 0.5),
    "gray": (0.5, 0.5, 0.5),
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
}


def _colour(ctx, param, value):
    """A colour as RGB fractions of full scale: a name, ``#rrggbb``, or ``R,G,B`` in 0..255."""
    if value is None:
        return None
    text = value.strip().lower()
    try:
        if text in _COLOURS:
            return _COLOURS[text]
        if text.startswith("#") and len(text) == 7:
            return tuple(int(text[i : i + 2], 16) / 255 for i in (1, 3, 5))
        parts = [float(v) for v in text.split(",")]
        if len(parts) in (1, 3) and all(0 <= v <= 255 for v in parts):
            return tuple(v / 255 for v in parts * (3 // len(parts)))
    except ValueError:
        pass
    raise click.BadParameter(
        f"{value!r} is not a colour: give a name ({', '.join(_COLOURS)}), "
        "#rrggbb, or R,G,B in 0..255"
    )


depth = click.option(
    "--depth",
    type=click.Choice(("8", "16")),
    callback=lambda c, p, v: int(v) if v else None,
    help="Bit depth of the output image (default: the input's).",
)
flatten = click.option(
    "--flatten",
    is_flag=True,
    help="Compose the alpha channel onto --background (for JPEG and other formats without alpha).",
)
background = click.option(
    "--background",
    callback=_colour,
    metavar="COLOUR",
    help="What --flatten composes onto: a name, #rrggbb or R,G,B [default: white].",
)
quality = click.option(
    "--quality",
    type=click.IntRange(1, 100),
    help="JPEG/WebP quality [default: the input JPEG's own, else 92].",
)
jobs = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Files processed in parallel.",
)
rate = click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Sample rate in Hz for FIR kernels when the input is not audio.",
)
bias = click.option(
    "--bias",
    callback=_float_list,
    metavar="B1,B2,...|FILE",
    help="Biases of a filter bank, one per filter.",
)
scheduler = click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="DASK_SCHEDULER_ADDRESS",
    help="Run the files (and the chunks of .zarr arrays) as tasks on the Dask cluster at "
    "ADDRESS (tcp://host:8786; default $DASK_SCHEDULER_ADDRESS). Inputs and outputs must "
    "be on storage every worker reaches.",
)
real = click.option(
    "--real",
    is_flag=True,
    help="Keep the real part of a complex result (audio and images need one).",
)
imag = click.option("--imag", is_flag=True, help="Keep the imaginary part of a complex result.")
absolute = click.option(
    "--abs", "absolute", is_flag=True, help="Take magnitudes (of complex results too)."
)
steps = click.option(
    "--steps",
    is_flag=True,
    help="Show the computation first: the flipped kernel, the padded input, "
    "each output's window, products and sum (at most 64 outputs).",
)
grad = click.option(
    "--grad",
    metavar="DY",
    help="Print dL/dx, dL/dw (and dL/db with --bias) for L = sum(DY * y) instead "
    "of the result. DY: numbers, a file, or 'ones', with the output's "
    "shape. With --steps: the computational graph and the rule.",
)
animate = click.option(
    "--animate",
    metavar="FILE.gif",
    type=click.Path(dir_okay=False),
    help="Write the flipped kernel sliding over the padded input as a GIF, "
    "one frame per output (1-D up to 64 outputs, 2-D up to 16x16).",
)
json_ = click.option(
    "--json", "as_json", is_flag=True, help='With --grad: print {"dx": ..., "dw": ..., "db": ...}.'
)
