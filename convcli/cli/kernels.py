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
def show(spec, dims, rate, precision, as_json):
    """Print the kernel SPEC as text (rows of numbers).

    \b
    Examples:
      convcli kernels show sobel-x
      convcli kernels show gaussian:sigma=1,size=5 --precision 4
    """
    from ..io.arrays import format_json, format_text
    from ..kernels import make

    k = make(spec, dims, rate)
    click.echo(format_json(k, precision) if as_json else format_text(k, "row", precision), nl=False)
