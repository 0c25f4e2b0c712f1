"""``convcli outsize``: the output shape of a layer, or a table of a whole network."""

from __future__ import annotations

import json

import click

from ..errors import ShapeError
from ..geometry import MODES, axes, check_nonempty, per_axis, transposed_length
from ..layers import shape_text
from ..settings import check_padding
from . import main, options

_NAMES = {1: ("length",), 2: ("rows", "cols")}
_UNITS = {"length": "sample", "rows": "row", "cols": "column"}


def _shape(ctx, param, value):
    if value is None:
        return None
    try:
        dims = tuple(int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not N, HxW or HxWxC") from None
    if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
        raise click.BadParameter(f"{value!r} is not N, HxW or HxWxC of positive sizes")
    return dims


def _explain(ax, name: str) -> str:
    f = ax.ke
    if ax.before == ax.after:
        symbolic, pad_text = "(W - F + 2P)/S + 1", f"2*{ax.before}"
    else:
        symbolic, pad_text = "(W - F + P1 + P2)/S + 1", f"{ax.before} + {ax.after}"
    numbers = f"({ax.n} - {f} + {pad_text})/{ax.stride} + 1"
    exact = (ax.span - f) / ax.stride + 1
    value = f"{ax.length}" if exact == ax.length else f"floor({exact:g}) = {ax.length}"
    dilated = f" (F = {ax.dilation}*({ax.k}-1)+1)" if ax.dilation > 1 else ""
    return f"{name}: {symbolic} = {numbers} = {value}{dilated}"


def _one_layer(shape, kernel, stride, pad, mode, dilation, filters, transposed, output_padding):
    """Geometry of one layer: (output shape, axes or None, padding pairs)."""
    nd = 1 if len(shape) == 1 else 2
    spatial, channels = shape[:nd], shape[nd:]
    if len(kernel) not in (1, nd):
        raise click.BadParameter(f"a {nd}-D input needs a kernel of 1 or {nd} sizes",
                                 param_hint="--kernel")
    if transposed:
        if mode:
            raise click.UsageError("--transposed takes --pad, not --mode")
        pads = per_axis(pad or (0,), nd, "--pad")
        k, s, d = (per_axis(v, nd, n) for v, n in
                   ((kernel, "--kernel"), (stride, "--stride"), (dilation, "--dilation")))
        op = per_axis(output_padding, nd, "--output-padding")
        out = tuple(transposed_length(spatial[i], k[i], s[i], pads[i], d[i], op[i])
                    for i in range(nd))
        geometry = None
    else:
        geometry = axes(spatial, kernel, mode or ("valid" if pad is None else None), pad=pad,
                        stride=stride, dilation=dilation)
        check_nonempty(geometry)
        out = tuple(ax.length for ax in geometry)
    if filters:
        channels = (filters,)
    return out + tuple(channels), geometry


def _network(shape, layers, as_json):
    from ..layers import parse_network, plan

    if len(shape) == 1:
        raise click.BadParameter("a network needs an image input, HxW or HxWxC",
                                 param_hint="--input")
    infos = plan(shape, parse_network(layers))
    total = sum(i.params for i in infos)
    if as_json:
        rows = [{"layer": i.spec.text, "output_shape": list(i.output_shape), "params": i.params,
                 "receptive_field": _field(i.receptive_field)} for i in infos]
        click.echo(json.dumps({"input_shape": list(shape) + [1] * (3 - len(shape)),
                               "layers": rows, "total_params": total,
                               "output_shape": list(infos[-1].output_shape)}))
        return
    width = max(len("layer"), *(len(i.spec.text) for i in infos))
    click.echo(f"{'layer':<{width}}  {'output':>12}  {'params':>9}  {'receptive field':>15}")
    click.echo(f"{'input':<{width}}  {shape_text(shape):>12}  {0:>9,}  {1:>15}")
    for i in infos:
        rf = _field(i.receptive_field)
        rf = shape_text(rf) if isinstance(rf, list) else rf
        click.echo(f"{i.spec.text:<{width}}  {shape_text(i.output_shape):>12}  {i.params:>9,}"
                   f"  {rf:>15}")
    click.echo(f"total: {total:,} parameters, output {shape_text(infos[-1].output_shape)}")


def _field(rf):
    return rf[0] if len(set(rf)) == 1 else list(rf)


@main.command()
@click.argument("layers", nargs=-1, metavar="[LAYER]...")
@click.option("--input", "shape", required=True, callback=_shape, metavar="N|HxW|HxWxC",
              help="Input size (rows x cols x channels).")
@click.option("--kernel", callback=options.int_list((1, 2), minimum=1), metavar="K|KHxKW",
              help="Kernel size (one layer).")
@click.option("--stride", callback=options.int_list((1, 2), minimum=1), default="1",
              metavar="S|R,C", help="Stride.  [default: 1]")
@click.option("--pad", callback=options.int_list((1, 2, 4)), metavar="P|R,C|T,B,L,R",
              help="Explicit padding (default 0: valid).")
@click.option("--mode", type=click.Choice(MODES), help="Implicit padding instead of --pad.")
@click.option("--dilation", callback=options.int_list((1, 2), minimum=1), default="1",
              metavar="D|R,C", help="Dilation.  [default: 1]")
@click.option("--filters", type=click.IntRange(min=1), help="Output channels (a filter bank).")
@click.option("--transposed", is_flag=True, help="Transposed convolution (PyTorch's formula).")
@click.option("--output-padding", callback=options.int_list((1, 2)), default="0", metavar="P",
              help="Extra size on one side of a transposed convolution.")
@click.option("--explain", is_flag=True, help="Show the formula with the numbers in it.")
@click.option("--strict", is_flag=True, help="A stride that does not tile the input is an error.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def outsize(layers, shape, kernel, stride, pad, mode, dilation, filters, transposed,
            output_padding, explain, strict, as_json):
    """Print the output size of a convolution layer, or of a whole network.

    \b
    Examples:
      convcli outsize --input 5 --kernel 3                     # 3
      convcli outsize --input 5x5x3 --kernel 3 --stride 2 --pad 1 --filters 2   # 3x3x2
      convcli outsize --input 32x32 --kernel 5 --explain
      convcli outsize --input 28x28x1 conv:k=5,n=6,p=2 relu maxpool:k=2 \\
          conv:k=5,n=16 relu maxpool:k=2 fc:n=120 relu fc:n=84 relu fc:n=10
    """
    if layers:
        _network(shape, layers, as_json)
        return
    if kernel is None:
        raise click.UsageError("give --kernel (one layer) or LAYER specs (a network)")
    check_padding(pad, mode)
    out, geometry = _one_layer(shape, kernel, stride, pad, mode, dilation, filters, transposed,
                               output_padding)
    names = _NAMES[1 if len(shape) == 1 else 2]
    uncovered = [ax.uncovered for ax in geometry] if geometry else []
    for name, gap, ax in zip(names, uncovered, geometry or []):
        if gap:
            unit = _UNITS[name] if gap == 1 else _UNITS[name] + "s"
            verb = "is" if gap == 1 else "are"
            message = (f"stride {ax.stride} does not tile the padded input: the last {gap} "
                       f"{unit} {verb} never covered")
            if strict:
                raise ShapeError(message)
            click.echo(f"Warning: {message}", err=True)
    if as_json:
        report = {"output_shape": list(out), "input_shape": list(shape)}
        if geometry:
            report.update(kernel=[ax.k for ax in geometry], stride=[ax.stride for ax in geometry],
                          padding=[[ax.before, ax.after] for ax in geometry],
                          dilation=[ax.dilation for ax in geometry], uncovered=uncovered)
        click.echo(json.dumps(report))
        return
    if explain and geometry:
        for name, ax in zip(names, geometry):
            click.echo(_explain(ax, name))
    click.echo(shape_text(out))
