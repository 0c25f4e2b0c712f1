"""train-mnist, predict and evaluate, and the checked download against a loopback server."""

import functools
import hashlib
import http.server
import json
import shutil
import threading

import numpy as np
import pytest
from PIL import Image

from convcli.nn import Network, data


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained for a few epochs on the shipped subset (a few seconds)."""
    from click.testing import CliRunner

    from convcli.cli import main

    folder = tmp_path_factory.mktemp("model")
    model = folder / "m.npz"
    result = CliRunner().invoke(
        main,
        [
            "train-mnist",
            "--epochs",
            "2",
            "-o",
            str(model),
            "--json",
            "--plot",
            str(folder / "c.png"),
            "--filters",
            str(folder / "f.png"),
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    return model, json.loads(result.stdout), folder


def test_a_short_run_learns(trained):
    _, report, _ = trained
    losses = [e["loss"] for e in report["epochs"]]
    assert losses[-1] < losses[0] * 0.5
    assert report["test_accuracy"] > 0.85  # chance is 0.1
    assert report["train_samples"] == 4000 and report["test_samples"] == 1000
    assert np.array(report["confusion"]).sum() == 1000
    assert "samples" in report["data"]


def test_plots_are_pngs(trained):
    _, _, folder = trained
    curves, filters = Image.open(folder / "c.png"), Image.open(folder / "f.png")
    assert curves.format == filters.format == "PNG"
    assert curves.size[0] > 2 * curves.size[1]  # loss and accuracy side by side


def test_predict_draws_activation_maps_and_flags_unsure_predictions(
    trained, cli, tmp_path, samples
):
    model, _, _ = trained
    out = cli("predict", "-m", model, samples / "seven.jpg", "--maps", tmp_path / "maps.png")
    assert out.exit_code == 0 and out.output.startswith(f"{samples / 'seven.jpg'}: 7 (")
    assert Image.open(tmp_path / "maps.png").format == "PNG"
    assert "unsure" not in out.output  # a clear 7


def test_a_prediction_below_one_half_is_flagged_unsure(trained, cli, samples, monkeypatch):
    model, _, _ = trained
    monkeypatch.setattr(Network, "predict", lambda self, images: np.full((len(images), 10), 0.1))
    assert cli("predict", "-m", model, samples / "seven.jpg").output == (
        f"{samples / 'seven.jpg'}: 0 (0.100, unsure)\n"
    )
    row = json.loads(cli("predict", "-m", model, samples / "seven.jpg", "--json").stdout)[0]
    assert row["unsure"] is True


def test_the_network_gives_each_conv_layers_maps_after_its_activation():
    net = Network("conv:k=3,n=4 relu maxpool:k=2 conv:k=3,n=5 flatten fc:n=10", seed=0)
    maps = net.feature_maps(np.zeros((1, 28, 28), np.uint8) + 9)
    assert [(name, m.shape) for name, m in maps] == [
        ("conv:k=3,n=4", (1, 26, 26, 4)),
        ("conv:k=3,n=5", (1, 11, 11, 5)),
    ]
    assert (maps[0][1] >= 0).all()  # after the ReLU


def test_the_same_seed_gives_the_same_result(cli):
    a = json.loads(
        cli("train-mnist", "--epochs", "1", "--limit", "300", "--json", "--seed", "3").stdout
    )
    b = json.loads(
        cli("train-mnist", "--epochs", "1", "--limit", "300", "--json", "--seed", "3").stdout
    )
    assert a["confusion"] == b["confusion"] and a["epochs"][0]["loss"] == b["epochs"][0]["loss"]


def test_model_round_trip_and_evaluate(trained, cli):
    model, report, _ = trained
    net = Network.load(model)
    d = data.load(data.SHIPPED)
    assert (net.predict(d.test_images).argmax(1) == d.test_labels).mean() == pytest.approx(
        report["test_accuracy"]
    )
    out = json.loads(cli("evaluate", "-m", model, "--json").stdout)
    assert out["accuracy"] == pytest.approx(report["test_accuracy"])
    assert out["confusion"] == report["confusion"]


def test_model_files_are_checked(cli, tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    result = cli("evaluate", "-m", tmp_path / "bad.npz")
    assert result.exit_code == 1 and "not a convcli model file" in result.output
    np.savez(tmp_path / "pickle.npz", meta=np.array([{"a": 1}], dtype=object))
    result = cli("predict", "-m", tmp_path / "pickle.npz", "x.png")
    assert result.exit_code == 1 and "not a convcli model file" in result.output


def test_predict_reads_digits_drawn_black_on_white_at_another_size(trained, cli, tmp_path):
    model, _, _ = trained
    d = data.load(data.SHIPPED)
    paths, labels = [], []
    for i in range(0, 1000, 50):  # 20 digits, two of each class
        ink = 255 - d.test_images[i]  # black on white
        big = Image.fromarray(ink).resize((90, 120), Image.Resampling.BICUBIC)
        page = Image.new("RGB", (160, 200), "white")
        page.paste(big.convert("RGB"), (30, 40))
        paths.append(tmp_path / f"d{i}.jpg")
        page.save(paths[-1])
        labels.append(int(d.test_labels[i]))
    rows = json.loads(cli("predict", "-m", model, *paths, "--json").stdout)
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    correct = sum(r["digit"] == y for r, y in zip(rows, labels))
    assert correct >= 16, rows
    assert all(0 < r["probability"] <= 1 for r in rows)


def test_idx_errors_are_clear(tmp_path):
    from convcli.errors import DataError

    (tmp_path / "x").write_bytes(b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") * 3 + b"\x00")
    with pytest.raises(DataError, match="IDX header says"):
        data.read_idx(tmp_path / "x")
    (tmp_path / "y").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="bad magic number"):
        data.read_idx(tmp_path / "y")


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server holding the shipped subset under the canonical names."""
    root = tmp_path / "www"
    root.mkdir()
    for name in data.FILES:
        shutil.copy(data.SHIPPED / name, root / name)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", root
    server.shutdown()


def md5s(folder):
    return {n: hashlib.md5((folder / n).read_bytes()).hexdigest() for n in data.FILES}


def test_download_end_to_end_through_the_cli(mirror, cli, tmp_path, monkeypatch):
    url, root = mirror
    monkeypatch.setattr(data, "FILES", md5s(root))  # the subset's sums stand in for MNIST's
    monkeypatch.setattr(data, "MIRRORS", ())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = cli(
        "train-mnist", "--download", "--mirror", url, "--epochs", "1", "--limit", "200", "--json"
    )
    assert result.exit_code == 0, result.output
    cache = tmp_path / "cache" / "convcli" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(data.FILES)
    assert "cache" in json.loads(result.stdout)["data"]
    again = json.loads(cli("train-mnist", "--epochs", "1", "--limit", "100", "--json").stdout)
    assert "MNIST from the cache" in again["data"]


def test_a_checksum_mismatch_leaves_nothing_behind(mirror, tmp_path, monkeypatch):
    url, root = mirror
    (root / "train-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    monkeypatch.setattr(data, "MIRRORS", ())
    cache = tmp_path / "cache"
    from convcli.errors import FileError

    with pytest.raises(FileError, match="checksum mismatch"):
        data.download(
            cache,
            mirrors=[url],
            checksums=md5s(root)
            | {"train-labels-idx1-ubyte.gz": md5s(data.SHIPPED)["train-labels-idx1-ubyte.gz"]},
        )
    names = sorted(p.name for p in cache.iterdir())
    assert "train-labels-idx1-ubyte.gz" not in names
    assert not [n for n in names if n.startswith(".")]  # no temporary files either


@pytest.mark.parametrize(
    "args",
    [
        ["--optimizer", "sgd", "--lr", "0.02", "--momentum", "0.8"],
        ["--loss", "svm", "--l2", "0.001"],
        ["--loss", "mse", "--no-augment"],
        ["--arch", "lenet5", "--dropout", "0.3"],
        [
            "--arch",
            "conv:k=3,n=4,p=1 batchnorm tanh avgpool:k=2 conv:k=3,n=8 sigmoid maxpool:k=3,s=2,"
            "ceil flatten fc:n=10",
        ],
    ],
)
def test_training_options_run_and_report(cli, args):
    result = cli("train-mnist", "--epochs", "2", "--limit", "1000", "--json", *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    losses = [e["loss"] for e in report["epochs"]]
    assert len(losses) == 2 and np.isfinite(losses).all() and losses[1] < losses[0]
    assert report["test_accuracy"] > 0.15


def test_bad_architectures_are_clear(cli):
    result = cli("train-mnist", "--arch", "conv:k=3,n=4 relu", "--epochs", "1")
    assert result.exit_code == 1 and "fc:n=10" in result.output
