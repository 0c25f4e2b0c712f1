"""Layer specs (``conv:k=5,n=6,p=2``) and what they give: shapes, parameters, MACs.

Read by ``outsize`` and by the CNN (``convcli.nn.model``).

Pure Python, like :mod:`convcli.geometry`, whose functions compute every size here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import ShapeError, SpecError
from .geometry import axes, check_nonempty, pool_length, transposed_length

# kind -> (allowed keys, required keys)
KINDS = {
    "conv": ({"k", "n", "s", "p", "d", "bias"}, {"k", "n"}),
    "convT": ({"k", "n", "s", "p", "op", "d", "bias"}, {"k", "n"}),
    "maxpool": ({"k", "s", "p", "ceil"}, {"k"}),
    "avgpool": ({"k", "s", "p", "ceil"}, {"k"}),
    "globalavgpool": (set(), set()),
    "fc": ({"n", "bias"}, {"n"}),
    "dropout": ({"p"}, set()),
    "batchnorm": (set(), set()),
    "relu": (set(), set()),
    "tanh": (set(), set()),
    "sigmoid": (set(), set()),
    "softmax": (set(), set()),
    "flatten": (set(), set()),
}
GRAMMAR = """\
conv:k=K[xK],n=N[,s=S][,p=P|same][,d=D][,bias=false]  convolution, N filters
convT:k=K,n=N[,s=S][,p=P][,op=P][,d=D][,bias=false]   transposed convolution
maxpool:k=K[,s=K][,p=P][,ceil]    avgpool:...         pooling (PyTorch's sizes)
globalavgpool                                         the mean of each channel
fc:n=N[,bias=false]                                   fully connected, N outputs
dropout:p=0.5  batchnorm  relu  tanh  sigmoid  softmax  flatten"""
PRESETS = {
    "tiny": "conv:k=5,n=12,p=2 relu maxpool:k=2 conv:k=5,n=24,p=2 relu maxpool:k=2 "
    "flatten dropout:p=0.3 fc:n=10",
    "lenet5": "conv:k=5,n=6,p=2 relu maxpool:k=2 conv:k=5,n=16 relu maxpool:k=2 "
    "fc:n=120 relu fc:n=84 relu fc:n=10",
}


@dataclass(frozen=True)
class LayerSpec:
    kind: str
    params: dict = field(default_factory=dict)
    text: str = ""

    def pair(self, key: str, default=None) -> tuple:
        """A per-axis value such as ``k=5`` or ``k=5x3`` as a tuple of two ints."""
        value = self.params.get(key, default)
        if value is None:
            return None
        return value if isinstance(value, tuple) else (value, value)

    def number(self, key: str, default=None):
        return self.params.get(key, default)


def _value(spec: str, key: str, raw: str):
    if key == "bias":
        if raw.lower() not in ("false", "true", "0", "1"):
            raise SpecError(f"{spec}: bias={raw} must be true or false")
        return raw.lower() in ("true", "1")
    if key == "p" and raw.lower() == "same" and not spec.startswith("dropout"):
        return "same"
    try:
        if key == "p" and spec.startswith("dropout"):
            return float(raw)
        parts = tuple(int(v) for v in raw.lower().split("x"))
    except ValueError:
        raise SpecError(f"{spec}: {key}={raw} is not a number") from None
    if any(v < 0 for v in parts) or (key != "p" and key != "op" and any(v < 1 for v in parts)):
        raise SpecError(f"{spec}: {key}={raw} is out of range")
    if len(parts) > 2:
        raise SpecError(f"{spec}: {key}={raw} has more than two axes")
    return parts[0] if len(parts) == 1 else parts


def parse_layer(text: str) -> LayerSpec:
    """``'maxpool:k=2,ceil'`` -> ``LayerSpec('maxpool', {'k': 2, 'ceil': True})``."""
    name, _, rest = text.strip().partition(":")
    kind = {k.lower(): k for k in KINDS}.get(name.lower())
    if kind is None:
        raise SpecError(f"unknown layer {name!r}; expected one of {', '.join(KINDS)}")
    allowed, required = KINDS[kind]
    params = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if key not in allowed:
            raise SpecError(f"{text}: unknown key {key!r} (takes {', '.join(sorted(allowed))})")
        params[key] = _value(text, key, raw.strip()) if eq else True
    missing = required - set(params)
    if missing:
        raise SpecError(f"{text}: missing {', '.join(sorted(k + '=' for k in missing))}")
    if kind == "dropout" and not 0 <= params.get("p", 0.5) < 1:
        raise SpecError(f"{text}: p must be in [0, 1)")
    if params.get("p") == "same" and (kind != "conv" or params.get("s", 1) not in (1, (1, 1))):
        raise SpecError(f"{text}: p=same needs a conv layer of stride 1 (as in PyTorch)")
    return LayerSpec(kind, params, text.strip())


def parse_network(texts) -> list[LayerSpec]:
    """Layer specs from words (or one preset name: ``tiny``, ``lenet5``)."""
    texts = list(texts)
    if len(texts) == 1 and texts[0] in PRESETS:
        texts = PRESETS[texts[0]].split()
    elif len(texts) == 1 and " " in texts[0].strip():
        texts = texts[0].split()
    if not texts:
        raise SpecError("no layers given")
    return [parse_layer(t) for t in texts]


@dataclass
class LayerInfo:
    """One layer of a planned network: shapes (H, W, C) or (features,), and its costs.

    ``macs`` counts multiply-accumulates as torchinfo does (a conv layer's parameters
    times its output positions, an fc layer's parameters); ``activation_bytes`` is
    the output's size in float32.
    """

    spec: LayerSpec
    input_shape: tuple
    output_shape: tuple
    params: int
    receptive_field: tuple
    jump: tuple
    macs: int = 0

    @property
    def activation_bytes(self) -> int:
        return 4 * math.prod(self.output_shape)


def same_padding(k: int, d: int = 1) -> tuple[int, int]:
    """PyTorch's ``padding='same'`` for stride 1: the odd sample goes after."""
    total = d * (k - 1)
    return total // 2, total - total // 2


def _conv_shape(spec, spatial, channels):
    """(output shape, parameters, MACs) of a conv or convT layer."""
    k = spec.pair("k")
    s, d = spec.pair("s", 1), spec.pair("d", 1)
    n_out = spec.number("n")
    if spec.kind == "convT":
        p, op = spec.pair("p", 0), spec.pair("op", 0)
        out = tuple(transposed_length(spatial[i], k[i], s[i], p[i], d[i], op[i]) for i in range(2))
    else:
        if spec.number("p") == "same":
            pad = same_padding(k[0], d[0]) + same_padding(k[1], d[1])
        else:
            pad = spec.pair("p", 0)
        geometry = axes(spatial, k, pad=pad, stride=s, dilation=d)
        check_nonempty(geometry)
        out = tuple(ax.length for ax in geometry)
    params = channels * n_out * k[0] * k[1] + (n_out if spec.number("bias", True) else 0)
    return out + (n_out,), params, params * out[0] * out[1]


def _pool_shape(spec, spatial, channels):
    if spec.kind == "globalavgpool":
        return (1, 1, channels), 0, 0
    k = spec.pair("k")
    s, p = spec.pair("s", k), spec.pair("p", 0)
    ceil = bool(spec.number("ceil", False))
    try:
        out = tuple(pool_length(spatial[i], k[i], s[i], p[i], 1, ceil) for i in range(2))
    except ValueError as e:
        raise SpecError(f"{spec.text}: {e}") from None
    return out + (channels,), 0, 0


_SPATIAL = ("conv", "convT", "maxpool", "avgpool", "globalavgpool")


def _layer_shape(spec, shape):
    """(output shape, parameters, MACs) of one layer on an input of ``shape``."""
    if spec.kind in ("conv", "convT"):
        return _conv_shape(spec, shape[:2], shape[2])
    if spec.kind in ("maxpool", "avgpool", "globalavgpool"):
        return _pool_shape(spec, shape[:2], shape[2])
    if spec.kind == "fc":
        n = spec.number("n")
        params = math.prod(shape) * n + (n if spec.number("bias", True) else 0)
        return (n,), params, params
    if spec.kind == "flatten":
        return (math.prod(shape),), 0, 0
    if spec.kind == "batchnorm":
        return shape, 2 * shape[-1], 0
    return shape, 0, 0


def plan(input_shape, specs) -> list[LayerInfo]:
    """Shapes, parameter counts, MACs and receptive fields of a network, layer by layer.

    Parameters
    ----------
    input_shape : (H, W), (H, W, C), or (N,) for a vector (a network of fc layers)
    specs : list of LayerSpec

    Returns
    -------
    list of LayerInfo, one per layer

    Examples
    --------
    >>> [(i.output_shape, i.params) for i in plan((784,), parse_network(["fc:n=10"]))]
    [((10,), 7850)]
    """
    flat_input = len(input_shape) == 1
    shape = tuple(input_shape) if flat_input else tuple(input_shape) + (1,) * (3 - len(input_shape))
    rf = jump = (1,) if flat_input else (1, 1)
    infos = []
    for spec in specs:
        if spec.kind in _SPATIAL and len(shape) == 1:
            what = "the input is a vector" if flat_input else "the data is flat by now"
            raise ShapeError(f"{spec.text}: needs an image, but {what}")
        out, params, macs = _layer_shape(spec, shape)
        rf, jump = _receptive(spec, rf, jump, shape, input_shape)
        infos.append(LayerInfo(spec, shape, out, params, rf, jump, macs))
        shape = out
    return infos


def _receptive(spec, rf, jump, shape, input_shape):
    """Receptive field and jump (input pixels between neighbouring outputs) after a layer."""
    if spec.kind in ("conv", "maxpool", "avgpool"):
        k = spec.pair("k")
        s = spec.pair("s", 1 if spec.kind == "conv" else k)
        d = spec.pair("d", 1) if spec.kind == "conv" else (1, 1)
        rf = tuple(rf[i] + d[i] * (k[i] - 1) * jump[i] for i in range(2))
        return rf, tuple(jump[i] * s[i] for i in range(2))
    if spec.kind == "convT":
        k, s = spec.pair("k"), spec.pair("s", 1)
        jump = tuple(max(1, jump[i] // s[i]) for i in range(2))
        return tuple(rf[i] + (k[i] - 1) * jump[i] for i in range(2)), jump
    if spec.kind in ("fc", "globalavgpool"):  # every output sees the whole input
        return tuple(input_shape[:2]), jump
    return rf, jump


def shape_text(shape) -> str:
    return "x".join(str(v) for v in shape)
