"""convcli conv1d on numbers: text, JSON and .npy."""

import json

import numpy as np
import pytest
import scipy.signal as ss


def test_seed_example_full_and_valid(cli):
    assert cli("conv1d", "-", "-k", "1,-1,2", input="0 1 2 3 4").output == "0 1 1 3 5 2 8\n"
    result = cli("conv1d", "-", "-k", "1,-1,2", "--mode", "valid", input="0,1,2,3,4")
    assert result.output == "1 3 5\n"


def test_a_column_stays_a_column(cli):
    result = cli("conv1d", "-", "-k", "1 -1 2", input="0\n1\n2\n3\n4\n")
    assert result.output == "0\n1\n1\n3\n5\n2\n8\n"


def test_semicolons_and_comments_and_shortest_floats(cli):
    result = cli("conv1d", "-", "-k", "0.1", input="# header\n1;2;3\n")
    assert result.output.split() == ["0.1", "0.2", "0.3"]  # 0.30000000000000004 to 15 digits


def test_precision_prints_percent_g(cli):
    result = cli("conv1d", "-", "-k", "0.1", "--precision", "3", input="1 2 3")
    assert result.output == "0.1 0.2 0.3\n"


def test_matrix_columns_are_channels_and_a_kernel_matrix_gives_each_its_own(cli, tmp_path):
    x = np.arange(12.0).reshape(6, 2)
    (tmp_path / "x.txt").write_text("\n".join(" ".join(map(str, r)) for r in x))
    (tmp_path / "k.txt").write_text("1 0\n0 1\n1 -1\n")
    out = cli("conv1d", tmp_path / "x.txt", "-k", tmp_path / "k.txt", "--mode", "same").output
    got = np.array([[float(v) for v in line.split()] for line in out.splitlines()])
    k = np.loadtxt(tmp_path / "k.txt")
    for c in range(2):
        np.testing.assert_allclose(got[:, c], ss.convolve(x[:, c], k[:, c], "same"))


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--stride", "2"], [0, 1, 5, 8]),
        (["--dilation", "2"], [0, 1, 2, 2, 2, -1, 0, 6, 8]),  # np.convolve with 1,0,-1,0,2
        (["--pad", "1", "--stride", "2"], [1, 3, 2]),
        (["--pad", "2,0"], [0, 1, 1, 3, 5]),
        (["--mode", "same", "--pad-mode", "replicate"], [1, 1, 3, 5, 6]),
        (["--correlate", "--mode", "valid"], [3, 5, 7]),
        (["--method", "fft"], [0, 1, 1, 3, 5, 2, 8]),
    ],
)
def test_options(cli, args, expected):
    result = cli("conv1d", "-", "-k", "1,-1,2", *args, input="0 1 2 3 4")
    assert result.exit_code == 0, result.output
    assert [int(v) for v in result.output.split()] == expected


def test_pad_value_fills_constant_padding(cli):
    result = cli(
        "conv1d",
        "-",
        "-k",
        "1,1",
        "--pad",
        "1",
        "--pad-mode",
        "constant",
        "--pad-value",
        "10",
        input="1 2",
    )
    assert result.output == "11 3 12\n"


def test_named_kernel_and_json_and_npy(cli, tmp_path):
    result = cli("conv1d", "-", "-k", "box:2", "--to", "json", input="[2, 4, 6]")
    assert json.loads(result.output) == [1, 3, 5, 3]
    np.save(tmp_path / "x.npy", np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    cli("conv1d", tmp_path / "x.npy", "-k", "diff", "-o", tmp_path / "y.npy")
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), [[1, 2], [2, 2], [2, 2], [-5, -6]])


def test_fir_kernels_need_a_rate_or_take_rate(cli):
    result = cli("conv1d", "-", "-k", "lowpass:cutoff=100", input="1 2 3")
    assert result.exit_code == 1
    assert "needs a sample rate" in result.output
    result = cli(
        "conv1d",
        "-",
        "-k",
        "lowpass:cutoff=100,taps=5",
        "--rate",
        "1000",
        "--mode",
        "same",
        input="1 1 1 1 1 1 1 1 1",
    )
    assert result.exit_code == 0 and len(result.output.split()) == 9


def test_normalize_scales_peak_to_one(cli):
    assert cli("conv1d", "-", "-k", "2", "--normalize", input="1 -4 2").output == "0.25 -1 0.5\n"


def test_batch_writes_each_input_into_the_folder(cli, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("1 2 3")
    out = tmp_path / "out"
    out.mkdir()
    result = cli(
        "conv1d", tmp_path / "a.txt", tmp_path / "b.txt", "-k", "1,1", "-o", f"{out}/", "-j", "2"
    )
    assert result.exit_code == 0, result.output
    assert (out / "a.txt").read_text() == "1 3 5 3\n" == (out / "b.txt").read_text()


def test_batch_reports_a_failing_file_and_goes_on(cli, tmp_path):
    (tmp_path / "good.txt").write_text("1 2 3")
    (tmp_path / "bad.txt").write_text("1 x 3")
    out = tmp_path / "out"
    out.mkdir()
    result = cli("conv1d", tmp_path / "bad.txt", tmp_path / "good.txt", "-k", "1", "-o", f"{out}/")
    assert result.exit_code == 1
    assert "bad.txt:1:3: 'x' is not a number" in result.output
    assert (out / "good.txt").exists() and not (out / "bad.txt").exists()


def test_from_forces_the_input_format(cli, tmp_path):
    (tmp_path / "x.dat.unknown").write_text("[1, 2, 3]")
    result = cli("conv1d", tmp_path / "x.dat.unknown", "-k", "1,1", "--from", "json")
    assert result.output == "[1, 3, 5, 3]\n"
    result = cli("conv1d", "-", "-k", "1,1", "--from", "txt", input="[1, 2]")
    assert result.exit_code == 1 and "'[1' is not a number" in result.output


@pytest.mark.parametrize(
    "args,valid_lines",
    [
        ([], 3),
        (["--mode", "valid"], 3),
        (["--mode", "same", "--correlate"], 3),
        (["--pad", "1", "--stride", "2"], 1),
    ],
)
def test_steps_show_the_worked_computation_before_the_result(cli, args, valid_lines):
    result = cli("conv1d", "-", "-k", "1,-1,2", "--steps", *args, input="0 1 2 3 4")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ("not flipped" in lines[1]) == ("--correlate" in args)
    assert sum(line.rstrip().endswith("valid") for line in lines) == valid_lines
    plain = cli("conv1d", "-", "-k", "1,-1,2", *args, input="0 1 2 3 4").output
    assert result.output.endswith(plain)


def test_steps_refuse_more_than_64_outputs(cli):
    result = cli("conv1d", "-", "-k", "1,1", "--steps", input=" ".join(map(str, range(100))))
    assert result.exit_code == 1 and "--steps shows at most 64 output samples" in result.output
