"""``convcli outsize``: the output shape of a layer, or a table of a whole network."""

from __future__ import annotations

import math

import click

from ..errors import ShapeError
from ..geometry import MODES, axes, check_nonempty, per_axis, transposed_length
from ..layerspec import GRAMMAR, shape_text
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
        raise click.BadParameter(
            f"a {nd}-D input needs a kernel of 1 or {nd} sizes", param_hint="--kernel"
        )
    if transposed:
        if mode:
            raise click.UsageError("--transposed takes --pad, not --mode")
        pads = per_axis(pad or (0,), nd, "--pad")
        k, s, d = (
            per_axis(v, nd, n)
            for v, n in ((kernel, "--kernel"), (stride, "--stride"), (dilation, "--dilation"))
        )
        op = per_axis(output_padding, nd, "--output-padding")
        out = tuple(
            transposed_length(spatial[i], k[i], s[i], pads[i], d[i], op[i]) for i in range(nd)
        )
        geometry = None
    else:
        geometry = axes(
            spatial,
            kernel,
            mode or ("valid" if pad is None else None),
            pad=pad,
            stride=stride,
            dilation=dilation,
        )
        check_nonempty(geometry)
        out = tuple(ax.length for ax in geometry)
    if filters:
        channels = (filters,)
    return out + tuple(channels), geometry


def _bytes(n: int) -> str:
    """Bytes in decimal units, as torchinfo prints its MB."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _network_json(shape, infos):
    rows = [
        {
            "layer": i.spec.text,
            "output_shape": list(i.output_shape),
            "params": i.params,
            "receptive_field": _field(i.receptive_field),
            "macs": i.macs,
            "activation_bytes": i.activation_bytes,
        }
        for i in infos
    ]
    import json  # only when JSON is asked for: start-up stays light

    return json.dumps(
        {
            "input_shape": list(shape) + [1] * (3 - len(shape)) * (len(shape) > 1),
            "layers": rows,
            "total_params": sum(i.params for i in infos),
            "total_macs": sum(i.macs for i in infos),
            "total_activation_bytes": sum(i.activation_bytes for i in infos),
            "output_shape": list(infos[-1].output_shape),
        }
    )


def _network(shape, layers, as_json):
    from ..layerspec import parse_network, plan

    infos = plan(shape, parse_network(layers))
    if as_json:
        click.echo(_network_json(shape, infos))
        return
    width = max(len("layer"), *(len(i.spec.text) for i in infos))
    click.echo(
        f"{'layer':<{width}}  {'output':>12}  {'params':>9}  {'MACs':>11}  "
        f"{'memory':>8}  {'receptive field':>15}"
    )
    click.echo(
        f"{'input':<{width}}  {shape_text(shape):>12}  {0:>9,}  {0:>11,}  "
        f"{_bytes(4 * math.prod(shape)):>8}  {1:>15}"
    )
    for i in infos:
        rf = _field(i.receptive_field)
        rf = shape_text(rf) if isinstance(rf, list) else rf
        click.echo(
            f"{i.spec.text:<{width}}  {shape_text(i.output_shape):>12}  {i.params:>9,}"
            f"  {i.macs:>11,}  {_bytes(i.activation_bytes):>8}  {rf:>15}"
        )
    total = sum(i.params for i in infos)
    click.echo(
        f"total: {total:,} parameters, {sum(i.macs for i in infos):,} MACs, "
        f"{_bytes(sum(i.activation_bytes for i in infos))} of activations (float32), "
        f"output {shape_text(infos[-1].output_shape)}"
    )


def _field(rf):
    return rf[0] if len(set(rf)) == 1 else list(rf)


@main.command(epilog="\b\nLAYER specs:\n" + GRAMMAR)
@click.argument("layers", nargs=-1, metavar="[LAYER]...")
@click.option(
    "--input",
    "shape",
    required=True,
    callback=_shape,
    metavar="N|HxW|HxWxC",
    help="Input size (rows x cols x channels).",
)
@click.option(
    "--kernel",
    callback=options.int_list((1, 2), minimum=1),
    metavar="K|KHxKW",
    help="Kernel size (one layer).",
)
@click.option(
    "--stride",
    callback=options.int_list((1, 2), minimum=1),
    default="1",
    metavar="S|R,C",
    help="Stride.  [default: 1]",
)
@click.option(
    "--pad",
    callback=options.int_list((1, 2, 4)),
    metavar="P|R,C|T,B,L,R",
    help="Explicit padding (default 0: valid).",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="Implicit padding instead of --pad: full gives n+k-1 samples, same n, "
    "valid n-k+1 (at stride 1).",
)
@click.option(
    "--dilation",
    callback=options.int_list((1, 2), minimum=1),
    default="1",
    metavar="D|R,C",
    help="Dilation.  [default: 1]",
)
@click.option(
    "--filters",
    type=click.IntRange(min=1),
    help="Number of filters: the depth (channels) of the output (--explain also "
    "prints the layer's parameters).",
)
@click.option("--transposed", is_flag=True, help="Transposed convolution (PyTorch's formula).")
@click.option(
    "--output-padding",
    callback=options.int_list((1, 2)),
    default="0",
    metavar="P",
    help="Extra size on one side of a transposed convolution.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show the formula with the numbers in it, and the parameter count.",
)
@click.option("--strict", is_flag=True, help="A stride that does not tile the input is an error.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def outsize(
    layers,
    shape,
    kernel,
    stride,
    pad,
    mode,
    dilation,
    filters,
    transposed,
    output_padding,
    explain,
    strict,
    as_json,
):
    """Print the output size of a convolution layer, or of a whole network.

    One layer: rows x cols x depth, (W - F + 2P)/S + 1 per axis. A network (LAYER
    specs) prints a table: each layer's output, parameters, multiply-accumulates
    (MACs), activation memory (float32) and receptive field (the input pixels one
    output sees), with totals. An --input of one number is a vector, for fc layers.

    \b
    Examples:
      convcli outsize --input 5 --kernel 3                     # 3
      convcli outsize --input 5x5x3 --kernel 3 --stride 2 --pad 1 --filters 2   # 3x3x2
      convcli outsize --input 32x32 --kernel 5 --explain
      convcli outsize --input 28x28x1 conv:k=5,n=6,p=2 relu maxpool:k=2 \\
          conv:k=5,n=16 relu maxpool:k=2 fc:n=120 relu fc:n=84 relu fc:n=10
      convcli outsize --input 784 fc:n=128 relu fc:n=10 softmax
    """
    if layers:
        _network(shape, layers, as_json)
        return
    if kernel is None:
        raise click.UsageError("give --kernel (one layer) or LAYER specs (a network)")
    check_padding(pad, mode)
    out, geometry = _one_layer(
        shape, kernel, stride, pad, mode, dilation, filters, transposed, output_padding
    )
    _warn_uncovered(geometry, _NAMES[1 if len(shape) == 1 else 2], strict)
    params, what = _params(shape, kernel, filters)
    if as_json:
        report = {"output_shape": list(out), "input_shape": list(shape), "params": params}
        if geometry:
            report.update(
                kernel=[ax.k for ax in geometry],
                stride=[ax.stride for ax in geometry],
                padding=[[ax.before, ax.after] for ax in geometry],
                dilation=[ax.dilation for ax in geometry],
                uncovered=[ax.uncovered for ax in geometry],
            )
        import json  # only when JSON is asked for: start-up stays light

        click.echo(json.dumps(report))
        return
    if explain and geometry:
        for name, ax in zip(_NAMES[1 if len(shape) == 1 else 2], geometry):
            click.echo(_explain(ax, name))
    click.echo(shape_text(out))  # one line alone, for size=$(convcli outsize ...)
    if explain:
        click.echo(f"{params:,} parameters: {what}")


def _warn_uncovered(geometry, names, strict) -> None:
    """A stride that leaves samples at the end uncovered: a warning, or with --strict an error."""
    for name, ax in zip(names, geometry or []):
        gap = ax.uncovered
        if gap:
            unit = _UNITS[name] if gap == 1 else _UNITS[name] + "s"
            verb = "is" if gap == 1 else "are"
            message = (
                f"stride {ax.stride} does not tile the padded input: the last {gap} "
                f"{unit} {verb} never covered"
            )
            if strict:
                raise ShapeError(message)
            click.echo(f"Warning: {message}", err=True)


def _params(shape, kernel, filters):
    """(count, description) of one layer's parameters.

    With --filters K, a CNN layer: K filters of kh x kw x C weights and K biases.
    Without, one kernel that filters every channel alike, no bias.
    """
    nd = 1 if len(shape) == 1 else 2
    taps = per_axis(kernel, nd, "--kernel")
    channels = shape[nd] if len(shape) > nd else 1
    size = math.prod(taps)
    if not filters:
        return size, f"one {shape_text(taps)} kernel"
    weights = shape_text(taps + ((channels,) if len(shape) > nd else ()))
    plural = "s" if filters > 1 else ""
    return (
        filters * channels * size + filters,
        f"{filters} filter{plural} of {weights} weights + {filters} bias{'es' * bool(plural)}",
    )
