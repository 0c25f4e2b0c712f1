"""Model files are checked before anything large is read or built (SPEC 4)."""

import io
import json
import time
import zipfile

import numpy as np
import pytest

from convcli.errors import DataError, SpecError
from convcli.layerspec import parse_network
from convcli.nn import Network


def small_model(path):
    net = Network(parse_network(["conv:k=3,n=2", "batchnorm", "relu", "fc:n=10"]), (8, 8, 1))
    net.save(str(path))
    return net


def npz(path, members):
    """Write an npz by hand: name -> array, or name -> raw .npy bytes."""
    with zipfile.ZipFile(path, "w") as z:
        for name, value in members.items():
            if isinstance(value, bytes):
                z.writestr(name + ".npy", value)
            else:
                buf = io.BytesIO()
                np.save(buf, value, allow_pickle=False)
                z.writestr(name + ".npy", buf.getvalue())


def meta(**changes):
    fields = {
        "format": "convcli-model-1",
        "layers": ["fc:n=10"],
        "input_shape": [8, 8, 1],
        "mean": 0.0,
        "std": 1.0,
        **changes,
    }
    return np.array(json.dumps(fields))


def test_a_saved_model_loads_back_the_same(tmp_path):
    net = small_model(tmp_path / "m.npz")
    again = Network.load(str(tmp_path / "m.npz"))
    for a, b in zip(net.params(), again.params()):
        assert np.array_equal(a, b)


def test_a_tiny_file_claiming_a_huge_network_is_refused_before_it_is_built(tmp_path):
    npz(tmp_path / "huge.npz", {"meta": meta(layers=["fc:n=3000000"], input_shape=[28, 28, 1])})
    assert (tmp_path / "huge.npz").stat().st_size < 2000
    start = time.monotonic()
    with pytest.raises(DataError, match="claims 2,355,000,000 parameters"):
        Network.load(str(tmp_path / "huge.npz"))
    assert time.monotonic() - start < 0.5


def test_a_member_whose_header_claims_gigabytes_is_refused_unread(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (3 * 2**30, 1)}
    )
    npz(tmp_path / "liar.npz", {"meta": meta(), "param_0": header.getvalue() + b"\0" * 64})
    with pytest.raises(DataError, match="claims 12,884,901,888 bytes of data but holds 64"):
        Network.load(str(tmp_path / "liar.npz"))


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"input_shape": "28x28"}, "input_shape must be three whole numbers"),
        ({"input_shape": [28, 28, 1.5]}, "input_shape must be three whole numbers"),
        ({"layers": "fc:n=10"}, "layers must be a list"),
        ({"layers": [5]}, "layers must be a list"),
        ({"mean": "0"}, "mean must be a number"),
        ({"std": 0}, "std must be positive"),
        ({"layers": ["fc:n=ten"]}, "does not fit together"),
        ({"layers": ["relu"]}, "finish it with fc:n=10"),
    ],
)
def test_wrong_typed_metadata_is_one_clear_error(tmp_path, changes, message):
    npz(tmp_path / "m.npz", {"meta": meta(**changes)})
    with pytest.raises(DataError, match=message):
        Network.load(str(tmp_path / "m.npz"))


def test_arrays_of_the_wrong_shape_or_kind_are_refused(tmp_path):
    npz(tmp_path / "m.npz", {"meta": meta(), "param_0": np.zeros((3, 3), np.float32)})
    with pytest.raises(DataError, match=r"param_0 is float32 \(3, 3\), expected numbers"):
        Network.load(str(tmp_path / "m.npz"))
    npz(tmp_path / "m.npz", {"meta": meta(), "param_0": np.array(["x"] * 640).reshape(64, 10)})
    with pytest.raises(DataError, match="expected numbers"):
        Network.load(str(tmp_path / "m.npz"))


def test_damaged_model_files_are_always_one_clear_error(tmp_path):
    """Truncations and bit flips of a real model: a DataError or a good load, nothing else."""
    small_model(tmp_path / "m.npz")
    good = (tmp_path / "m.npz").read_bytes()
    rng = np.random.default_rng(0)
    bad = tmp_path / "bad.npz"
    for trial in range(150):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[: rng.integers(0, len(good))]
        else:
            for _ in range(rng.integers(1, 4)):
                data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        bad.write_bytes(bytes(data))
        try:
            Network.load(str(bad))
        except DataError as e:
            assert str(e).startswith(str(bad)) and "\n" not in str(e)


def test_the_cli_says_one_line_for_a_damaged_model(cli, tmp_path):
    npz(tmp_path / "m.npz", {"meta": meta(mean="zero")})
    result = cli("predict", "-m", tmp_path / "m.npz", "x.png")
    assert result.exit_code == 1
    assert (
        result.output == f"Error: {tmp_path / 'm.npz'}: damaged model metadata: "
        "mean must be a number\n"
    )


@pytest.mark.parametrize(
    "arch, message",
    [
        ("convT:k=2,n=4 flatten fc:n=10", "convT:k=2,n=4: transposed convolution is for outsize"),
        ("conv:k=3,n=4,bias=false flatten fc:n=10", "bias=false is for outsize only"),
        ("conv:k=2,n=4,p=same flatten fc:n=10", "p=same with an even kernel pads unevenly"),
        ("conv:k=3,n=4 softmax fc:n=10", "softmax can only end the network"),
    ],
)
def test_specs_the_cnn_cannot_train_are_refused(arch, message):
    with pytest.raises(SpecError, match=message):
        Network(arch)


def test_same_padding_global_pooling_and_a_final_softmax_build_and_run():
    net = Network("conv:k=3,n=4,p=same relu globalavgpool fc:n=10 softmax", seed=0)
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    scores = net.forward(x, train=True)
    assert scores.shape == (2, 10)
    net.backward(np.ones_like(scores))
    assert all(g.shape == p.shape for g, p in zip(net.grads(), net.params()))


def test_train_mnist_refuses_convT_with_one_error_line(cli):
    result = cli("train-mnist", "--arch", "convT:k=2,n=4 flatten fc:n=10", "--epochs", "1")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        "Error: convT:k=2,n=4: transposed convolution is for outsize only"
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "k,s,p,ceil", [(2, 2, 0, False), (3, 2, 1, False), (3, 2, 1, True), (2, 1, 0, False)]
)
def test_the_cnn_pools_as_the_engine_pools(kind, k, s, p, ceil):
    # the layer keeps its own forward (its backward needs the argmax the engine does not
    # return); one semantics, held here against the engine's pool on every geometry
    from convcli.engine.pool import pool, pool_geometry
    from convcli.nn.layers import Pool2D

    x = np.random.default_rng(k + s + p).standard_normal((3, 9, 8, 2)).astype(np.float32)
    out_hw = tuple(g[3] for g in pool_geometry((9, 8), k, s, p, ceil))
    y = Pool2D(kind, (k, k), (s, s), (p, p), ceil, out_hw).forward(x, train=False)
    for b in range(3):
        expected = pool(x[b].astype(np.float64), k, stride=s, pad=p, ceil=ceil, op=kind, ndim=2)
        np.testing.assert_allclose(y[b], expected, rtol=1e-6, atol=1e-6)
