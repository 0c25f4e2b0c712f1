"""Training and evaluation loops, and data augmentation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import losses, optim
from .model import Network

DECAY = 0.85  # learning-rate factor per epoch


def augment(images: np.ndarray, rng, shift: float = 2.0, degrees: float = 10.0) -> np.ndarray:
    """Random shifts of up to ``shift`` pixels and rotations of up to ``degrees``.

    Parameters
    ----------
    images : ndarray of shape (B, H, W), uint8

    Returns
    -------
    ndarray of shape (B, H, W), float32, bilinear resampling with zeros outside
    """
    from scipy.ndimage import map_coordinates

    b, h, w = images.shape
    angle = np.deg2rad(rng.uniform(-degrees, degrees, b))[:, None, None]
    dy, dx = (rng.uniform(-shift, shift, (2, b)))[:, :, None, None]
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    r, c = rows - cy, cols - cx  # (H, W) about the centre
    src_r = np.cos(angle) * r - np.sin(angle) * c + cy - dy  # (B, H, W)
    src_c = np.sin(angle) * r + np.cos(angle) * c + cx - dx
    index = np.broadcast_to(np.arange(b, dtype=np.float32)[:, None, None], (b, h, w))
    return map_coordinates(
        images.astype(np.float32), [index, src_r, src_c], order=1, mode="constant", cval=0.0
    )


@dataclass
class Settings:
    epochs: int = 12
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.9
    l2: float = 0.0
    loss: str = "softmax"
    augment: bool = True
    seed: int = 0


class Epochs(list):
    """A run's rows, one dict per epoch; ``run`` says which run (what curves.png is titled)."""

    run: str | None = None


_LOSS_NAMES = {
    "softmax": "softmax cross-entropy",
    "svm": "multiclass SVM (hinge)",
    "mse": "mse (0.5*|softmax(s) - onehot|^2)",
}


def describe(net: Network, s: Settings) -> str:
    """The run in one line: architecture, loss, epochs, optimiser and seed."""
    arch = " ".join(spec.text for spec in net.specs)
    return (
        f"{arch}; {_LOSS_NAMES.get(s.loss, s.loss)} loss; {s.epochs} epoch(s) of "
        f"{s.optimizer}, seed {s.seed}"
    )


@dataclass
class History:
    epochs: list = field(default_factory=Epochs)

    def add(self, **row):
        self.epochs.append(row)


def confusion(net: Network, images, labels) -> np.ndarray:
    """Confusion matrix (true class rows, predicted class columns)."""
    predicted = net.predict(images).argmax(axis=1)
    matrix = np.zeros((net.classes, net.classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def accuracy(net: Network, images, labels) -> float:
    return float((net.predict(images).argmax(axis=1) == labels).mean())


def train(
    net: Network,
    train_images,
    train_labels,
    test_images,
    test_labels,
    s: Settings,
    on_batch=None,
    on_epoch=None,
) -> History:
    """Train ``net`` in place; ``on_batch(done, total)`` and ``on_epoch(row)`` report progress.

    Images are uint8 (N, H, W); the input normalisation (mean and std of the
    training pixels) is stored on the network so that the model file carries it.
    """
    rng = np.random.default_rng(s.seed)
    net.mean = float(train_images.mean())
    net.std = float(train_images.std()) or 1.0
    opt = optim.make(s.optimizer, s.lr, s.momentum)
    loss_fn = losses.LOSSES[s.loss]
    history = History()
    history.epochs.run = describe(net, s)
    n = len(train_images)
    base_lr = opt.lr
    for epoch in range(1, s.epochs + 1):
        # 15% less per epoch (a tenth by epoch 15): an epoch's rate does not depend on how
        # many follow, so a 3-epoch run is not starved by a decay meant for 15
        opt.lr = base_lr * DECAY ** (epoch - 1)
        start = time.perf_counter()
        order = rng.permutation(n)
        total, correct = 0.0, 0
        for done in range(0, n, s.batch_size):
            batch = order[done : done + s.batch_size]
            images = train_images[batch]
            if s.augment:
                images = augment(images, rng)
            scores = net.forward(net.normalise(images), train=True)
            loss, dscores = loss_fn(scores, train_labels[batch])
            net.backward(dscores.astype(np.float32))
            loss += losses.l2_penalty(net.layers, s.l2)
            opt.step(net.params(), net.grads())
            total += loss * len(batch)
            correct += int((scores.argmax(axis=1) == train_labels[batch]).sum())
            if on_batch:
                on_batch(min(done + s.batch_size, n), n)
        seconds = time.perf_counter() - start  # training only, not the evaluation below
        row = {
            "epoch": epoch,
            "loss": total / n,
            "train_accuracy": correct / n,
            "test_accuracy": accuracy(net, test_images, test_labels),
            "seconds": seconds,
        }
        history.add(**row)
        if on_epoch:
            on_epoch(row)
    return history
