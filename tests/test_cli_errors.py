"""Every bad input: one 'Error:' line and the right exit code, never a traceback."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (["conv1d", "missing.txt", "-k", "1"], None, "Error: missing.txt: no such file"),
        (["conv1d", "-", "-k", "1"], "1 2\n3 abc", "Error: stdin:2:3: 'abc' is not a number"),
        (["conv1d", "-", "-k", "1"], "# nothing\n", "Error: stdin: no numbers in the input"),
        (["conv1d", "-", "-k", "1"], "1 nan", "Error: stdin:1:3: nan is not allowed"),
        (["conv1d", "-", "-k", "1"], "1 2\n3", "a row of 1 numbers where the first row has 2"),
        (
            ["conv1d", "-", "-k", "1,1,1,1", "--mode", "valid"],
            "1 2",
            "Error: empty result: the kernel spans 4 samples but the (padded) input has only 2 "
            "(input length 2, kernel length 4)",
        ),
        (["conv1d", "-", "-k", "nosuch:3"], "1 2", "Error: unknown kernel 'nosuch'"),
        (["conv1d", "-", "-k", "1,2,3;3,4,5"], "1 2\n3 4", "the kernel has 3 channel"),
        (["conv1d", "-", "-k", "1"], "[[1, 2], [3]]", "ragged"),
        (
            ["conv1d", "-", "-k", "1", "-o", "/nonexistent/dir/out.txt"],
            "1",
            "Error: /nonexistent/dir/out.txt: the folder /nonexistent/dir does not exist",
        ),
    ],
)
def test_bad_data_is_one_line_and_exit_1(cli, args, stdin, message):
    result = cli(*args, input=stdin)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.count("Error:") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["conv1d", "-", "-k", "1", "--mode", "same", "--pad", "1"],
        ["conv1d", "-", "-k", "1", "--mode", "middle"],
        ["conv1d", "-", "-k", "1", "--stride", "0"],
        ["conv1d", "-", "-k", "1", "--pad", "1,2,3"],
        ["conv1d", "-", "-k", "1", "--pad-mode", "mirror"],
        ["conv2d", "-", "-k", "1", "--stride", "1,2,3"],
        ["conv1d", "-"],
        ["outsize", "--input", "5"],
        ["outsize", "--input", "axb", "--kernel", "3"],
        ["pad", "-", "--size", "x"],
    ],
)
def test_bad_options_exit_2_with_usage(cli, args):
    result = cli(*args, input="1 2 3")
    assert result.exit_code == 2, result.output
    assert "Error:" in result.output and "Traceback" not in result.output


def test_nan_in_npy_or_json_is_refused_with_its_index(cli, tmp_path):
    np.save(tmp_path / "n.npy", np.array([[1.0, 2.0], [np.nan, 4.0]]))
    result = cli("conv1d", tmp_path / "n.npy", "-k", "1")
    assert result.exit_code == 1 and "nan at index [1, 0] is not allowed" in result.output
    result = cli("conv1d", "-", "-k", "1", input="[1, NaN]")
    assert result.exit_code == 1 and "nan at index [1] is not allowed" in result.output


def test_npy_with_pickles_is_refused(cli, tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    result = cli("conv1d", tmp_path / "o.npy", "-k", "1")
    assert result.exit_code == 1 and "not a readable .npy" in result.output


def test_a_failed_run_leaves_an_existing_output_untouched(cli, tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("precious\n")
    result = cli("conv1d", "-", "-k", "1,1,1", "--mode", "valid", "-o", out, input="1")
    assert result.exit_code == 1
    assert out.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_writing_onto_the_input_needs_in_place_by_any_path_or_hard_link(cli, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("1 2 3\n")
    os.link(path, tmp_path / "hard.txt")
    os.symlink(path, tmp_path / "soft.txt")
    for out in (path, tmp_path / "hard.txt", tmp_path / "soft.txt", f"{tmp_path}/./x.txt"):
        result = cli("conv1d", path, "-k", "1,1", "-o", out)
        assert result.exit_code == 1 and "one of the inputs" in result.output, out
        assert path.read_text() == "1 2 3\n"
    assert cli("conv1d", path, "-k", "1,1", "-o", path, "--in-place").exit_code == 0
    assert path.read_text() == "1 3 5 3\n"


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "convcli", *args], capture_output=True, text=True, **kw
    )


def test_debug_shows_a_traceback_and_plain_runs_do_not():
    plain = run("conv1d", "missing.txt", "-k", "1")
    assert plain.returncode == 1 and plain.stderr == "Error: missing.txt: no such file\n"
    debug = run("--debug", "conv1d", "missing.txt", "-k", "1")
    assert "Traceback" in debug.stderr


def test_a_closed_pipe_ends_quietly():
    p = subprocess.run(
        f"seq 1 200000 | {sys.executable} -m convcli conv1d - -k 1 | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert p.stdout == "1\n"
    assert p.stderr == ""


def test_ctrl_c_exits_130_and_leaves_no_partial_output(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("\n".join(str(i % 7) for i in range(3_000_000)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "convcli",
            "conv1d",
            str(big),
            "-k",
            "1,2",
            "-o",
            str(tmp_path / "out.txt"),
        ],
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["big.txt"]


def test_results_too_large_for_memory_are_refused_before_allocating(cli):
    result = cli("conv1d", "-", "-k", "1,1", "--dilation", "1000000000000", input="1 2")
    assert result.exit_code == 1
    assert "Error: the result would need about" in result.output and "available" in result.output
    result = cli("pad", "-", "--size", "100000000000", input="1 2")
    assert result.exit_code == 1 and "would need about" in result.output


def test_a_binary_result_for_a_terminal_is_a_usage_error(cli, monkeypatch):
    from convcli.io import files

    monkeypatch.setattr(files, "_terminal", lambda: True)
    result = cli("conv2d", "-", "-k", "1", "--to", "png", input="1 2")
    assert result.exit_code == 2 and result.output.count("Error:") == 1
    assert "write it with -o FILE.png" in result.output


def test_a_binary_result_goes_to_a_redirected_standard_output(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes((ROOT / "samples" / "chelsea.png").read_bytes())
    with open(photo, "rb") as src, open(tmp_path / "b.jpg", "wb") as out:
        p = subprocess.run(
            [sys.executable, "-m", "convcli", "conv2d", "-", "-k", "box:3", "--to", "jpg"],
            stdin=src,
            stdout=out,
            stderr=subprocess.PIPE,
        )
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "b.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    "args",
    [["--pad-value", "inf"], ["--offset", "nan"], ["--bias", "1,nan"], ["--pad-value", "-inf"]],
)
def test_non_finite_option_values_are_usage_errors(cli, args):
    result = cli("conv2d", "-", "-k", "1", *args, input="1 2 3")
    assert result.exit_code == 2 and "finite" in result.output


def test_integer_text_written_as_audio(cli, tmp_path):
    result = cli(
        "conv1d", "-", "-k", "1", "-o", tmp_path / "y.wav", "--rate", "8000", input="0 1 0 -1"
    )
    assert result.exit_code == 0, result.output
    import soundfile as sf

    y, rate = sf.read(tmp_path / "y.wav")
    assert len(y) == 4 and y[1] == pytest.approx(1, abs=1e-4)
