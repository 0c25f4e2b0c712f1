"""convolve_file: one entry point per job; every input read exactly once."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from convcli.errors import FormatError
from convcli.routes import convolve_file
from convcli.settings import ConvSettings


def _lines(args, shell=False, **kw):
    p = subprocess.run(args, capture_output=True, text=True, shell=shell, **kw)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_process_substitution_loses_nothing():
    out = _lines(f"bash -c '{sys.executable} -m convcli conv1d <(seq 1 100000) -k 1'", shell=True)
    assert len(out) == 100000 and out[-1] == "100000"


def test_dev_stdin_and_a_fifo_are_read_once_whole(tmp_path):
    numbers = " ".join(str(i) for i in range(20000))
    out = _lines(
        [sys.executable, "-m", "convcli", "conv1d", "/dev/stdin", "-k", "1,1"], input=numbers
    )
    assert len(out) == 20001 and out[-1] == "19999"
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(numbers))
    writer.start()
    out = _lines([sys.executable, "-m", "convcli", "conv1d", str(fifo), "-k", "2"])
    writer.join(timeout=10)
    assert len(out) == 20000 and out[1] == "2"


def test_an_image_fifo_is_sniffed_and_read_once(tmp_path, samples):
    fifo = tmp_path / "photo"
    os.mkfifo(fifo)
    writer = threading.Thread(
        target=lambda: fifo.write_bytes((samples / "camera.png").read_bytes())
    )
    writer.start()
    convolve_file(str(fifo), str(tmp_path / "y.png"), ConvSettings("box:3", ndim=2))
    writer.join(timeout=10)
    import pyvips

    assert pyvips.Image.new_from_file(str(tmp_path / "y.png")).width == 512


@pytest.mark.parametrize(
    "ndim,sample,message",
    [
        (1, "camera.png", "camera.png is an image: use conv2d"),
        (2, "speech.wav", "speech.wav is audio: use conv1d"),
    ],
)
def test_the_wrong_kind_of_input_names_the_command_that_fits(samples, ndim, sample, message):
    with pytest.raises(FormatError, match=message):
        convolve_file(str(samples / sample), None, ConvSettings("1", ndim=ndim))


def test_csv_keeps_its_header_and_commas(cli, tmp_path):
    (tmp_path / "t.csv").write_text("left,right\n1,2\n3,4\n5,6\n")
    result = cli("conv1d", tmp_path / "t.csv", "-k", "1,1", "-o", tmp_path / "y.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "y.csv").read_text() == "left,right\n1,2\n4,6\n8,10\n5,6\n"
    np.testing.assert_array_equal(
        np.loadtxt(tmp_path / "y.csv", delimiter=",", skiprows=1)[1], [4, 6]
    )


def test_verbose_says_the_route_and_the_time_of_each_stage(cli, samples, tmp_path):
    result = cli("conv1d", "-", "-k", "1,2", "-v", input="1 2 3 4 5")
    assert "convcli: read stdin (txt):" in result.output
    assert "direct by the cost model" in result.output
    result = cli("conv2d", samples / "chelsea.png", "-k", "box:5", "-o", tmp_path / "y.png", "-v")
    assert "route: image strips, compiled (451x300x3 image, 5x5 kernel" in result.output
    quiet = cli("conv2d", samples / "chelsea.png", "-k", "box:5", "-o", tmp_path / "y.png", "-q")
    assert quiet.exit_code == 0 and quiet.output == ""
