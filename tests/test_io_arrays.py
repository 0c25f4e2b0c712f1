"""Text, JSON and npy formatting: shortest numbers, MATLAB N-D blocks, CSV headers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.errors import DataError
from convcli.io.arrays import csv_header, format_number, format_text, parse_text


@pytest.mark.parametrize(
    "value, text",
    [
        (5.000000000000001, "5"),
        (0.1 + 0.2, "0.3"),
        (2.5, "2.5"),
        (-0.0, "0"),
        (7, "7"),
        (1e-20, "1e-20"),
        (1 / 3, "0.333333333333333"),
        (1e300, "1e+300"),
        (np.int64(-3), "-3"),
    ],
)
def test_numbers_print_in_their_shortest_15_digit_form(value, text):
    assert format_number(value) == text


def test_precision_prints_percent_g():
    assert format_number(1 / 3, 4) == "0.3333"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_printed_numbers_read_back_to_15_significant_digits(v):
    assert float(format_number(v)) == float(f"{v:.15g}")


def test_a_3d_result_prints_as_matlab_blocks():
    x = np.arange(8).reshape(2, 2, 2)
    assert format_text(x) == "(:,:,1) =\n0 2\n4 6\n\n(:,:,2) =\n1 3\n5 7\n"


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 2, 2, 3), (1, 4, 2), (2, 1, 3)])
def test_nd_blocks_read_back_to_the_same_array(shape):
    x = np.arange(np.prod(shape)).reshape(shape) - 5
    y, orientation = parse_text(format_text(x))
    assert y.shape == shape and orientation == "matrix"
    np.testing.assert_array_equal(y, x)


def test_4d_blocks_run_the_first_trailing_index_fastest_as_matlab_does():
    text = format_text(np.zeros((1, 1, 2, 2), int))
    assert [line for line in text.splitlines() if "=" in line] == [
        "(:,:,1,1) =",
        "(:,:,2,1) =",
        "(:,:,1,2) =",
        "(:,:,2,2) =",
    ]


def test_matlab_display_with_a_name_and_blank_lines_reads_back():
    text = "x(:,:,1) =\n\n     1     2\n\n\nx(:,:,2) =\n\n     3     4\n"
    np.testing.assert_array_equal(parse_text(text)[0], [[[1, 3], [2, 4]]])


def test_incomplete_blocks_are_an_error():
    with pytest.raises(DataError, match="do not make a whole array"):
        parse_text("(:,:,1) =\n1 2\n(:,:,3) =\n3 4\n")
    with pytest.raises(DataError, match="a row of 1 numbers where the first row has 2"):
        parse_text("(:,:,1) =\n1 2\n(:,:,2) =\n3\n")
    with pytest.raises(DataError, match="numbers before the first"):
        parse_text("9 9\n(:,:,1) =\n1 2\n")


def test_a_csv_header_is_skipped_on_reading_and_kept_for_writing():
    text = "time,value\n0,1.5\n1,2.5\n"
    assert csv_header(text) == "time,value"
    array, _ = parse_text(text, "data.csv")
    np.testing.assert_array_equal(array, [[0, 1.5], [1, 2.5]])
    assert format_text(array, sep=",", header="time,value") == "time,value\n0,1.5\n1,2.5\n"
    assert csv_header("1,2\n") is None


def test_a_header_is_only_skipped_in_csv():
    with pytest.raises(DataError, match=r"data.txt:1:1: 'time' is not a number"):
        parse_text("time value\n1 2\n", "data.txt")


@pytest.mark.parametrize(
    "array,expected",
    [
        (np.array([2**64 - 1, 1], dtype=np.uint64), [float(2**64 - 1), 1.0]),
        (np.array(3.0), [3.0]),
        (np.array([True, False]), [1, 0]),
        (np.array([7], dtype=np.int8), [7]),
    ],
)
def test_every_real_dtype_becomes_exact_numbers_never_wrapped(array, expected):
    from convcli.io.arrays import as_numbers

    got = as_numbers(array, "x")
    assert got.tolist() == expected and got.dtype.kind in "if"


def test_deep_or_huge_json_is_one_clear_error():
    from convcli.errors import DataError
    from convcli.io.arrays import parse_json

    with pytest.raises(DataError, match="nested too deeply"):
        parse_json("[" * 3000 + "1" + "]" * 3000, "x")
    assert parse_json("[18446744073709551615, 1]", "x").tolist() == [2.0**64, 1.0]
    assert parse_json("5", "x").tolist() == [5]
