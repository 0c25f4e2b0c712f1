"""Plain numbers: text, JSON and NumPy ``.npy``, in and out."""

from __future__ import annotations

import cmath
import io
import json
import math
import re
from tokenize import TokenError

import numpy as np

from ..errors import DataError

_SPLIT = re.compile(r"[^\s,]+")
_BLOCK = re.compile(r"^\s*\w*\(:,:((?:,\d+)+)\)\s*=\s*$")  # MATLAB's "(:,:,2) =" heading


def _number(token: str):
    """An int, a float, or a complex number as Python and NumPy print one (``1+2j``)."""
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        if token.rstrip(")")[-1:] not in ("j", "J"):
            raise
        return complex(token)


def _row(part: str, where: str, lineno: int, offset: int) -> list:
    """The numbers of one row of text, with the line and column of a bad token."""
    row = []
    for match in _SPLIT.finditer(part):
        token = match.group()
        col = offset + match.start() + 1
        try:
            value = _number(token)
        except ValueError:
            raise DataError(f"{where}:{lineno}:{col}: {token!r} is not a number") from None
        if not cmath.isfinite(value):
            raise DataError(f"{where}:{lineno}:{col}: {token} is not allowed")
        row.append(value)
    return row


def _blocks(text: str, where: str):
    """``[(index, [(lineno, row), ...]), ...]``: one block per MATLAB heading (or one, unheaded).

    A ``.csv`` file's first line that holds a non-number is its header and is skipped.
    """
    blocks = [(None, [])]
    lines = text.splitlines()
    if where.lower().endswith(".csv") and csv_header(text) is not None:
        lines[0] = ""
    for lineno, line in enumerate(lines, 1):
        line = line.split("#", 1)[0]
        heading = _BLOCK.match(line)
        if heading:
            index = tuple(int(v) for v in heading.group(1).strip(",").split(","))
            blocks.append((index, []))
            continue
        offset = 0
        for part in line.split(";"):
            row = _row(part, where, lineno, offset)
            offset += len(part) + 1
            if row:
                blocks[-1][1].append((lineno, row))
    return blocks if blocks[0][1] or len(blocks) == 1 else blocks[1:]


def _matrix(rows, where: str, first_width: int | None = None) -> list:
    width = first_width or len(rows[0][1])
    for lineno, row in rows:
        if len(row) != width:
            raise DataError(
                f"{where}:{lineno}: a row of {len(row)} numbers where the first row has {width}"
            )
    return [r for _, r in rows]


def _stack(blocks, where: str) -> list:
    """MATLAB blocks ``(:,:,i,j,...)`` as nested lists of shape (rows, cols, i, j, ...)."""
    if blocks[0][0] is None:
        raise DataError(f"{where}: numbers before the first '(:,:,1) =' block")
    first = blocks[0][1]
    if not first:
        raise DataError(f"{where}: the block {blocks[0][0]} holds no numbers")
    matrices = {index: np.array(_matrix(rows, where, len(first[0][1]))) for index, rows in blocks}
    extent = tuple(max(ix[i] for ix in matrices) for i in range(len(blocks[0][0])))
    shapes = {m.shape for m in matrices.values()}
    if len(shapes) != 1 or len(matrices) != np.prod(extent) or min(min(ix) for ix in matrices) < 1:
        raise DataError(
            f"{where}: the (:,:,...) blocks do not make a whole array "
            f"(expected {'x'.join(map(str, extent))} blocks of one size)"
        )
    out = np.zeros(shapes.pop() + extent, dtype=object)
    for index, m in matrices.items():
        out[(slice(None), slice(None)) + tuple(i - 1 for i in index)] = m
    return out.tolist()


def parse_text(text: str, where: str = "input"):
    """Parse numbers separated by spaces/commas, rows by newlines or ``;``, ``#`` comments.

    MATLAB's display of an N-D array, blocks headed ``(:,:,1) =``, reads back as
    that array; a ``.csv`` file (by ``where``) may start with a header line.

    Returns
    -------
    array : ndarray
        int64 when every number is an integer, else float64. 1-D for one row
        or one column, 2-D (rows, cols), or (rows, cols, ...) for MATLAB blocks.
    orientation : {'row', 'column', 'matrix'}

    Examples
    --------
    >>> parse_text("(:,:,1) =\\n1 2\\n(:,:,2) =\\n3 4\\n")[0].tolist()
    [[[1, 3], [2, 4]]]
    """
    blocks = _blocks(text, where)
    if not any(rows for _, rows in blocks):
        raise DataError(f"{where}: no numbers in the input")
    if blocks[0][0] is not None or len(blocks) > 1:
        values = _stack(blocks, where)
        flat = np.ravel(np.array(values, dtype=object)).tolist()
        return np.array(values, dtype=_dtype_of(flat)), "matrix"
    values = _matrix(blocks[0][1], where)
    array = np.array(values, dtype=_dtype_of([v for r in values for v in r]))
    if array.shape[0] == 1:
        return array[0], "row"
    if array.shape[1] == 1:
        return array[:, 0], "column"
    return array, "matrix"


def csv_header(text: str) -> str | None:
    """The first line of CSV text when it holds names and no number (a header), else None.

    A line mixing numbers and a non-number is a typo, reported with its line and
    column when the numbers are read, never taken for a header.
    """
    first = text.split("\n", 1)[0].strip()
    fields = [f for f in _SPLIT.findall(first.split("#", 1)[0])]
    if not fields:
        return None
    for field in fields:
        try:
            _number(field)
        except ValueError:
            continue
        return None  # a number among them: a row of data
    return first


def _dtype_of(values: list):
    """int64 when every number is an integer within int64, complex128 when one is complex,
    else float64."""
    if all(isinstance(v, int) for v in values):
        return np.int64 if all(-(2**63) <= v < 2**63 for v in values) else np.float64
    return np.complex128 if any(isinstance(v, complex) for v in values) else np.float64


def format_number(v, precision: int | None = None) -> str:
    """Shortest text that reads back to the value rounded to 15 significant digits.

    Integers print without ``.0``; ``precision`` prints ``%.Ng`` instead. A complex
    number prints as ``re+imj`` (each part so), which Python, NumPy and the text reader
    read back.

    >>> format_number(5.000000000000001), format_number(0.1 + 0.2), format_number(2.5)
    ('5', '0.3', '2.5')
    >>> format_number(1 - 2.5j), format_number(3j)
    ('1-2.5j', '0+3j')
    """
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        imag = format_number(v.imag, precision)
        sign = "" if imag[:1] in "-+" else "+"
        return f"{format_number(v.real, precision)}{sign}{imag}j"
    v = float(v)
    if precision is not None:
        return f"{v:.{precision}g}"
    if math.isfinite(v):
        v = float(f"{v:.15g}")  # float noise past 15 digits is not shown
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _rows_text(matrix, precision, sep: str = " ") -> str:
    return "".join(sep.join(format_number(v, precision) for v in row) + "\n" for row in matrix)


def _block_text(array: np.ndarray, precision) -> str:
    """MATLAB's display of an N-D array: one (rows, cols) block per trailing index."""
    trailing = array.shape[2:]
    parts = []
    for flat in range(int(np.prod(trailing))):
        index = np.unravel_index(flat, trailing, order="F")  # the first trailing index fastest
        heading = ",".join(str(int(i) + 1) for i in index)
        matrix = array[(slice(None), slice(None)) + tuple(index)].tolist()
        parts.append(f"(:,:,{heading}) =\n" + _rows_text(matrix, precision))
    return "\n".join(parts)


def format_text(
    array: np.ndarray,
    orientation: str = "row",
    precision: int | None = None,
    *,
    sep: str = " ",
    header: str | None = None,
) -> str:
    """Text for an array; 1-D keeps the input's row or column orientation.

    A 3-D or larger array prints as MATLAB prints one, a block per channel headed
    ``(:,:,1) =``, which :func:`parse_text` reads back. ``sep=","`` and ``header``
    write CSV.
    """
    values = array.tolist()
    head = f"{header}\n" if header else ""
    if array.ndim == 0:
        return head + format_number(values, precision) + "\n"
    if array.ndim == 1:
        joiner = "\n" if orientation == "column" else sep
        return head + joiner.join(format_number(v, precision) for v in values) + "\n"
    if array.ndim == 2:
        return head + _rows_text(values, precision, sep)
    return head + _block_text(array, precision)


def parse_json(text: str, where: str = "input") -> np.ndarray:
    """Nested lists of numbers, any depth, as an int64, float64 or complex128 array.

    A string that holds a complex number (``"1+2j"``) is one; ``[re, im]`` pairs, which
    :func:`format_json` writes, read as a last axis of two (real two-channel data looks
    the same).
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}:{e.lineno}:{e.colno}: not valid JSON ({e.msg})") from None
    except RecursionError:
        raise DataError(f"{where}: the JSON lists are nested too deeply") from None
    if '"' in text:
        value = _json_complex(value, where)
    try:
        array = np.array(value)
    except (ValueError, OverflowError):
        raise DataError(f"{where}: the JSON lists are ragged (rows of different lengths)") from None
    except RecursionError:
        raise DataError(f"{where}: the JSON lists are nested too deeply") from None
    if array.dtype == object and all(isinstance(v, int) for v in array.ravel()):
        array = array.astype(np.float64)  # integers beyond 64 bits: as floats, as NumPy would
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{where}: the JSON must hold only numbers in nested lists")
    return as_numbers(array, where)


def _json_complex(value, where: str):
    """Strings of numbers (``"1+2j"``, ``"3"``) as numbers, anywhere in nested lists."""
    if isinstance(value, list):
        return [_json_complex(v, where) for v in value]
    if isinstance(value, str):
        try:
            return _number(value.strip())
        except ValueError:
            raise DataError(f"{where}: {value!r} in the JSON is not a number") from None
    return value


def as_numbers(array: np.ndarray, where: str) -> np.ndarray:
    """Any numeric array as the engine's numbers: int64 where exact, else float64 or
    complex128; at least 1-D.

    Unsigned integers beyond int64 become float64 (never wrap to negative numbers); a 0-d
    array is one sample; NaN and infinity are refused.
    """
    array = np.atleast_1d(array)
    if array.size == 0:
        raise DataError(f"{where}: no numbers in the input")
    if array.dtype == bool:
        return array.astype(np.int64)
    if array.dtype.kind in "iu":
        if array.dtype.kind == "u" and array.dtype.itemsize == 8 and array.max() >= 2**63:
            return array.astype(np.float64)
        return array.astype(np.int64)
    if array.dtype.kind == "c":
        return _finite(array.astype(np.complex128, copy=False), where)
    if array.dtype.kind != "f":
        raise DataError(f"{where}: cannot use {array.dtype} data as numbers")
    return _finite(array.astype(np.float64, copy=False), where)


def _finite(array: np.ndarray, where: str) -> np.ndarray:
    """Refuse NaN and infinity, which would spread through any convolution."""
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise DataError(f"{where}: {array[bad]} at index {list(bad)} is not allowed")
    return array


def format_json(array: np.ndarray, precision: int | None = None) -> str:
    """Nested lists; floats in their shortest exact form, integral values as integers.

    A complex number is the pair ``[re, im]``: ``[1+2j, 3]`` gives ``[[1, 2], [3, 0]]``.
    """
    if array.dtype.kind in "iu":
        return json.dumps(array.tolist()) + "\n"

    def text(v):
        if isinstance(v, list):
            return "[" + ", ".join(text(u) for u in v) + "]"
        if isinstance(v, complex):
            return f"[{format_number(v.real, precision)}, {format_number(v.imag, precision)}]"
        return format_number(v, precision)

    return text(array.tolist()) + "\n"


def parse_npy(data: bytes, where: str = "input") -> np.ndarray:
    """A ``.npy`` file's array (no pickles), as int64 or float64."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, TokenError) as e:
        raise DataError(f"{where}: not a readable .npy file ({e})") from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{where}: expected one array, got an archive")
    return as_numbers(array, where)


def format_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
