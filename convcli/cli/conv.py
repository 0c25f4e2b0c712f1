"""``convcli conv1d`` and ``convcli conv2d``."""

from __future__ import annotations

from dataclasses import fields
from functools import partial

import click

from ..settings import ConvSettings
from . import batchopts, main, options
from .batch import output_paths, run_all, split_stores

_SETTINGS = {f.name for f in fields(ConvSettings)}


def _settings(ndim: int, params: dict) -> ConvSettings:
    """The one typed object of the command's options (defaults are ConvSettings')."""
    values = {k: v for k, v in params.items() if k in _SETTINGS and v is not None}
    return ConvSettings(ndim=ndim, **values)


_KINDS = {1: ("audio", "text", "json", "npy"), 2: ("image",)}


def _run(ndim, inputs, params):
    from dataclasses import replace

    from ..routes import convolve_file

    settings = _settings(ndim, params)
    from .lessoncmd import run_lesson

    if run_lesson(settings, inputs, params):  # --grad did the job (--animate goes on)
        return
    pairs = output_paths(
        inputs,
        params["output"],
        settings.to_format,
        recursive=params["recursive"],
        in_place=params["in_place"],
        no_clobber=params["no_clobber"],
        kinds=_KINDS[ndim],
    )
    if settings.scheduler:
        stores, files = split_stores(pairs)
        # a file is one task (whose own pieces then run on the worker); a store's chunks
        # are the tasks, submitted from here
        run_all(
            partial(convolve_file, settings=replace(settings, scheduler=None)),
            files,
            scheduler=settings.scheduler,
        )
        pairs = stores

    def job(path, out):
        convolve_file(path, out, settings, show_steps=lambda text: click.echo(text, nl=False))

    run_all(job, pairs, params["jobs"])


def _shared(f):
    for option in reversed(
        [
            options.inputs,
            options.kernel,
            options.output,
        ]
    ):
        f = option(f)
    return f


def _common(f):
    for option in reversed(
        [
            options.pad_mode,
            options.pad_value,
            options.correlate,
            options.method,
            options.normalize,
            options.from_,
            options.to,
            options.precision,
            options.rate,
            options.jobs,
            batchopts.recursive,
            batchopts.no_clobber,
            batchopts.in_place,
            options.scheduler,
            options.steps,
            options.grad,
            options.animate,
            options.json_,
            options.real,
            options.imag,
        ]
    ):
        f = option(f)
    return f


@main.command()
@_shared
@options.mode(1)
@click.option(
    "--pad",
    callback=options.int_list((1, 2)),
    metavar="P|BEFORE,AFTER",
    help="Explicit padding, then a valid convolution (as in a CNN layer).",
)
@click.option(
    "--stride",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Keep every S-th output.",
)
@click.option(
    "--dilation",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Space kernel taps D apart.",
)
@_common
@click.option("--subtype", help="Audio sample format of the output, e.g. PCM_16, PCM_24, FLOAT.")
@options.absolute
def conv1d(inputs, **params):
    """Convolve 1-D signals: numbers, audio files, columns of a matrix.

    Default --mode full. A 1-D kernel filters every channel; a kernel with C
    columns (a stereo impulse response) gives each channel its own.

    \b
    Examples:
      echo 0 1 2 3 4 | convcli conv1d - -k 1,-1,2            # 0 1 1 3 5 2 8
      convcli conv1d signal.txt -k 1,-1,2 --mode valid
      convcli conv1d data.txt -k box:5 --mode same --pad-mode replicate
      convcli conv1d melody.wav -k room-ir.wav -o reverb.wav --normalize
      convcli conv1d speech.wav -k lowpass:cutoff=1000 -o muffled.wav
      convcli conv1d *.wav -k echo:delay=0.3,decay=0.5 -o out/ -j 2
      echo 0 1 2 3 4 | convcli conv1d - -k 1,-1,2 --grad ones --steps   # the graph, dL/dx, dL/dw
      echo 0 1 2 3 4 | convcli conv1d - -k 1,-1,2 --steps --animate slide.gif
    """
    _run(1, inputs, params)


@main.command()
@_shared
@options.mode(2)
@click.option(
    "--pad",
    callback=options.int_list((1, 2, 4)),
    metavar="P|R,C|T,B,L,R",
    help="Explicit padding, then a valid convolution (as in a CNN layer).",
)
@click.option(
    "--stride",
    callback=options.int_list((1, 2), minimum=1),
    default="1",
    metavar="S|R,C",
    help="Keep every S-th row and column.  [default: 1]",
)
@click.option(
    "--dilation",
    callback=options.int_list((1, 2), minimum=1),
    default="1",
    metavar="D|R,C",
    help="Space kernel taps D apart.  [default: 1]",
)
@_common
@options.bias
@click.option(
    "--layout",
    type=click.Choice(("oihw", "hwio")),
    default="oihw",
    show_default=True,
    help="Axis order of a 4-D filter bank: (K,C,kh,kw) or TensorFlow's (kh,kw,C,K).",
)
@options.quality
@options.depth
@options.flatten
@options.background
@click.option("--gray", is_flag=True, help="Convert images to grayscale first.")
@click.option("--abs", "absolute", is_flag=True, help="Take magnitudes (edge detectors).")
@click.option(
    "--offset",
    type=options.FINITE,
    default=0.0,
    help="Add V to the result (e.g. 128 for signed filters on 8-bit images).",
)
def conv2d(inputs, **params):
    """Convolve images and matrices (an image filter keeps its size: --mode same).

    A 2-D kernel filters every channel; a 4-D filter bank (K,C,kh,kw) is a CNN
    layer giving K output channels (--bias, --layout hwio).

    \b
    Examples:
      convcli conv2d photo.png -k gaussian:sigma=3 -o blur.png
      convcli conv2d photo.png -k sobel-x --abs --gray -o edges.png
      convcli conv2d photo.jpg -k sharpen -o sharp.jpg
      convcli conv2d matrix.txt -k "1 2 1; 0 0 0; -1 -2 -1" --mode valid
      convcli conv2d image.npy -k bank.npy --bias 0.1,0 --stride 2 --pad 1 --correlate -o y.npy
      convcli conv2d photos/*.jpg -k box:5 -o small/ -j 2
      convcli conv2d volume.npy -k bank.npy --stride 2 --pad 1 --correlate --grad ones --json
    """
    _run(2, inputs, params)
