"""Every loss of train-mnist against the same network and loss in PyTorch, over seeds.

Usage: python bench/losses.py [--seeds 5] [--epochs 3] [--losses mse svm softmax] [-o FILE.md]

The first 1,000 shipped digits, no augmentation, the tiny network, batch 32, Adam at
convcli's default rate and per-epoch decay; PyTorch gets its own default initialisation
and its own loss modules as a user writes them (``CrossEntropyLoss``, ``MultiMarginLoss``,
``MSELoss`` of the softmax against one-hot targets). Their scaling differs from convcli's
(``MultiMarginLoss`` and ``MSELoss`` divide by the 10 classes, and MSELoss is not halved),
which Adam's steps do not see: it divides each gradient by its own running size. Prints a
Markdown table of test accuracy on the 1,000 shipped test digits: each side's mean over the
seeds and the difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.epoch import torch_net  # noqa: E402

TRAIN = 1000
BATCH = 32
REPORTED = (1, 3)  # epochs the table shows


def digits():
    from convcli.nn.data import default_folder, load

    data = load(default_folder()[0])
    data.train_images, data.train_labels = data.train_images[:TRAIN], data.train_labels[:TRAIN]
    return data


def convcli_run(data, loss, seed, epochs):
    """Test accuracy after each epoch of ``convcli train-mnist``'s own loop."""
    from convcli.nn import Network, Settings, train

    net = Network("tiny", (28, 28, 1), seed=seed)
    s = Settings(epochs=epochs, batch_size=BATCH, loss=loss, augment=False, seed=seed)
    history = train(
        net, data.train_images, data.train_labels, data.test_images, data.test_labels, s
    )
    return [row["test_accuracy"] for row in history.epochs]


def _torch_loss(torch, loss):
    nn = torch.nn
    if loss == "mse":
        mse = nn.MSELoss()
        return lambda s, y: mse(s.softmax(1), nn.functional.one_hot(y, 10).to(s.dtype))
    return {"svm": nn.MultiMarginLoss(), "softmax": nn.CrossEntropyLoss()}[loss]


def torch_run(data, loss, seed, epochs):
    """The same network, loss, optimiser, rate schedule and batches in PyTorch."""
    import torch

    from convcli.layerspec import parse_network
    from convcli.nn import optim
    from convcli.nn.train import DECAY

    torch.manual_seed(seed)
    net = torch_net(parse_network(["tiny"]), (28, 28, 1))
    lr = optim.make("adam", None, 0.9).lr
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = _torch_loss(torch, loss)
    mean, std = data.train_images.mean(), data.train_images.std()
    x = torch.tensor((data.train_images[:, None] - mean) / std, dtype=torch.float32)
    y = torch.tensor(data.train_labels).long()
    xt = torch.tensor((data.test_images[:, None] - mean) / std, dtype=torch.float32)
    rng = np.random.default_rng(seed)
    accuracies = []
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = lr * DECAY ** (epoch - 1)
        net.train()  # the tiny network's dropout on while training, off when testing
        for i in torch.tensor(rng.permutation(len(x))).split(BATCH):
            opt.zero_grad()
            loss_fn(net(x[i]), y[i]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            predicted = net(xt).argmax(1).numpy()
        accuracies.append(float((predicted == data.test_labels).mean()))
    return accuracies


def table(results, seeds):
    lines = [
        f"| loss | epochs | convcli (mean of {seeds}) | PyTorch (mean of {seeds}) | difference "
        "| convcli min-max | PyTorch min-max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for loss, runs in results.items():
        for e in (e for e in REPORTED if e <= len(runs["convcli"][0])):
            ours = [r[e - 1] for r in runs["convcli"]]
            theirs = [r[e - 1] for r in runs["pytorch"]]
            lines.append(
                f"| {loss} | {e} | {np.mean(ours):.3f} | {np.mean(theirs):.3f} | "
                f"{np.mean(ours) - np.mean(theirs):+.3f} | {min(ours):.3f}-{max(ours):.3f} | "
                f"{min(theirs):.3f}-{max(theirs):.3f} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--losses", nargs="+", default=["mse", "svm", "softmax"])
    parser.add_argument("-o", "--output", type=Path, help="also write the table (and .json)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # two cores shared; convcli's layers use one BLAS thread too
    data = digits()
    results = {}
    start = time.perf_counter()
    for loss in args.losses:
        runs = results[loss] = {"convcli": [], "pytorch": []}
        for seed in range(args.seeds):
            runs["convcli"].append(convcli_run(data, loss, seed, args.epochs))
            runs["pytorch"].append(torch_run(data, loss, seed, args.epochs))
            print(
                f"  {loss} seed {seed}: convcli {runs['convcli'][-1]}, "
                f"PyTorch {runs['pytorch'][-1]} ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    text = (
        f"`python bench/losses.py --seeds {args.seeds} --epochs {args.epochs}`: test accuracy "
        f"on the 1,000 shipped test digits after training on the first {TRAIN:,}; PyTorch "
        f"{torch.__version__}, {time.perf_counter() - start:.0f} s\n\n" + table(results, args.seeds)
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
        args.output.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
