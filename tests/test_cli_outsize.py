"""convcli outsize: one layer, a network, --explain, --strict, --json."""

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from convcli import convolve


def test_one_layer_forms(cli):
    assert cli("outsize", "--input", "5", "--kernel", "3").output == "3\n"
    assert (
        cli(
            "outsize",
            "--input",
            "5x5x3",
            "--kernel",
            "3",
            "--stride",
            "2",
            "--pad",
            "1",
            "--filters",
            "2",
        ).output
        == "3x3x2\n"
    )  # one line, for size=$(...)
    assert cli(
        "outsize",
        "--input",
        "5x5x3",
        "--kernel",
        "3",
        "--stride",
        "2",
        "--pad",
        "1",
        "--filters",
        "2",
        "--explain",
    ).output.endswith("3x3x2\n56 parameters: 2 filters of 3x3x3 weights + 2 biases\n")
    assert cli("outsize", "--input", "7x9", "--kernel", "3x5", "--mode", "same").output == "7x9\n"
    assert cli("outsize", "--input", "10", "--kernel", "3", "--dilation", "2").output == "6\n"


def test_explain_shows_the_formula_with_numbers(cli):
    out = cli(
        "outsize", "--input", "5x5", "--kernel", "3", "--stride", "2", "--pad", "1", "--explain"
    ).output
    assert "rows: (W - F + 2P)/S + 1 = (5 - 3 + 2*1)/2 + 1 = 3" in out
    assert out.endswith("3x3\n9 parameters: one 3x3 kernel\n")


def test_a_stride_that_does_not_tile_warns_and_strict_refuses(runner):
    from convcli.cli import main

    result = runner.invoke(main, ["outsize", "--input", "6", "--kernel", "3", "--stride", "2"])
    assert result.exit_code == 0
    assert result.stdout == "2\n"
    assert "Warning: stride 2 does not tile the padded input: the last 1 sample is never" in (
        result.stderr
    )
    strict = runner.invoke(
        main, ["outsize", "--input", "6", "--kernel", "3", "--stride", "2", "--strict"]
    )
    assert strict.exit_code == 1 and "Error: stride 2 does not tile" in strict.output


def test_json_for_one_layer(cli):
    out = json.loads(
        cli(
            "outsize",
            "--input",
            "5x5x3",
            "--kernel",
            "3",
            "--stride",
            "2",
            "--pad",
            "1",
            "--filters",
            "2",
            "--json",
        ).output
    )
    assert out["output_shape"] == [3, 3, 2]
    assert out["padding"] == [[1, 1], [1, 1]]
    assert out["params"] == 56


def test_transposed_matches_pytorch_formula(cli):
    out = cli(
        "outsize",
        "--input",
        "3x3x8",
        "--kernel",
        "3",
        "--stride",
        "2",
        "--pad",
        "1",
        "--transposed",
        "--output-padding",
        "1",
        "--filters",
        "4",
        "--explain",
    ).output
    assert out == "6x6x4\n292 parameters: 4 filters of 3x3x8 weights + 4 biases\n"  # as torch


LENET = [
    "conv:k=5,n=6,p=2",
    "relu",
    "maxpool:k=2",
    "conv:k=5,n=16",
    "relu",
    "maxpool:k=2",
    "fc:n=120",
    "relu",
    "fc:n=84",
    "relu",
    "fc:n=10",
]


def test_lenet_network_table_and_json(cli):
    out = cli("outsize", "--input", "28x28x1", *LENET).output
    assert "conv:k=5,n=6,p=2" in out and "28x28x6" in out and "5x5x16" in out
    assert "total: 61,706 parameters" in out
    data = json.loads(cli("outsize", "--input", "28x28x1", *LENET, "--json").output)
    assert data["total_params"] == 61706
    first = data["layers"][0]
    assert first == {
        "layer": "conv:k=5,n=6,p=2",
        "output_shape": [28, 28, 6],
        "params": 156,
        "receptive_field": 5,
        "macs": 156 * 28 * 28,
        "activation_bytes": 4 * 28 * 28 * 6,
    }
    assert data["total_macs"] == 423038  # torchinfo's 0.42M mult-adds for LeNet-5
    assert data["layers"][-1]["output_shape"] == [10]


def test_pool_ceil_mode_and_bad_layers(cli):
    out = cli("outsize", "--input", "7x7x1", "maxpool:k=2,ceil", "--json").output
    assert json.loads(out)["output_shape"] == [4, 4, 1]
    bad = cli("outsize", "--input", "28x28", "conv:k=5")
    assert bad.exit_code == 1 and "missing n=" in bad.output
    bad = cli("outsize", "--input", "28x28", "warp:k=5")
    assert bad.exit_code == 1 and "unknown layer 'warp'" in bad.output


@given(
    st.integers(3, 20),
    st.integers(3, 20),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 2),
)
def test_outsize_equals_the_shape_conv2d_produces(h, w, k, s, p, d):
    from click.testing import CliRunner

    from convcli.cli import main

    args = [
        "outsize",
        "--input",
        f"{h}x{w}",
        "--kernel",
        str(k),
        "--stride",
        str(s),
        "--pad",
        str(p),
        "--dilation",
        str(d),
    ]
    result = CliRunner().invoke(main, args)
    try:
        y = convolve(np.ones((h, w)), np.ones((k, k)), pad=p, stride=s, dilation=d)
    except ValueError:
        assert result.exit_code == 1
        return
    assert result.stdout.strip() == f"{y.shape[0]}x{y.shape[1]}"


def test_the_network_table_has_macs_memory_and_totals(cli):
    lines = cli("outsize", "--input", "28x28x1", *LENET).output.splitlines()
    assert lines[0].split() == ["layer", "output", "params", "MACs", "memory", "receptive", "field"]
    assert lines[2].split() == ["conv:k=5,n=6,p=2", "28x28x6", "156", "122,304", "18.8", "KB", "5"]
    assert lines[-1] == (
        "total: 61,706 parameters, 423,038 MACs, 58.4 KB of activations (float32), output 10"
    )


def test_a_vector_input_takes_a_network_of_fc_layers(cli):
    data = json.loads(
        cli("outsize", "--input", "784", "fc:n=128", "relu", "fc:n=10", "softmax", "--json").output
    )
    assert data["input_shape"] == [784] and data["total_params"] == 101770
    assert [row["output_shape"] for row in data["layers"]] == [[128], [128], [10], [10]]
    bad = cli("outsize", "--input", "784", "conv:k=3,n=4")
    assert bad.exit_code == 1
    assert bad.output == "Error: conv:k=3,n=4: needs an image, but the input is a vector\n"


def test_same_padding_no_bias_and_global_average_pooling(cli):
    data = json.loads(
        cli(
            "outsize",
            "--input",
            "32x32x3",
            "conv:k=4,n=16,p=same,bias=false",
            "globalavgpool",
            "fc:n=10",
            "--json",
        ).output
    )
    assert [row["output_shape"] for row in data["layers"]] == [[32, 32, 16], [1, 1, 16], [10]]
    assert [row["params"] for row in data["layers"]] == [4 * 4 * 3 * 16, 0, 170]
    bad = cli("outsize", "--input", "32x32", "conv:k=3,n=4,s=2,p=same")
    assert bad.exit_code == 1
    assert "p=same needs a conv layer of stride 1" in bad.output


def test_help_gives_the_layer_grammar_depth_and_receptive_field(cli):
    text = cli("outsize", "-h").output
    for words in (
        "LAYER specs:",
        "globalavgpool",
        "bias=false",
        "p=P|same",
        "softmax",
        "depth",
        "receptive field",
        "n+k-1",
        "n-k+1",
    ):
        assert words in text
