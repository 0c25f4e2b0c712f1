"""convcli conv2d on matrices, JSON and .npy (images: test_io_image.py)."""

import json

import numpy as np
import pytest
import scipy.signal as ss

MATRIX = "1 2 3 4\n5 6 7 8\n9 10 11 12\n"
X = np.arange(1, 13).reshape(3, 4)


def rows(text):
    return np.array([[float(v) for v in line.split()] for line in text.splitlines()])


def test_default_mode_is_same(cli):
    out = cli("conv2d", "-", "-k", "1 2 1; 0 0 0; -1 -2 -1", input=MATRIX).output
    expected = ss.convolve2d(X, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]], "same")
    np.testing.assert_array_equal(rows(out), expected)


@pytest.mark.parametrize("mode", ["full", "valid"])
def test_modes_match_convolve2d(cli, mode):
    out = cli("conv2d", "-", "-k", "1 2; 3 4", "--mode", mode, input=MATRIX).output
    np.testing.assert_array_equal(rows(out), ss.convolve2d(X, [[1, 2], [3, 4]], mode))


def test_padding_forms_and_stride_and_dilation(cli):
    out = cli(
        "conv2d",
        "-",
        "-k",
        "box:3",
        "--pad",
        "1,0",
        "--stride",
        "2,1",
        "--precision",
        "6",
        input=MATRIX,
    ).output
    assert rows(out).shape == (2, 2)
    out = cli(
        "conv2d", "-", "-k", "1 1; 1 1", "--pad", "0,1,2,0", "--dilation", "1,2", input=MATRIX
    ).output
    assert rows(out).shape == (3, 4)  # rows 3+0+1-2+1, cols 4+2+0-3+1


@pytest.mark.parametrize("pad_mode,boundary", [("symmetric", "symm"), ("circular", "wrap")])
def test_pad_modes_match_convolve2d_boundaries(cli, pad_mode, boundary):
    out = cli("conv2d", "-", "-k", "1 2; 3 4", "--pad-mode", pad_mode, input=MATRIX).output
    expected = ss.convolve2d(X, [[1, 2], [3, 4]], "same", boundary=boundary)
    np.testing.assert_array_equal(rows(out), expected)


def test_filter_bank_with_bias_stride_and_pad_gives_3x3x2(cli, samples, tmp_path):
    out = tmp_path / "y.npy"
    result = cli(
        "conv2d",
        samples / "volume.npy",
        "-k",
        samples / "bank.npy",
        "--bias",
        "1,0",
        "--stride",
        "2",
        "--pad",
        "1",
        "--correlate",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    y = np.load(out)
    assert y.shape == (3, 3, 2)
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    expected = sum(
        xp[i : i + 5 : 2, j : j + 5 : 2, :] @ w[:, :, i, j].T for i in range(3) for j in range(3)
    ) + [1, 0]
    np.testing.assert_allclose(y, expected)


def test_bias_from_a_file_and_hwio_layout(cli, samples, tmp_path):
    w = np.load(samples / "bank.npy")
    np.save(tmp_path / "hwio.npy", w.transpose(2, 3, 1, 0))
    (tmp_path / "b.txt").write_text("1 0")
    a = cli(
        "conv2d",
        samples / "volume.npy",
        "-k",
        tmp_path / "hwio.npy",
        "--layout",
        "hwio",
        "--bias",
        tmp_path / "b.txt",
        "--to",
        "json",
    ).output
    b = cli(
        "conv2d",
        samples / "volume.npy",
        "-k",
        samples / "bank.npy",
        "--bias",
        "1,0",
        "--to",
        "json",
    ).output
    assert json.loads(a) == json.loads(b)


def test_abs_offset_and_normalize_on_matrices(cli):
    out = cli("conv2d", "-", "-k", "-1", "--abs", input="1 2; 3 4").output
    assert out == "1 2\n3 4\n"
    out = cli("conv2d", "-", "-k", "1", "--offset", "0.5", input="1 2; 3 4").output
    assert out == "1.5 2.5\n3.5 4.5\n"
    out = cli("conv2d", "-", "-k", "1", "--normalize", input="1 2; 3 5").output
    assert out == "0 0.25\n0.5 1\n"
