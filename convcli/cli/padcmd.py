"""``convcli pad``: MATLAB's padarray from the shell."""

from __future__ import annotations

import click

from ..geometry import PAD_ALIASES, PAD_MODES
from . import main, options


@main.command("pad")
@click.argument("input", metavar="INPUT")
@click.option("--size", required=True, callback=options.int_list(range(1, 33)),
              metavar="P|R,C[,...]",
              help="Padding per axis; one value pads every axis (an image's rows and columns).")
@click.option("--mode", "pad_mode", type=click.Choice(PAD_MODES + tuple(PAD_ALIASES)),
              default="zeros", show_default=True, help="What the padding holds.")
@click.option("--value", type=float, default=0.0, show_default=True,
              help="The value of --mode constant.")
@click.option("--direction", type=click.Choice(("both", "pre", "post")), default="both",
              show_default=True, help="Pad before, after, or on both sides.")
@options.output
@options.from_
@options.to
@options.precision
def pad(input, size, pad_mode, value, direction, output, from_format, to_format, precision):
    """Pad a signal, matrix, N-D array or image (MATLAB padarray).

    \b
    Examples:
      echo 1 2 3 | convcli pad - --size 2 --mode symmetric     # 2 1 1 2 3 3 2
      convcli pad matrix.txt --size 1,2 --mode replicate
      convcli pad volume.npy --size 1,1 -o padded.npy          # 5x5x3 -> 7x7x3
      convcli pad photo.png --size 20 --mode reflect -o framed.png
    """
    from ..engine import pad as pad_array
    from ..io import formats
    from ..io.pipeline import check_output

    data = formats.read(input, from_format)
    fmt = check_output(data, output, to_format)
    array = data.array
    if data.kind == "image" and len(size) == 1:
        size = size * 2  # rows and columns, never channels
    if data.kind == "audio" and len(size) == 1:
        size = size + (0,)  # frames, never channels
    padded = pad_array(array, size if len(size) > 1 else size[0], pad_mode, value, direction)
    formats.write(data.with_array(padded), output or "-", fmt, precision=precision)
