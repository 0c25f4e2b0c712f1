"""A training epoch of the same network in convcli and in PyTorch, on Fashion-MNIST.

The network comes from one set of layer specs; PyTorch gets the same layers,
optimizer (Adam, same rate), batch size and no augmentation, with 2 threads.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

FASHION = Path("/usr/share/datasets/fashion-mnist")


def torch_net(specs, input_shape):
    import torch.nn as tnn

    from convcli.layerspec import plan

    modules = []
    for info in plan(input_shape, specs):
        spec, shape = info.spec, info.input_shape
        if spec.kind == "conv":
            modules.append(
                tnn.Conv2d(
                    shape[-1],
                    spec.number("n"),
                    spec.pair("k"),
                    spec.pair("s", 1),
                    spec.pair("p", 0),
                    spec.pair("d", 1),
                )
            )
        elif spec.kind in ("maxpool", "avgpool"):
            cls = tnn.MaxPool2d if spec.kind == "maxpool" else tnn.AvgPool2d
            modules.append(
                cls(
                    spec.pair("k"),
                    spec.pair("s"),
                    spec.pair("p", 0),
                    ceil_mode=bool(spec.number("ceil", False)),
                )
            )
        elif spec.kind == "fc":
            if len(shape) > 1:
                modules.append(tnn.Flatten())
            modules.append(tnn.Linear(math.prod(shape), spec.number("n")))
        elif spec.kind == "flatten":
            modules.append(tnn.Flatten())
        elif spec.kind == "dropout":
            modules.append(tnn.Dropout(spec.number("p", 0.5)))
        elif spec.kind == "batchnorm":
            modules.append((tnn.BatchNorm2d if len(shape) == 3 else tnn.BatchNorm1d)(shape[-1]))
        else:
            modules.append(
                {"relu": tnn.ReLU, "tanh": tnn.Tanh, "sigmoid": tnn.Sigmoid}[spec.kind]()
            )
    return tnn.Sequential(*modules)


def torch_epochs(specs, data, epochs, batch, lr, on_epoch):
    """A generator: the set-up on the first ``next``, then one epoch per ``next``."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(2)
    net = torch_net(specs, (28, 28, 1))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    mean, std = data.train_images.mean(), data.train_images.std()
    x = torch.tensor((data.train_images[:, None] - mean) / std, dtype=torch.float32)
    y = torch.tensor(data.train_labels)
    xt = torch.tensor((data.test_images[:, None] - mean) / std, dtype=torch.float32)
    rng = np.random.default_rng(0)
    yield  # ready: each next() runs one epoch
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = lr * 0.1 ** ((epoch - 1) / max(1, epochs - 1))
        start = time.perf_counter()
        net.train()
        for i in torch.tensor(rng.permutation(len(x))).split(batch):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[i]), y[i])
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        net.eval()
        with torch.no_grad():
            accuracy = float((net(xt).argmax(1).numpy() == data.test_labels).mean())
        on_epoch(seconds, accuracy)
        yield


def convcli_epochs(specs, data, epochs, batch, lr, on_epoch):
    from convcli.nn import Network, Settings, train

    net = Network(specs, (28, 28, 1), seed=0)
    settings = Settings(epochs=epochs, batch_size=batch, lr=lr, augment=False)
    train(
        net,
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        settings,
        on_epoch=lambda r: on_epoch(r["seconds"], r["test_accuracy"]),
    )


def bench(quick, row, skip, arch="tiny"):
    from convcli.layerspec import parse_network
    from convcli.nn import data as nndata

    work = "training epoch, Fashion-MNIST, " + arch
    try:
        import torch  # noqa: F401
    except ImportError:
        skip(work, "PyTorch", "torch is not installed")
        return
    if not FASHION.is_dir():
        skip(work, "PyTorch", "apt-get install dataset-fashion-mnist")
        return
    data = nndata.load(FASHION)
    if quick:
        data.train_images, data.train_labels = data.train_images[:10000], data.train_labels[:10000]
    specs = parse_network([arch])
    epochs = 1 if quick else 5
    params = sum(p.numel() for p in torch_net(specs, (28, 28, 1)).parameters())
    ours, theirs = [], []
    # interleaved: after each convcli epoch, one PyTorch epoch, so both see the same load
    peer = torch_epochs(specs, data, epochs, 32, 0.002, lambda s, a: theirs.append((s, a)))
    next(peer)  # builds the network and tensors before the first timed epoch

    def after_ours(seconds, accuracy):
        ours.append((seconds, accuracy))
        next(peer, None)

    convcli_epochs(specs, data, epochs, 32, 0.002, after_ours)
    note = (
        f"{params:,} parameters, {len(data.train_images):,} images, {epochs} epoch(s); "
        f"test accuracy {ours[-1][1]:.4f} vs {theirs[-1][1]:.4f}"
    )
    row(
        work + " (seconds per epoch)",
        "same network in PyTorch CPU, 2 threads",
        [s for s, _ in ours],
        [s for s, _ in theirs],
        note=note,
    )
