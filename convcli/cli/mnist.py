"""``convcli train-mnist``, ``predict`` and ``evaluate``: the tiny CNN from the shell."""

from __future__ import annotations

import sys

import click

from . import main
from .options import FiniteRange

model_option = click.option(
    "-m",
    "--model",
    required=True,
    metavar="MODEL.npz",
    help="A model file written by train-mnist -o.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
data_option = click.option(
    "--data",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="A folder with the four MNIST-format IDX files.",
)


def _dataset(data, download, mirror, quiet):
    from ..nn import data as nndata

    if download:
        folder = nndata.download(
            mirrors=(mirror,) if mirror else (), progress=None if quiet else _download_progress()
        )
        if data is None:
            data = folder
    if data is not None:
        return nndata.load(data), f"{data}"
    folder, where = nndata.default_folder()
    return nndata.load(folder), where


def _download_progress():
    seen = {}

    def report(url, size, total):
        if not sys.stderr.isatty():
            return
        seen[url] = seen.get(url, 0) + size
        click.echo(
            f"\rdownloading {url.rsplit('/', 1)[-1]}: {seen[url] / 1e6:.1f} MB"
            + (f" of {total / 1e6:.1f}" if total else ""),
            err=True,
            nl=False,
        )

    return report


class _Bar:
    """One progress bar per epoch on stderr, shown only on a terminal."""

    def __init__(self, epochs):
        self.epochs, self.bar, self.epoch = epochs, None, 0
        self.show = sys.stderr.isatty()

    def batch(self, done, total):
        if not self.show:
            return
        if self.bar is None:
            self.epoch += 1
            self.bar = click.progressbar(
                length=total, file=sys.stderr, label=f"epoch {self.epoch}/{self.epochs}"
            )
            self.bar.__enter__()
            self.last = 0
        self.bar.update(done - self.last)
        self.last = done
        if done >= total:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _print_confusion(matrix):
    click.echo("confusion matrix (rows: true digit, columns: predicted):")
    click.echo("      " + "".join(f"{j:>6}" for j in range(len(matrix))))
    for i, row in enumerate(matrix):
        click.echo(f"{i:>6}" + "".join(f"{v:>6}" for v in row))


@main.command("train-mnist")
@data_option
@click.option("--download", is_flag=True, help="Fetch the full MNIST into the cache first.")
@click.option("--mirror", metavar="URL", help="A mirror to try before the usual ones.")
@click.option(
    "--arch",
    default="tiny",
    show_default=True,
    metavar="LAYERS|tiny|lenet5",
    help="Layer specs as outsize reads them, in one quoted argument, or a preset.",
)
@click.option("--epochs", type=click.IntRange(1, 1000), default=15, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=32, show_default=True)
@click.option("--optimizer", type=click.Choice(("sgd", "adam")), default="adam", show_default=True)
@click.option(
    "--lr",
    type=FiniteRange(0, 10, min_open=True),
    help="Learning rate (default 0.002 for adam, 0.02 for sgd), 15% less each epoch.",
)
@click.option(
    "--momentum",
    type=FiniteRange(0, 1, max_open=True),
    default=0.9,
    show_default=True,
    help="SGD momentum.",
)
@click.option(
    "--l2",
    type=FiniteRange(0, 10),
    default=0.0,
    show_default=True,
    help="L2 regularisation: 0.5*lambda*w^2 per weight.",
)
@click.option(
    "--dropout",
    type=FiniteRange(0, 1, max_open=True),
    help="Dropout probability (sets the arch's dropout layers, or adds one).",
)
@click.option(
    "--augment/--no-augment",
    default=True,
    show_default=True,
    help="Random shifts (2 px) and rotations (10 degrees).",
)
@click.option(
    "--loss", type=click.Choice(("softmax", "svm", "mse")), default="softmax", show_default=True
)
@click.option("--limit", type=click.IntRange(min=1), help="Train on the first N images only.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same result.")
@click.option("-o", "--output", metavar="MODEL.npz", help="Save the trained model.")
@click.option("--plot", metavar="CURVES.png", help="Loss and accuracy curves as a PNG.")
@click.option("--filters", metavar="FILTERS.png", help="The first layer's filters as a PNG.")
@json_option
def train_mnist(
    data,
    download,
    mirror,
    arch,
    epochs,
    batch_size,
    optimizer,
    lr,
    momentum,
    l2,
    dropout,
    augment,
    loss,
    limit,
    seed,
    output,
    plot,
    filters,
    as_json,
):
    """Train a small CNN on MNIST (the shipped 5,000-digit subset by default).

    \b
    Examples:
      convcli train-mnist --limit 1000 --epochs 1 -o digits.npz --plot curves.png --filters f.png
      convcli train-mnist --arch lenet5 --epochs 1 --limit 1000 --optimizer sgd --lr 0.02
      convcli train-mnist --arch "conv:k=5,n=8,p=2 relu maxpool:k=2 fc:n=10" --epochs 1 --json
      convcli train-mnist --download --epochs 3          # the full 60,000 digits
      convcli train-mnist --data /usr/share/fashion-mnist --no-augment
    """
    from ..io.atomic import check_writable_folder
    from ..nn import Settings, confusion, train

    for path in filter(None, (output, plot, filters)):
        check_writable_folder(path)  # before a minute of training, not after
    dataset, where = _dataset(data, download, mirror, as_json)
    net = _network(arch, dropout, dataset.train_images.shape[1:] + (1,), seed)
    specs = net.specs
    images, labels = dataset.train_images[:limit], dataset.train_labels[:limit]
    if not as_json:
        click.echo(
            f"data: {where}: {len(images):,} training and {len(dataset.test_images):,} test images"
        )
        click.echo(
            f"network: {sum(p.size for p in net.params()):,} parameters: "
            + " ".join(s.text for s in specs)
        )
    bar = _Bar(epochs)

    def epoch_line(row):
        if not as_json:
            click.echo(
                f"epoch {row['epoch']:>3}/{epochs}  loss {row['loss']:.4f}  "
                f"train {row['train_accuracy']:.4f}  test {row['test_accuracy']:.4f}  "
                f"{row['seconds']:.1f} s"
            )

    settings = Settings(epochs, batch_size, optimizer, lr, momentum, l2, loss, augment, seed)
    history = train(
        net,
        images,
        labels,
        dataset.test_images,
        dataset.test_labels,
        settings,
        on_batch=bar.batch,
        on_epoch=epoch_line,
    )
    matrix = confusion(net, dataset.test_images, dataset.test_labels)
    final = float(matrix.trace() / matrix.sum())
    _save_outputs(net, history, output, plot, filters)
    if as_json:
        import json  # only when JSON is asked for: start-up stays light

        click.echo(
            json.dumps(
                {
                    "test_accuracy": final,
                    "train_samples": len(images),
                    "test_samples": len(dataset.test_images),
                    "epochs": history.epochs,
                    "confusion": matrix.tolist(),
                    "data": where,
                }
            )
        )
        return
    click.echo(f"test accuracy {final:.4f} ({matrix.trace()}/{matrix.sum()})")
    _print_confusion(matrix)


def _network(arch, dropout, shape, seed):
    """The network of ``--arch`` (specs or a preset) with ``--dropout`` applied."""
    from ..layerspec import parse_network
    from ..nn import Network
    from ..nn.model import with_dropout

    specs = parse_network(arch.split())
    if dropout is not None:
        specs = with_dropout(specs, dropout)
    return Network(specs, shape, seed=seed)


def _save_outputs(net, history, output, plot, filters):
    from ..nn.layers import Conv2D

    if output:
        net.save(output)
    if plot:
        from ..io.plots import training_curves

        training_curves(plot, history.epochs)
    if filters:
        from ..io.plots import filter_grid

        first = next((layer for layer in net.layers if isinstance(layer, Conv2D)), None)
        if first is None:
            raise click.UsageError("--filters needs a network with a conv layer")
        filter_grid(filters, first.params[0])


@main.command()
@model_option
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option(
    "--maps", metavar="FILE.png", help="Draw each conv layer's activation maps for the first image."
)
@json_option
def predict(model, images, maps, as_json):
    """Read handwritten digits from photos (any size or colour).

    Each image is prepared as MNIST's digits were: grayscale, light digit on a
    dark background, cropped, fitted into 20x20, centre of mass at the centre
    of 28x28. A prediction below probability 0.5 is flagged as unsure.

    \b
    Examples:
      convcli predict -m digits.npz seven.jpg
      convcli predict -m digits.npz seven.jpg --maps maps.png
      convcli predict -m digits.npz scans/*.png --json
    """
    import numpy as np

    from ..io.digits import load_digit
    from ..nn import Network

    net = Network.load(model)
    digits = np.stack([load_digit(path) for path in images])
    probabilities = net.predict(digits)
    rows = [
        {
            "path": path,
            "digit": int(p.argmax()),
            "probability": float(p.max()),
            "unsure": bool(p.max() < UNSURE),
        }
        for path, p in zip(images, probabilities)
    ]
    if maps:
        _draw_maps(net, digits[:1], rows[0], maps)
    if as_json:
        import json  # only when JSON is asked for: start-up stays light

        click.echo(json.dumps(rows))
        return
    for row in rows:
        flag = ", unsure" if row["unsure"] else ""
        click.echo(f"{row['path']}: {row['digit']} ({row['probability']:.3f}{flag})")


UNSURE = 0.5  # below this probability a prediction is flagged


def _draw_maps(net, digit, row, path):
    from ..io.plots import activation_maps

    found = [(name, m[0]) for name, m in net.feature_maps(digit)]  # (H', W', K) each
    if not found:
        raise click.UsageError("--maps needs a model with a conv layer")
    flag = " (unsure)" if row["unsure"] else ""
    activation_maps(
        path,
        digit[0],
        found,
        f"predicted {row['digit']}, probability {row['probability']:.3f}{flag}",
    )


@main.command()
@model_option
@data_option
@json_option
def evaluate(model, data, as_json):
    """Accuracy and confusion matrix of a model on the test images.

    \b
    Examples:
      convcli evaluate -m digits.npz
      convcli evaluate -m digits.npz --data ~/mnist --json
    """
    from ..nn import Network, confusion

    net = Network.load(model)
    dataset, where = _dataset(data, False, None, True)
    matrix = confusion(net, dataset.test_images, dataset.test_labels)
    accuracy = float(matrix.trace() / matrix.sum())
    if as_json:
        import json  # only when JSON is asked for: start-up stays light

        click.echo(
            json.dumps(
                {
                    "accuracy": accuracy,
                    "confusion": matrix.tolist(),
                    "test_samples": int(matrix.sum()),
                    "data": where,
                }
            )
        )
        return
    click.echo(f"data: {where}")
    click.echo(f"accuracy {accuracy:.4f} ({matrix.trace()}/{matrix.sum()})")
    _print_confusion(matrix)
