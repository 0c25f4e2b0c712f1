"""convcli.pad: MATLAB padarray semantics."""

import numpy as np
import pytest

from convcli import pad


def test_padarray_of_the_seed_volume_with_1_1_gives_7x7x3():
    x = np.arange(75).reshape(5, 5, 3)
    y = pad(x, (1, 1))
    assert y.shape == (7, 7, 3)
    assert (y[1:-1, 1:-1] == x).all() and y[0].sum() == 0


@pytest.mark.parametrize(
    "mode,expected",
    [
        ("zeros", [0, 0, 1, 2, 3, 0, 0]),
        ("replicate", [1, 1, 1, 2, 3, 3, 3]),
        ("symmetric", [2, 1, 1, 2, 3, 3, 2]),
        ("reflect", [3, 2, 1, 2, 3, 2, 1]),
        ("circular", [2, 3, 1, 2, 3, 1, 2]),
        ("edge", [1, 1, 1, 2, 3, 3, 3]),
        ("wrap", [2, 3, 1, 2, 3, 1, 2]),
    ],
)
def test_each_pad_mode_on_a_short_signal(mode, expected):
    assert pad([1, 2, 3], 2, mode).tolist() == expected


def test_constant_value_and_direction():
    assert pad([1, 2], 2, "constant", value=9, direction="pre").tolist() == [9, 9, 1, 2]
    assert pad([1, 2], 1, direction="post").tolist() == [1, 2, 0]


def test_per_axis_sizes_leave_later_axes_alone():
    y = pad(np.ones((2, 3, 4)), (1, 2))
    assert y.shape == (4, 7, 4)


def test_too_many_sizes_is_an_error():
    from convcli.errors import ShapeError

    with pytest.raises(ShapeError):
        pad([1, 2], (1, 1))
