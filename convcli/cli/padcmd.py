"""``convcli pad``: MATLAB's padarray from the shell."""

from __future__ import annotations

import click

from ..geometry import PAD_ALIASES, PAD_MODES
from . import main, options


@main.command("pad")
@click.argument("input", metavar="INPUT")
@click.option(
    "--size",
    required=True,
    callback=options.int_list(range(1, 33)),
    metavar="P|R,C[,...]",
    help="Padding per axis; one value pads every axis (an image's rows and columns).",
)
@click.option(
    "--mode",
    "pad_mode",
    type=click.Choice(PAD_MODES + tuple(PAD_ALIASES)),
    default="zeros",
    show_default=True,
    help="What the padding holds.",
)
@click.option(
    "--value",
    type=options.FINITE,
    default=0.0,
    show_default=True,
    help="The value of --mode constant.",
)
@click.option(
    "--direction",
    type=click.Choice(("both", "pre", "post")),
    default="both",
    show_default=True,
    help="Pad before, after, or on both sides.",
)
@options.output
@options.from_
@options.to
@options.precision
@options.scheduler
def pad(
    input, size, pad_mode, value, direction, output, from_format, to_format, precision, scheduler
):
    """Pad a signal, matrix, N-D array or image (MATLAB padarray).

    \b
    Examples:
      echo 1 2 3 | convcli pad - --size 2 --mode symmetric     # 2 1 1 2 3 3 2
      convcli pad matrix.txt --size 1,2 --mode replicate
      convcli pad volume.npy --size 1,1 -o padded.npy          # 5x5x3 -> 7x7x3
      convcli pad photo.png --size 20 --mode reflect -o framed.png
    """
    from ..routes import pad_file
    from ..settings import PadSettings

    pad_file(
        input,
        output,
        PadSettings(size, pad_mode, value, direction, from_format, to_format, precision, scheduler),
    )
