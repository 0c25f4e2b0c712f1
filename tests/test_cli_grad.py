"""convcli conv1d/conv2d --grad: the gradients printed, as text or JSON, and their errors."""

import json

import numpy as np

from convcli.grad import conv_grad


def test_grad_ones_prints_dx_and_dw_each_under_its_name(cli):
    result = cli("conv1d", "-", "-k", "1,-1,2", "--grad", "ones", input="0 1 2 3 4\n")
    assert result.exit_code == 0, result.output
    assert result.output == "dL/dx:\n2 2 2 2 2\ndL/dw:\n10 10 10\n"


def test_grad_numbers_and_json_give_dx_dw_and_db_null(cli):
    result = cli(
        "conv1d",
        "-",
        "-k",
        "1,-1,2",
        "--mode",
        "valid",
        "--grad",
        "1,2,3",
        "--json",
        input="0 1 2 3 4\n",
    )
    assert result.exit_code == 0, result.output
    g = conv_grad([0, 1, 2, 3, 4], [1, -1, 2], [1, 2, 3], ndim=1, mode="valid")
    assert json.loads(result.output) == {"dx": g.dx.tolist(), "dw": g.dw.tolist(), "db": None}


def test_a_filter_bank_with_bias_gives_db_and_dy_from_a_file(cli, samples, tmp_path):
    dy = np.arange(18).reshape(3, 3, 2) % 4 - 1
    np.save(tmp_path / "dy.npy", dy)
    result = cli(
        "conv2d",
        samples / "volume.txt",
        "-k",
        samples / "bank.npy",
        "--bias",
        "1,0",
        "--stride",
        "2",
        "--pad",
        "1",
        "--correlate",
        "--grad",
        tmp_path / "dy.npy",
        "--json",
    )
    assert result.exit_code == 0, result.output
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    g = conv_grad(x, w, dy, ndim=2, pad=1, stride=2, correlate=True, bias=[1, 0])
    got = json.loads(result.output)
    np.testing.assert_array_equal(got["dx"], g.dx)
    np.testing.assert_array_equal(got["dw"], g.dw)
    assert got["db"] == g.db.tolist() == [dy[..., 0].sum(), dy[..., 1].sum()]


def test_the_text_of_a_bank_shows_each_filters_taps_per_channel(cli, samples):
    result = cli(
        "conv2d",
        samples / "volume.txt",
        "-k",
        samples / "bank.npy",
        "--bias",
        "1,0",
        "--stride",
        "2",
        "--pad",
        "1",
        "--correlate",
        "--grad",
        "ones",
    )
    assert result.exit_code == 0, result.output
    assert "dL/dw (each filter's taps, (:,:,channel,filter)):\n(:,:,1,1) =\n" in result.output
    assert result.output.endswith("dL/db:\n9 9\n")


def test_steps_with_grad_prints_the_graph_then_the_gradients(cli):
    result = cli("conv1d", "-", "-k", "1,-1,2", "--grad", "ones", "--steps", input="0 1 2 3 4\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("the graph: each y sums x times w along its edges")
    assert "the rule (convolution slides w flipped):" in result.output
    assert result.output.endswith("dL/dx:\n2 2 2 2 2\ndL/dw:\n10 10 10\n")


def test_grad_writes_to_an_output_file(cli, tmp_path):
    out = tmp_path / "g.txt"
    result = cli("conv1d", "-", "-k", "1,-1,2", "--grad", "ones", "-o", out, input="0 1 2 3 4\n")
    assert result.exit_code == 0 and result.output == ""
    assert out.read_text() == "dL/dx:\n2 2 2 2 2\ndL/dw:\n10 10 10\n"


def test_dy_of_the_wrong_size_is_one_error_line_and_exit_1(runner):
    from convcli.cli import main

    result = runner.invoke(
        main, ["conv1d", "-", "-k", "1,-1,2", "--grad", "1,2"], input="0 1 2 3 4\n"
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: DY has 2 number(s) but the output is 7 (7 numbers)"
    )


def test_dy_that_is_neither_ones_a_file_nor_numbers_is_an_error(runner):
    from convcli.cli import main

    result = runner.invoke(
        main, ["conv1d", "-", "-k", "1,-1,2", "--grad", "once"], input="0 1 2 3 4\n"
    )
    assert result.exit_code == 1
    assert "Error: --grad 'once': not 'ones', a file, or a list of numbers" in result.output


def test_json_without_grad_is_a_usage_error(runner):
    from convcli.cli import main

    result = runner.invoke(main, ["conv1d", "-", "-k", "1,-1,2", "--json"], input="0 1 2\n")
    assert result.exit_code == 2
    assert "--json goes with --grad" in result.output


def test_grad_on_two_inputs_is_a_usage_error(runner, samples):
    from convcli.cli import main

    result = runner.invoke(
        main,
        [
            "conv1d",
            str(samples / "signal.txt"),
            str(samples / "signal.txt"),
            "-k",
            "1,-1",
            "--grad",
            "ones",
        ],
    )
    assert result.exit_code == 2
    assert "--grad takes one INPUT, got 2" in result.output
