"""The seed tutorial's own numbers, shipped in samples/: convcli reproduces what it prints."""

import re

import numpy as np
import pytest
from conftest import ROOT

SHARED = ROOT.parent / "shared" / "data" / "tutorial"


def _numbers(text: str) -> list[str]:
    """The lines of numbers and slice headings, without comments and blank lines."""
    lines = (re.sub(r"#.*", "", line).strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_pad_of_the_tutorial_volume_by_1_1_prints_padarray_number_for_number(cli, samples):
    result = cli("pad", samples / "volume.txt", "--size", "1,1")
    assert result.exit_code == 0, result.output
    assert _numbers(result.output) == _numbers((samples / "padarray.txt").read_text())


def test_the_shipped_volume_is_the_tutorial_x_and_the_npy_the_same_numbers(samples):
    from convcli.io import files

    x = files.read(str(samples / "volume.txt")).array
    assert x.shape == (5, 5, 3)
    np.testing.assert_array_equal(np.load(samples / "volume.npy"), x)
    assert x[0, :, 0].tolist() == [1, 1, 0, 2, 0]  # the tutorial's first row of x(:,:,1)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the project's shared tutorial data is not here")
@pytest.mark.parametrize("name", ["volume.txt", "padarray.txt"])
def test_the_samples_are_copies_of_the_tutorial_data(samples, name):
    assert (samples / name).read_text() == (SHARED / name).read_text()
