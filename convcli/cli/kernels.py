"""``convcli kernels``: list the named kernels, or print one."""

from __future__ import annotations

import click

from . import main, options


@main.group(invoke_without_command=True)
@click.pass_context
def kernels(ctx):
    """List the named kernels (use them as -k NAME[:key=value,...]).

    \b
    Examples:
      convcli kernels
      convcli kernels show gaussian:sigma=1
      convcli kernels show box:5 --dims 1
      convcli kernels show lowpass:cutoff=1000,taps=31 --rate 8000
    """
    if ctx.invoked_subcommand is None:
        from ..kernels import KERNELS

        width = max(len(n) for n in KERNELS)
        for name, k in KERNELS.items():
            spec = f"{name}:{k.params}" if k.params else name
            click.echo(f"{spec:<{width + 26}} {k.dims:<9} {k.summary}")


@kernels.command()
@click.argument("spec")
@click.option("--dims", type=click.IntRange(1, 2), help="1-D or 2-D form (default: 2-D if any).")
@options.rate
@options.precision
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Save the kernel instead of printing it: .txt, .json, .npy, .wav (with "
    "--rate, 32-bit float) or .png (stretched to 0-255 grey).",
)
@click.option(
    "--plot",
    metavar="FILE.png",
    help="Draw it: a 2-D kernel as an image, a 1-D one "
    "as its taps and, with --rate, its frequency response in dB.",
)
def show(spec, dims, rate, precision, as_json, output, plot):
    """Print the kernel SPEC as text (rows of numbers), save it, or draw it.

    \b
    Examples:
      convcli kernels show sobel-x
      convcli kernels show gaussian:sigma=1,size=5 --precision 4
      convcli kernels show gaussian:sigma=2 -o blur.npy
      convcli kernels show lowpass:cutoff=1000,taps=101 --rate 8000 -o lp.wav --plot lp.png
    """
    from ..io.arrays import format_json, format_text
    from ..kernels import make

    k = make(spec, dims, rate)
    if plot:
        from ..io.plots import kernel_plot

        kernel_plot(plot, k, spec, rate if k.ndim == 1 else None)
    if output:
        _save(k, output, rate, precision)
    if not (plot or output):
        click.echo(
            format_json(k, precision) if as_json else format_text(k, "row", precision), nl=False
        )


def _save(k, path, rate, precision):
    """The kernel as a file whose format the extension names."""
    import numpy as np

    from ..io import files, registry
    from ..io.data import Data

    fmt = registry.by_extension(path)
    kind = registry.kind_of(fmt) if fmt else None
    if kind not in ("text", "json", "npy", "audio", "image"):
        raise click.BadParameter(
            f"{path}: give a .txt, .json, .npy, .wav or .png name", param_hint="-o"
        )
    data = Data(k, fmt, path)
    if kind == "audio":
        if k.ndim != 1 or not rate:
            raise click.UsageError("an audio kernel is 1-D and needs --rate (and --dims 1)")
        data = Data(k, fmt, path, sample_rate=int(rate), subtype="FLOAT")
    elif kind == "image":
        lo, hi = float(k.min()), float(k.max())
        grey = (k - lo) * (255 / (hi - lo)) if hi > lo else np.full_like(k, 255.0)
        data = Data(np.atleast_2d(grey), fmt, path, image={"format": "uchar", "max": 255})
    files.write(data, path, fmt, precision=precision)
