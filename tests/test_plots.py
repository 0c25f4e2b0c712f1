"""convcli.io.plots: colour scales that fit the data, readable labels, and a title for the run."""

import numpy as np
import pytest
from PIL import Image

from convcli.io import plots

pytest.importorskip("matplotlib")


def test_an_all_positive_kernel_gets_a_sequential_scale_from_zero():
    assert plots.colour_scale([[0.1, 0.2], [0.3, 0.05]]) == ("viridis", 0.0, 0.3)


def test_a_signed_kernel_gets_a_diverging_scale_centred_on_zero():
    assert plots.colour_scale([[1, 0, -2]]) == ("RdBu_r", -2.0, 2.0)


def test_labels_are_white_on_dark_cells_and_black_on_light_ones():
    assert plots._ink("RdBu_r", -2, 2, 2.0) == "white"  # sobel-x's +2: dark red
    assert plots._ink("RdBu_r", -2, 2, -2.0) == "white"
    assert plots._ink("RdBu_r", -2, 2, 0.0) == "black"
    assert plots._ink("viridis", 0, 1, 0.0) == "white"
    assert plots._ink("viridis", 0, 1, 1.0) == "black"


def test_an_echo_is_sparse_and_a_box_is_not():
    echo = np.zeros(13231)
    echo[[0, -1]] = [1, 0.5]
    assert plots._is_sparse(echo)
    assert not plots._is_sparse(np.ones(5) / 5)


@pytest.mark.parametrize(
    "spec,dims,rate",
    [
        ("gaussian:sigma=1", 2, None),
        ("sobel-x", 2, None),
        ("box:5", 1, None),
        ("echo:delay=0.3,decay=0.5", 1, 44100),
    ],
)
def test_kernel_plots_are_written(tmp_path, spec, dims, rate):
    from convcli.kernels import make

    out = tmp_path / "k.png"
    plots.kernel_plot(str(out), make(spec, dims, rate), spec, rate)
    with Image.open(out) as im:
        assert im.size[0] >= 400


def test_the_curves_are_titled_with_the_run_the_history_names_and_label_both_axes(
    tmp_path, monkeypatch
):
    from convcli.nn.train import Epochs

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig))
    epochs = Epochs(
        [
            {"epoch": 1, "loss": 1.0, "train_accuracy": 0.5, "test_accuracy": 0.6},
            {"epoch": 2, "loss": 0.5, "train_accuracy": 0.7, "test_accuracy": 0.8},
        ]
    )
    epochs.run = "conv:k=5,n=12,p=2 relu fc:n=10; mse loss; 2 epoch(s) of adam, seed 0"
    plots.training_curves(str(tmp_path / "c.png"), epochs)
    (fig,) = drawn
    assert fig.get_suptitle() == epochs.run
    assert all(ax.get_ylabel() and ax.get_xlabel() == "epoch" for ax in fig.axes)


def test_training_names_its_run_for_the_curves():
    from convcli.nn import Network
    from convcli.nn.train import Settings, train

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 255, (8, 28, 28), dtype=np.uint8), np.arange(8) % 10
    from convcli.layerspec import parse_network

    specs = parse_network(["conv:k=3,n=2", "relu", "flatten", "fc:n=10"])
    net = Network(specs, (28, 28, 1), seed=0)
    history = train(
        net, images, labels, images, labels, Settings(epochs=1, loss="mse", augment=False)
    )
    assert history.epochs.run == (
        "conv:k=3,n=2 relu flatten fc:n=10; mse (0.5*|softmax(s) - onehot|^2) "
        "loss; 1 epoch(s) of adam, seed 0"
    )


def test_filters_and_maps_are_drawn_with_a_colour_bar(tmp_path):
    rng = np.random.default_rng(0)
    plots.filter_grid(str(tmp_path / "f.png"), rng.normal(size=(12, 1, 5, 5)))
    plots.activation_maps(
        str(tmp_path / "m.png"),
        rng.random((28, 28)),
        [
            ("conv:k=5,n=12,p=2", rng.random((28, 28, 12))),
            ("conv:k=5,n=24,p=2", rng.random((14, 14, 24))),
        ],
        "predicted 7",
    )
    for name in ("f.png", "m.png"):
        with Image.open(tmp_path / name) as im:
            assert im.size[0] > 500
