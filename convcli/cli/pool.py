"""``convcli pool``: max or average pooling of signals, matrices and images."""

from __future__ import annotations

from functools import partial

import click

from . import batchopts, main, options
from .batch import output_paths, run_all


@main.command("pool")
@options.inputs
@click.option(
    "--size",
    required=True,
    callback=options.int_list((1, 2), minimum=1),
    metavar="K|R,C",
    help="Window length (rows,cols for matrices and images).",
)
@click.option(
    "--stride",
    callback=options.int_list((1, 2), minimum=1),
    metavar="S|R,C",
    help="Step between windows.  [default: the window]",
)
@click.option(
    "--pad",
    callback=options.int_list((1, 2)),
    default="0",
    metavar="P|R,C",
    help="Padding on both sides, at most half the window (max pads -inf, avg "
    "zeros that count in the mean).  [default: 0]",
)
@click.option("--ceil", is_flag=True, help="Round the output size up (PyTorch's ceil_mode).")
@click.option(
    "--op",
    type=click.Choice(("max", "avg")),
    default="max",
    show_default=True,
    help="Maximum or average of each window.",
)
@click.option(
    "--steps", is_flag=True, help="Show each window and its result first (at most 64 outputs)."
)
@options.output
@options.from_
@options.to
@options.precision
@click.option("--gray", is_flag=True, help="Convert images to grayscale first.")
@options.jobs
@batchopts.recursive
@batchopts.no_clobber
@batchopts.in_place
@options.scheduler
def pool(inputs, **s):
    """Max or average pooling of signals, matrices and images, each channel alone.

    Sizes follow PyTorch's MaxPool/AvgPool (the formula outsize uses for
    maxpool:/avgpool:): floor((n + 2P - K)/S) + 1, or ceil with --ceil.

    \b
    Examples:
      echo 1 3 2 5 4 6 | convcli pool - --size 2                 # 3 5 6
      echo 1 3 2 5 4 | convcli pool - --size 2 --pad 1 --op avg  # 0.5 2.5 4.5
      convcli pool matrix.txt --size 2 --stride 1 --steps
      convcli pool photo.png --size 4 --op avg -o small.png
      convcli pool photos/*.png --size 2 -o pooled/ -j 2
    """
    from ..routes import pool_file
    from ..settings import PoolSettings

    settings = PoolSettings(
        s["size"],
        s["stride"],
        s["pad"],
        s["ceil"],
        s["op"],
        s["gray"],
        s["from_format"],
        s["to_format"],
        s["precision"],
    )

    pairs = output_paths(
        inputs,
        s["output"],
        s["to_format"],
        recursive=s["recursive"],
        in_place=s["in_place"],
        no_clobber=s["no_clobber"],
        kinds=("image",),
    )
    job = partial(pool_file, settings=settings)
    if s["scheduler"]:
        run_all(job, pairs, scheduler=s["scheduler"])
        return
    show = (lambda text: click.echo(text, nl=False)) if s["steps"] else None
    run_all(partial(job, show_steps=show), pairs, s["jobs"])
