"""--animate: GIFs that open, one frame per output, and inputs too large to watch refused."""

import numpy as np
import pytest
from PIL import Image

from convcli.animate import animation, write_gif
from convcli.errors import FormatError, ShapeError

pytest.importorskip("matplotlib")


def _frames(path):
    with Image.open(path) as im:
        return im.n_frames, im.size


def test_the_tutorial_1d_example_has_one_frame_per_output(cli, tmp_path):
    gif = tmp_path / "flip.gif"
    result = cli("conv1d", "-", "-k", "1,-1,2", "--steps", "--animate", gif, input="0 1 2 3 4\n")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("0 1 1 3 5 2 8\n")  # the steps and the result, as usual
    assert _frames(gif)[0] == 7


def test_a_strided_2d_example_has_one_frame_per_output_position(cli, tmp_path):
    gif = tmp_path / "stride.gif"
    matrix = "1 1 0 2 0\n2 2 2 2 1\n0 0 0 2 1\n2 2 2 2 1\n2 0 2 2 1\n"
    result = cli(
        "conv2d",
        "-",
        "-k",
        "1 0 -1; 0 1 0; -1 0 1",
        "--stride",
        "2",
        "--pad",
        "1",
        "--correlate",
        "--animate",
        gif,
        input=matrix,
    )
    assert result.exit_code == 0, result.output
    count, size = _frames(gif)
    assert count == 9 and size[0] >= 600


def test_the_frames_show_the_window_moving_by_the_stride():
    frames = animation(np.arange(9), [1, 0, -1], ndim=1, pad=1, stride=3)
    assert len(frames) == 3
    a, b = (np.asarray(f).astype(int) for f in frames[:2])
    assert a.shape == b.shape and np.abs(a - b).sum() > 0


def test_more_than_64_outputs_in_1d_is_refused():
    with pytest.raises(
        ShapeError,
        match=r"^--animate shows at most 64 outputs in 1-D; "
        r"this result has 70",
    ):
        animation(np.arange(68), [1, 2, 3], ndim=1, mode="full")


def test_more_than_16x16_outputs_in_2d_is_refused():
    with pytest.raises(ShapeError, match=r"at most 16x16 outputs in 2-D; this result is 17x17"):
        animation(np.ones((17, 17)), np.ones((3, 3)), ndim=2, mode="same")


def test_channels_and_filter_banks_are_refused_with_a_way_out(samples):
    with pytest.raises(ShapeError, match="one channel through one kernel"):
        animation(np.load(samples / "volume.npy"), np.load(samples / "bank.npy"), ndim=2, pad=1)


def test_a_gif_is_written_atomically_and_only_as_gif(tmp_path):
    frames = animation([0, 1, 2], [1, 1], ndim=1, mode="valid")
    write_gif(frames, str(tmp_path / "a.gif"))
    assert _frames(tmp_path / "a.gif")[0] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
    with pytest.raises(FormatError, match="writes a GIF"):
        write_gif(frames, str(tmp_path / "a.png"))


def test_animate_on_too_large_an_input_is_one_error_line(runner, tmp_path):
    from convcli.cli import main

    result = runner.invoke(
        main,
        ["conv1d", "-", "-k", "1,1", "--animate", str(tmp_path / "x.gif")],
        input=" ".join(["1"] * 100),
    )
    assert result.exit_code == 1
    assert "Error: --animate shows at most 64 outputs in 1-D" in result.output
    assert not (tmp_path / "x.gif").exists()
