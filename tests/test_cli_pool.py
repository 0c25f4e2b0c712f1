"""convcli pool: numbers, signals and images against torch.nn.functional, --steps, batches."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch2d(x, op, k, s=None, p=0, ceil=False):
    """(H, W, C) through max_pool2d/avg_pool2d, channels first and back."""
    t = torch.tensor(np.moveaxis(x, -1, 0)[None], dtype=torch.float64)
    fn = F.max_pool2d if op == "max" else F.avg_pool2d
    return np.moveaxis(fn(t, k, s, p, ceil_mode=ceil)[0].numpy(), 0, -1)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_a_signal_matches_torch_1d(cli, op):
    x = np.array([3.0, -1, 4, 1, -5, 9, 2, 6])
    fn = F.max_pool1d if op == "max" else F.avg_pool1d
    expected = fn(torch.tensor(x)[None, None], 3, 2, 1, ceil_mode=True)[0, 0].numpy()
    out = cli(
        "pool",
        "-",
        "--size",
        "3",
        "--stride",
        "2",
        "--pad",
        "1",
        "--ceil",
        "--op",
        op,
        input=" ".join(map(str, x)),
    )
    assert out.exit_code == 0
    np.testing.assert_allclose([float(v) for v in out.output.split()], expected)


def test_integers_stay_integers_and_a_column_stays_a_column(cli):
    assert cli("pool", "-", "--size", "2", input="1 3 2 5 4 6").output == "3 5 6\n"
    assert cli("pool", "-", "--size", "2", input="1\n3\n2\n5\n").output == "3\n5\n"


@pytest.mark.parametrize("op", ["max", "avg"])
def test_a_matrix_matches_torch_2d(cli, op):
    x = np.arange(30).reshape(5, 6) % 7
    text = "\n".join(" ".join(map(str, row)) for row in x)
    out = cli(
        "pool",
        "-",
        "--size",
        "2,3",
        "--stride",
        "2,1",
        "--pad",
        "1",
        "--op",
        op,
        "--to",
        "json",
        input=text,
    )
    expected = _torch2d(x[..., None].astype(float), op, (2, 3), (2, 1), 1)[..., 0]
    np.testing.assert_allclose(json.loads(out.output), expected)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_an_image_pools_each_channel_as_torch_does(cli, samples, tmp_path, op):
    from PIL import Image

    out = tmp_path / "small.tiff"
    result = cli(
        "pool",
        samples / "chelsea.png",
        "--size",
        "3",
        "--stride",
        "2",
        "--op",
        op,
        "-o",
        out.with_suffix(".png"),
    )
    assert result.exit_code == 0
    x = np.asarray(Image.open(samples / "chelsea.png").convert("RGB")).astype(float)
    expected = _torch2d(x, op, 3, 2)
    got = np.asarray(Image.open(out.with_suffix(".png"))).astype(float)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, np.clip(np.rint(expected), 0, 255))


def test_an_npy_volume_pools_rows_and_columns_per_channel(cli, samples, tmp_path):
    out = tmp_path / "y.npy"
    cli("pool", samples / "volume.npy", "--size", "2", "--op", "avg", "-o", out)
    x = np.load(samples / "volume.npy").astype(float)
    np.testing.assert_allclose(np.load(out), _torch2d(x, "avg", 2))


def test_steps_come_before_the_result(cli):
    out = cli("pool", "-", "--size", "2", "--steps", input="1 3 2 5").output
    assert out.splitlines()[0] == "max pooling, window 2, stride 2, no padding"
    assert "y[1]  window 2 5  ->  max = 5  valid" in out
    assert out.endswith("\n3 5\n")


def test_steps_refuse_more_than_64_outputs(cli):
    out = cli("pool", "-", "--size", "1", "--steps", input=" ".join(["1"] * 65))
    assert out.exit_code == 1
    assert out.output.startswith(
        "Error: --steps shows at most 64 output samples; this result has 65"
    )


def test_a_window_longer_than_the_input_is_an_error(cli):
    out = cli("pool", "-", "--size", "3", input="1 2")
    assert out.exit_code == 1
    assert out.output == "Error: empty result: a pool of 3 does not fit an input of 2\n"


def test_padding_over_half_the_window_is_a_usage_error(cli):
    out = cli("pool", "-", "--size", "2", "--pad", "2", input="1 2 3 4")
    assert out.exit_code == 2
    assert "pool [OPTIONS] INPUT" in out.output  # the command's own usage line
    assert "Error: pool padding 2 must be at most half the window 2" in out.output


def test_two_sizes_for_a_signal_is_a_usage_error(cli):
    out = cli("pool", "-", "--size", "2,2", input="1 2 3 4")
    assert out.exit_code == 2
    assert "stdin is a signal: give one --size, not two" in out.output


def test_several_inputs_go_to_a_folder(cli, tmp_path):
    (tmp_path / "a.txt").write_text("1 5 2 4\n")
    (tmp_path / "b.txt").write_text("7 0 1 1\n")
    out = tmp_path / "out"
    out.mkdir()
    result = cli("pool", tmp_path / "a.txt", tmp_path / "b.txt", "--size", "2", "-o", f"{out}/")
    assert result.exit_code == 0
    assert (out / "a.txt").read_text() == "5 4\n" and (out / "b.txt").read_text() == "7 1\n"


def test_a_3d_result_prints_as_matlab_blocks_and_reads_back(cli, samples, tmp_path):
    out = cli("pool", samples / "volume.npy", "--size", "2", "--to", "txt").output
    assert out.startswith("(:,:,1) =\n") and "\n(:,:,3) =\n" in out
    (tmp_path / "y.txt").write_text(out)
    again = cli("pool", tmp_path / "y.txt", "--size", "1", "--to", "json").output
    expected = _torch2d(np.load(samples / "volume.npy").astype(float), "max", 2)
    np.testing.assert_array_equal(json.loads(again), expected)


def test_alpha_is_pooled_as_its_own_channel(cli, tmp_path):
    from PIL import Image

    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = np.arange(16).reshape(4, 4) * 10
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    assert (
        cli(
            "pool", tmp_path / "a.png", "--size", "2", "--op", "avg", "-o", tmp_path / "b.png"
        ).exit_code
        == 0
    )
    out = np.asarray(Image.open(tmp_path / "b.png"))
    assert out.shape == (2, 2, 4)
    assert out[..., 0].tolist() == [[25, 45], [105, 125]]
    assert out[..., 3].tolist() == [[191, 255], [255, 255]]  # (0 + 3*255)/4, ties to even


def test_a_csv_file_keeps_its_header_and_commas(cli, tmp_path):
    (tmp_path / "a.csv").write_text("left,right\n1,5\n3,2\n4,4\n0,9\n")
    assert cli("pool", tmp_path / "a.csv", "--size", "2,1", "-o", tmp_path / "b.csv").exit_code == 0
    assert (tmp_path / "b.csv").read_text() == "left,right\n3,5\n4,9\n"
    assert cli("pool", tmp_path / "a.csv", "--size", "2,1").output == "left,right\n3,5\n4,9\n"


def test_audio_pools_each_channel_and_keeps_its_duration(cli, samples, tmp_path):
    import soundfile as sf

    out = tmp_path / "env.wav"
    assert cli("pool", samples / "melody.flac", "--size", "4", "-o", out).exit_code == 0
    x, rate = sf.read(samples / "melody.flac")
    y, new_rate = sf.read(out)
    assert new_rate == rate // 4 and y.shape == (len(x) // 4, 2)
    np.testing.assert_allclose(y[:, 1], x[: len(y) * 4, 1].reshape(-1, 4).max(axis=1), atol=1e-4)
