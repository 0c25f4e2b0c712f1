"""A network built from layer specs (the ones ``outsize`` reads), and its model file."""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import DataError, SpecError
from ..layerspec import LayerSpec, parse_network, plan, same_padding
from . import layers as L

FORMAT = "convcli-model-1"


def _refuse(spec) -> None:
    """Specs that ``outsize`` sizes but this CNN cannot train: one clear error each."""
    if spec.kind == "convT":
        raise SpecError(
            f"{spec.text}: transposed convolution is for outsize only; the CNN "
            "trains conv, pooling, fc, dropout, batchnorm and activations"
        )
    if spec.number("bias", True) is False:
        raise SpecError(f"{spec.text}: bias=false is for outsize only; the CNN trains biases")
    if (
        spec.kind == "conv"
        and spec.number("p") == "same"
        and any((d * (k - 1)) % 2 for k, d in zip(spec.pair("k"), spec.pair("d", 1)))
    ):
        raise SpecError(
            f"{spec.text}: p=same with an even kernel pads unevenly; "
            "the CNN takes an odd kernel or p=P"
        )


def _build(info, rng, last: bool):
    spec, shape = info.spec, info.input_shape
    kind = spec.kind
    _refuse(spec)
    if kind == "conv":
        k, d = spec.pair("k"), spec.pair("d", 1)
        pad = (
            tuple(same_padding(k[i], d[i])[0] for i in range(2))
            if spec.number("p") == "same"
            else spec.pair("p", 0)
        )
        return L.Conv2D(shape[-1], spec.number("n"), k, spec.pair("s", 1), pad, d, rng)
    if kind in ("maxpool", "avgpool"):
        return L.Pool2D(
            kind[:3],
            spec.pair("k"),
            spec.pair("s"),
            spec.pair("p", 0),
            bool(spec.number("ceil", False)),
            info.output_shape[:2],
        )
    if kind == "globalavgpool":
        return L.Pool2D("avg", shape[:2], shape[:2], (0, 0), False, (1, 1))
    if kind == "fc":
        return L.Dense(math.prod(shape), spec.number("n"), rng)
    if kind == "dropout":
        return L.Dropout(spec.number("p", 0.5), rng)
    if kind == "batchnorm":
        return L.BatchNorm(shape[-1])
    if kind == "softmax":  # the losses and predict() apply it to the scores
        if not last:
            raise SpecError(f"{spec.text}: softmax can only end the network")
        return L.Flatten()
    simple = {"relu": L.ReLU, "tanh": L.Tanh, "sigmoid": L.Sigmoid, "flatten": L.Flatten}
    if kind in simple:
        return simple[kind]()
    raise SpecError(f"{spec.text}: a {kind} layer cannot be trained here")


def _initialise(layer, rng) -> None:
    """PyTorch's default: weights and biases uniform in ``+-1/sqrt(fan_in)``.

    He initialisation (``N(0, 2/fan_in)``) makes each ReLU layer's features about
    2.4 times larger; on unbounded scores (``svm``, and ``mse`` when it scored raw
    scores) Adam's first steps on the output layer then overshot and one epoch ended near
    chance.
    """
    if not isinstance(layer, (L.Conv2D, L.Dense)):
        return
    w, b = layer.params
    fan_in = w[0].size if isinstance(layer, L.Conv2D) else w.shape[0]  # (K, C, kh, kw) / (in, out)
    bound = 1.0 / math.sqrt(fan_in)
    w[...] = rng.uniform(-bound, bound, w.shape)
    b[...] = rng.uniform(-bound, bound, b.shape)


class Network:
    """A sequential CNN on images (B, H, W, C) giving class scores (B, classes).

    Parameters
    ----------
    specs : list of LayerSpec or str
        As ``convcli outsize`` reads them, or a preset name (``tiny``, ``lenet5``).
    input_shape : (H, W, C)
    seed : int
        Seeds the initialisation and dropout.
    """

    def __init__(self, specs, input_shape=(28, 28, 1), seed: int = 0):
        if isinstance(specs, str):
            specs = parse_network([specs])
        self.specs = list(specs)
        self.input_shape = tuple(input_shape)
        self.infos = plan(self.input_shape, self.specs)
        if len(self.infos[-1].output_shape) != 1:
            raise DataError("the network must end in class scores: finish it with fc:n=10")
        rng = np.random.default_rng(seed)
        last = len(self.infos) - 1
        self.layers = [_build(info, rng, i == last) for i, info in enumerate(self.infos)]
        for layer in self.layers:
            _initialise(layer, rng)
        first = next((lay for lay in self.layers if isinstance(lay, L.Conv2D)), None)
        if first is not None and first is self.layers[0]:
            first.need_dx = False  # nothing upstream needs the input's gradient
        self.mean, self.std = 0.0, 1.0

    @property
    def classes(self) -> int:
        return self.infos[-1].output_shape[0]

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Scores (B, classes) of images (B, H, W, C) already normalised."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dscores: np.ndarray) -> None:
        for layer in reversed(self.layers):
            dscores = layer.backward(dscores)
            if dscores is None:
                break

    def feature_maps(self, images: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Each conv layer's activation maps (after its activation function, if one follows).

        Parameters
        ----------
        images : ndarray of shape (B, H, W), uint8

        Returns
        -------
        list of (layer spec text, ndarray of shape (B, H', W', K))
        """
        x, maps = self.normalise(images), []
        activations = (L.ReLU, L.Tanh, L.Sigmoid)
        for i, layer in enumerate(self.layers):
            x = layer.forward(x, False)
            conv = self.specs[i].kind == "conv"
            after = i > 0 and self.specs[i - 1].kind == "conv" and isinstance(layer, activations)
            if after:
                maps[-1] = (maps[-1][0], x)
            elif conv:
                maps.append((self.specs[i].text, x))
        return maps

    def params(self):
        return [p for layer in self.layers for p in layer.params]

    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    def normalise(self, images: np.ndarray) -> np.ndarray:
        """uint8 images (B, H, W) or (B, H, W, C) to float32 network input."""
        x = images.astype(np.float32)
        if x.ndim == 3:
            x = x[..., None]  # (B, H, W, 1)
        return (x - np.float32(self.mean)) / np.float32(self.std)

    def predict(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        """Class probabilities (B, classes) of raw images."""
        from .losses import softmax

        out = [
            softmax(self.forward(self.normalise(images[i : i + batch])))
            for i in range(0, len(images), batch)
        ]
        return np.concatenate(out)

    def state(self) -> dict:
        """Every array the model file holds (no pickles)."""
        arrays = {f"param_{i}": p for i, p in enumerate(self.params())}
        for i, layer in enumerate(self.layers):
            if isinstance(layer, L.BatchNorm):
                arrays[f"running_{i}_mean"], arrays[f"running_{i}_var"] = layer.running
        meta = {
            "format": FORMAT,
            "layers": [s.text for s in self.specs],
            "input_shape": list(self.input_shape),
            "mean": self.mean,
            "std": self.std,
        }
        arrays["meta"] = np.array(json.dumps(meta))
        return arrays

    def save(self, path: str) -> None:
        from ..io.atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **self.state())

    @classmethod
    def load(cls, path: str) -> Network:
        """Load and check a model file written by :meth:`save`.

        The metadata's types, the network's size and every array's header are
        checked before the network is built or an array is read.
        """
        from .modelfile import ModelFile, checked_plan

        with ModelFile(path) as f:
            meta = f.meta(FORMAT)
            specs = checked_plan(meta, path)
            try:
                net = cls(specs, tuple(meta["input_shape"]))
            except DataError as e:
                raise DataError(f"{path}: {e}") from None
            net.mean, net.std = float(meta["mean"]), float(meta["std"])
            net._fill(f, path)
        return net

    def _fill(self, f, path):
        """Copy each stored array in, after its header says it has the parameter's shape."""
        for i, p in enumerate(self.params()):
            stored = f.array(f"param_{i}", p.shape)
            if not np.isfinite(stored).all():
                raise DataError(f"{path}: parameter {i} is not finite")
            p[...] = stored
        for i, layer in enumerate(self.layers):
            if isinstance(layer, L.BatchNorm):
                layer.running = [
                    f.array(f"running_{i}_{k}", layer.running[0].shape).astype(L.DTYPE)
                    for k in ("mean", "var")
                ]


def with_dropout(specs: list[LayerSpec], p: float) -> list[LayerSpec]:
    """Set every dropout layer to ``p``, or insert one before the last fc layer."""
    if any(s.kind == "dropout" for s in specs):
        return [
            LayerSpec("dropout", {"p": p}, f"dropout:p={p:g}") if s.kind == "dropout" else s
            for s in specs
        ]
    last_fc = max(i for i, s in enumerate(specs) if s.kind == "fc")
    drop = LayerSpec("dropout", {"p": p}, f"dropout:p={p:g}")
    return specs[:last_fc] + [drop] + specs[last_fc:]
