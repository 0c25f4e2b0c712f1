"""``convcli pool``: max or average pooling of signals, matrices and images."""

from __future__ import annotations

from dataclasses import replace

import click

from . import main, options
from .batch import output_paths, run_all


def _pooled_axes(data, size) -> int:
    """1 for signals (a row, a column, audio, a 1-D array), else 2 (rows and columns)."""
    array = data.array
    one = data.kind == "audio" or array.ndim == 1
    if one and len(size) == 2:
        raise click.BadParameter(f"{data.name} is a signal: give one --size, not two",
                                 param_hint="--size")
    return 1 if one else 2


def _pooled(data, s):
    """The pooled result as a Data of the input's kind; ``--steps`` text goes first."""
    from ..engine.pool import pool

    nd = _pooled_axes(data, s["size"])
    settings = {"stride": s["stride"], "pad": s["pad"], "ceil": s["ceil"], "op": s["op"]}
    x, alpha = data.array, None
    if data.kind == "image":
        from ..io.image import split_alpha

        x, alpha = split_alpha(data.array, data.image)  # alpha is pooled alongside, unmixed
    if s["steps"]:
        from ..steps import pool_steps

        click.echo(pool_steps(x, s["size"], ndim=nd, precision=s["precision"], **settings),
                   nl=False)
    y = pool(x, s["size"], ndim=nd, **settings)
    if data.kind == "audio":  # one frame per window: the rate falls by the stride, time stays
        step = (s["stride"] or s["size"])[0]
        return replace(data, array=y, sample_rate=max(1, round(data.sample_rate / step)))
    if data.kind != "image":
        return data.with_array(y)
    from ..io.image import finish_image

    a = None if alpha is None else pool(alpha, s["size"], ndim=2, **settings)
    return finish_image(data, y, a, {})


def _job(s):
    """The work for one input: read, pool, write."""

    def job(path, out):
        from ..io import formats
        from ..io.pipeline import check_output

        data = formats.read(path, s["from_format"], gray=s["gray"])
        fmt = check_output(data, out, s["to_format"])
        formats.write(_pooled(data, s), out or "-", fmt, precision=s["precision"])

    return job


@main.command("pool")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--size", required=True, callback=options.int_list((1, 2), minimum=1),
              metavar="K|R,C", help="Window length (rows,cols for matrices and images).")
@click.option("--stride", callback=options.int_list((1, 2), minimum=1), metavar="S|R,C",
              help="Step between windows.  [default: the window]")
@click.option("--pad", callback=options.int_list((1, 2)), default="0", metavar="P|R,C",
              help="Padding on both sides, at most half the window (max pads -inf, avg "
                   "zeros that count in the mean).  [default: 0]")
@click.option("--ceil", is_flag=True, help="Round the output size up (PyTorch's ceil_mode).")
@click.option("--op", type=click.Choice(("max", "avg")), default="max", show_default=True,
              help="Maximum or average of each window.")
@click.option("--steps", is_flag=True,
              help="Show each window and its result first (at most 64 outputs).")
@options.output
@options.from_
@options.to
@options.precision
@click.option("--gray", is_flag=True, help="Convert images to grayscale first.")
@options.jobs
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
    k, p = s["size"] * (2 // len(s["size"])), s["pad"] * (2 // len(s["pad"]))  # per axis
    for ki, pi in zip(k, p):
        if pi > ki // 2:
            raise click.BadParameter(f"{pi} is more than half the window {ki}", param_hint="--pad")
    outputs = output_paths(inputs, s["output"], s["to_format"])
    run_all(_job(s), list(inputs), outputs, s["jobs"])
