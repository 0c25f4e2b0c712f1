"""convcli kernels, and help on every command."""

import numpy as np
import pytest

from convcli.kernels import KERNELS, make


def test_listing_names_every_kernel(cli):
    out = cli("kernels").output
    for name in KERNELS:
        assert name in out


def test_show_prints_the_2d_form_by_default_and_1d_on_request(cli):
    assert cli("kernels", "show", "sobel-x").output == "1 0 -1\n2 0 -2\n1 0 -1\n"
    assert cli("kernels", "show", "box:4", "--dims", "1").output == "0.25 0.25 0.25 0.25\n"
    out = cli("kernels", "show", "lowpass:cutoff=1000,taps=31", "--rate", "8000").output
    taps = np.array(out.split(), dtype=float)
    assert len(taps) == 31 and abs(taps.sum() - 1) < 1e-9


@pytest.mark.parametrize(
    "spec",
    ["gaussian:sigma=1.5", "box:5", "disk:radius=3", "motion:length=7,angle=30", "log:sigma=2"],
)
def test_smoothing_kernels_sum_to_one_and_derivatives_to_zero(spec):
    k = make(spec)
    assert abs(k.sum() - (0 if spec.startswith("log") else 1)) < 1e-9


def test_gradient_kernels_respond_positively_to_a_rightward_ramp():
    from convcli import convolve

    ramp = np.tile(np.arange(8.0), (8, 1))
    assert convolve(ramp, make("sobel-x"), "valid").min() > 0
    assert convolve(ramp.T, make("sobel-y"), "valid").min() > 0


def test_echo_and_fir_need_a_rate():
    from convcli.errors import SpecError

    with pytest.raises(SpecError, match="needs a sample rate"):
        make("echo:delay=0.1")
    k = make("echo:delay=0.001,decay=0.5", rate=1000)
    assert k.tolist() == [1, 0.5]


def commands(group, prefix=()):
    import click

    for name, cmd in group.commands.items():
        yield prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, prefix + (name,))


def test_every_command_has_help_with_an_example(cli):
    from convcli.cli import main

    for path in commands(main):
        out = cli(*path, "--help").output
        assert "Usage:" in out and "Example" in out, path


def test_version(cli):
    assert cli("--version").output.startswith("convcli, version")


def test_shell_completion_offers_kernel_names_and_files():
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "_CONVCLI_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcli conv2d x.png -k gau",
        "COMP_CWORD": "4",
    }
    code = "from convcli.cli import main; main(prog_name='convcli')"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    ).stdout
    assert "plain,gaussian" in out.split() and "file,gau" in out.split()
    env.update(COMP_WORDS="convcli conv2d sam", COMP_CWORD="2")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    ).stdout
    assert out.split() == ["file,sam"]


def test_show_saves_the_kernel_in_the_format_the_name_says(cli, tmp_path):
    import soundfile as sf
    from PIL import Image

    cli("kernels", "show", "gaussian:sigma=1", "-o", tmp_path / "g.npy")
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), make("gaussian:sigma=1"))
    cli("kernels", "show", "box:4", "--dims", "1", "-o", tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_text() == "0.25 0.25 0.25 0.25\n"
    cli(
        "kernels",
        "show",
        "lowpass:cutoff=1000,taps=31",
        "--rate",
        "8000",
        "-o",
        tmp_path / "lp.wav",
    )
    taps, rate = sf.read(tmp_path / "lp.wav")
    assert rate == 8000 and len(taps) == 31 and abs(taps.sum() - 1) < 1e-6
    cli("kernels", "show", "sobel-x", "-o", tmp_path / "s.png")
    assert np.asarray(Image.open(tmp_path / "s.png")).tolist() == [
        [191, 128, 64],
        [255, 128, 0],
        [191, 128, 64],
    ]


def test_an_audio_kernel_needs_a_rate(cli, tmp_path):
    out = cli("kernels", "show", "box:3", "--dims", "1", "-o", tmp_path / "b.wav")
    assert out.exit_code == 2 and "needs --rate" in out.output


@pytest.mark.parametrize(
    "args",
    [["sobel-x"], ["lowpass:cutoff=800,taps=51", "--rate", "8000"], ["box:5", "--dims", "1"]],
)
def test_plot_draws_a_png(cli, tmp_path, args):
    from PIL import Image

    out = cli("kernels", "show", *args, "--plot", tmp_path / "k.png")
    assert out.exit_code == 0 and out.output == ""
    assert Image.open(tmp_path / "k.png").format == "PNG"


def test_matplotlib_is_imported_only_when_a_plot_is_asked_for():
    import subprocess
    import sys

    code = (
        "import sys; from convcli.cli import main\n"
        "main.main(['kernels', 'show', 'sobel-x'], standalone_mode=False)\n"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "False"
