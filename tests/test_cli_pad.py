"""convcli pad."""

import numpy as np


def test_symmetric_padding_of_a_signal(cli):
    assert (
        cli("pad", "-", "--size", "2", "--mode", "symmetric", input="1 2 3").output
        == "2 1 1 2 3 3 2\n"
    )


def test_direction_and_constant_value(cli):
    result = cli(
        "pad",
        "-",
        "--size",
        "1",
        "--mode",
        "constant",
        "--value",
        "7",
        "--direction",
        "pre",
        input="1 2\n3 4\n",
    )
    assert result.output == "7 7 7\n7 1 2\n7 3 4\n"


def test_seed_volume_padded_with_1_1_is_7x7x3(cli, samples, tmp_path):
    result = cli("pad", samples / "volume.npy", "--size", "1,1", "-o", tmp_path / "p.npy")
    assert result.exit_code == 0
    y = np.load(tmp_path / "p.npy")
    assert y.shape == (7, 7, 3)
    np.testing.assert_array_equal(
        y, np.pad(np.load(samples / "volume.npy"), ((1, 1), (1, 1), (0, 0)))
    )


def test_circular_per_axis(cli):
    out = cli("pad", "-", "--size", "0,1", "--mode", "circular", input="1 2 3\n4 5 6\n").output
    assert out == "3 1 2 3 1\n6 4 5 6 4\n"


def test_a_zarr_store_pads_in_chunks_as_padarray(cli, tmp_path):
    import zarr

    x = np.random.default_rng(2).standard_normal((70, 50)).astype(np.float32)
    z = zarr.create_array(str(tmp_path / "x.zarr"), shape=x.shape, chunks=(30, 20), dtype="float32")
    z[...] = x
    result = cli(
        "pad",
        tmp_path / "x.zarr",
        "--size",
        "3,2",
        "--mode",
        "symmetric",
        "--direction",
        "pre",
        "-o",
        tmp_path / "y.zarr",
    )
    assert result.exit_code == 0, result.output
    y = zarr.open_array(str(tmp_path / "y.zarr"))[...]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.pad(x, ((3, 0), (2, 0)), mode="symmetric"))
