"""ConvSettings: the options of a job as one typed object, defaults in one place."""

import pytest

from convcli.errors import UsageProblem
from convcli.settings import ConvSettings


def test_the_default_mode_is_full_in_1d_and_same_in_2d():
    assert ConvSettings("box:3", ndim=1).mode == "full"
    assert ConvSettings("box:3", ndim=2).mode == "same"


def test_explicit_padding_leaves_the_mode_unset():
    assert ConvSettings("1", ndim=1, pad=(2,)).mode is None


@pytest.mark.parametrize("mode", ["same", "full"])
def test_pad_with_an_implicit_mode_is_a_usage_problem(mode):
    with pytest.raises(UsageProblem, match=f"--pad and --mode {mode} both say how to pad"):
        ConvSettings("1", ndim=2, pad=(1,), mode=mode)


def test_stride_and_dilation_hold_one_value_per_axis():
    s = ConvSettings("1", ndim=2, stride=(2,), dilation=3)
    assert s.stride == (2, 2) and s.dilation == (3, 3)
    with pytest.raises(ValueError):
        ConvSettings("1", ndim=1, stride=(1, 2))


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        ConvSettings("1").mode = "valid"
