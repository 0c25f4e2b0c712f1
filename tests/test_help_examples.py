"""Every example in every command's help runs as written (in a folder holding the files the
examples name, copied from samples/), and prints what its comment says it prints."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from convcli.cli import main

SAMPLES = ROOT / "samples"
# examples that need what a test machine does not have: the network, a Debian data package
NOT_HERE = {
    "--download": "fetches MNIST from the network",
    "/usr/share/fashion-mnist": "needs Debian's dataset-fashion-mnist",
    "~/mnist": "needs a user's own MNIST folder",
    "tcp://host:8786": "needs a Dask cluster (tests/test_cluster.py runs one)",
}


def _examples():
    """(command name, example line) for every help's Examples: block, continuations joined."""
    commands = [(name, main.get_command(None, name)) for name in main.list_commands(None)]
    for name, command in [("convcli", main), *commands]:
        text = command.help or ""
        block = text.split("Examples:", 1)[1] if "Examples:" in text else ""
        for line in re.sub(r"\\\n\s*", "", block).splitlines():
            if "convcli" in line:
                yield name, line.strip()


EXAMPLES = list(_examples())


def _folder(tmp):
    """The files the examples name: the samples under the names the help uses."""
    copies = {
        "photo.jpg": "seven.jpg",
        "photo.png": "chelsea.png",
        "speech.wav": "speech.wav",
        "room-ir.wav": "room-ir.wav",
        "signal.txt": "signal.txt",
        "bank.npy": "bank.npy",
        "volume.npy": "volume.npy",
        "seven.jpg": "seven.jpg",
    }
    for target, source in copies.items():
        shutil.copy(SAMPLES / source, tmp / target)
    np.savetxt(tmp / "data.txt", np.arange(12.0))
    (tmp / "matrix.txt").write_text("1 2 3 4\n5 6 7 8\n9 10 11 12\n")
    np.save(tmp / "image.npy", np.load(SAMPLES / "volume.npy"))
    for folder, ext in (("photos", "jpg"), ("photos", "png"), ("scans", "png")):
        (tmp / folder).mkdir(exist_ok=True)
        for i in range(2):
            shutil.copy(
                SAMPLES / ("seven.jpg" if ext == "jpg" else "camera.png"),
                tmp / folder / f"p{i}.{ext}",
            )
    shutil.copy(SAMPLES / "melody.flac", tmp / "melody.flac")
    subprocess.run(
        [sys.executable, "-m", "convcli", "conv1d", "melody.flac", "-k", "1", "-o", "melody.wav"],
        cwd=tmp,
        check=True,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "convcli",
            "train-mnist",
            "--epochs",
            "1",
            "--limit",
            "500",
            "-o",
            "digits.npz",
            "-q",
        ],
        cwd=tmp,
        check=True,
    )  # predict's model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples")
    _folder(tmp)
    return tmp


def test_every_command_has_examples():
    named = {name for name, _ in EXAMPLES}
    assert named == {"convcli", *main.list_commands(None)}


@pytest.mark.parametrize("name,line", EXAMPLES, ids=[line for _, line in EXAMPLES])
def test_the_example_runs_as_written(folder, name, line):
    for needle, why in NOT_HERE.items():
        if needle in line:
            pytest.skip(why)
    command, _, comment = line.partition("  # ")
    shell = command.replace("convcli ", f"{sys.executable} -m convcli ")
    p = subprocess.run(
        ["bash", "-c", shell], cwd=folder, capture_output=True, text=True, timeout=240
    )
    assert p.returncode == 0, p.stderr
    expected = comment.strip()
    if expected and re.fullmatch(r"[-\d. ]+|\d+(x\d+)*", expected):
        assert p.stdout.splitlines()[0].split() == expected.split(), p.stdout
