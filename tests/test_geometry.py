"""One output-size function, checked against PyTorch's formulas and the engine itself."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import convolve, output_size
from convcli.errors import ShapeError
from convcli.geometry import mode_padding, pool_length, transposed_length


def test_the_seed_formula():
    assert output_size(5, 3, pad=1, stride=2) == 3
    assert output_size((5, 5), 3, pad=1, stride=2) == (3, 3)
    assert output_size(7, 3) == 5
    assert output_size(5, 3, "full") == 7
    assert output_size(5, 3, "same") == 5


def test_same_padding_is_ceil_before_and_floor_after_for_even_kernels():
    assert mode_padding(4, "same") == (2, 1)
    assert mode_padding(3, "same") == (1, 1)
    assert mode_padding(2, "same", d=3) == (2, 1)  # ke = 4


@given(
    st.integers(1, 60),
    st.integers(1, 9),
    st.integers(1, 4),
    st.integers(1, 3),
    st.sampled_from(["full", "same", "valid", None]),
    st.integers(0, 3),
)
def test_output_size_equals_the_shape_the_engine_produces(n, k, s, d, mode, p):
    pad = p if mode is None else None
    try:
        expected = output_size(n, k, mode, pad=pad, stride=s, dilation=d)
    except ShapeError:
        with pytest.raises(ShapeError):
            convolve(np.ones(n), np.ones(k), mode, pad=pad, stride=s, dilation=d)
        return
    assert convolve(np.ones(n), np.ones(k), mode, pad=pad, stride=s, dilation=d).shape == (
        expected,
    )


torch = pytest.importorskip("torch")


@given(
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(1, 3),
    st.integers(0, 3),
)
def test_transposed_length_matches_torch(n, k, s, p, d, op):
    if op >= max(s, d):
        with pytest.raises(ValueError):
            transposed_length(n, k, s, p, d, op)
        return
    layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, dilation=d, output_padding=op)
    try:
        expected = layer(torch.zeros(1, 1, n)).shape[-1]
    except RuntimeError:
        with pytest.raises(ShapeError):
            transposed_length(n, k, s, p, d, op)
        return
    assert transposed_length(n, k, s, p, d, op) == expected


@given(st.integers(1, 40), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3), st.booleans())
def test_pool_length_matches_torch_with_ceil_mode(n, k, s, p, ceil):
    if p > k // 2:
        with pytest.raises(ValueError):
            pool_length(n, k, s, p, 1, ceil)
        return
    pool = torch.nn.MaxPool1d(k, stride=s, padding=p, ceil_mode=ceil)
    try:
        expected = pool(torch.zeros(1, 1, n)).shape[-1]
    except RuntimeError:
        with pytest.raises(ShapeError):
            pool_length(n, k, s, p, 1, ceil)
        return
    assert pool_length(n, k, s, p, 1, ceil) == expected
