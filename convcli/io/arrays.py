"""Plain numbers: text, JSON and NumPy ``.npy``, in and out."""

from __future__ import annotations

import io
import json
import re
from tokenize import TokenError

import numpy as np

from ..errors import DataError

_SPLIT = re.compile(r"[^\s,]+")


def _number(token: str):
    try:
        return int(token)
    except ValueError:
        return float(token)


def parse_text(text: str, where: str = "input"):
    """Parse numbers separated by spaces/commas, rows by newlines or ``;``, ``#`` comments.

    Returns
    -------
    array : ndarray
        int64 when every number is an integer, else float64. 1-D for one row
        or one column, else 2-D (rows, cols).
    orientation : {'row', 'column', 'matrix'}
    """
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        offset = 0
        for part in line.split(";"):
            row = []
            for match in _SPLIT.finditer(part):
                token = match.group()
                col = offset + match.start() + 1
                try:
                    value = _number(token)
                except ValueError:
                    raise DataError(f"{where}:{lineno}:{col}: {token!r} is not a number") from None
                if value != value or value in (float("inf"), float("-inf")):
                    raise DataError(f"{where}:{lineno}:{col}: {token} is not allowed")
                row.append(value)
            offset += len(part) + 1
            if row:
                if rows and len(row) != len(rows[0][1]):
                    raise DataError(
                        f"{where}:{lineno}: a row of {len(row)} numbers where the first row "
                        f"has {len(rows[0][1])}")
                rows.append((lineno, row))
    if not rows:
        raise DataError(f"{where}: no numbers in the input")
    values = [r for _, r in rows]
    exact = all(isinstance(v, int) for r in values for v in r)
    array = np.array(values, dtype=np.int64 if exact and _fits_int64(values) else np.float64)
    if array.shape[0] == 1:
        return array[0], "row"
    if array.shape[1] == 1:
        return array[:, 0], "column"
    return array, "matrix"


def _fits_int64(values) -> bool:
    return all(-(2**63) <= v < 2**63 for r in values for v in r)


def format_number(v, precision: int | None = None) -> str:
    """Shortest text that reads back to the same float64; integers without ``.0``."""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if precision is not None:
        return f"{v:.{precision}g}"
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def format_text(array: np.ndarray, orientation: str = "row", precision: int | None = None) -> str:
    """Text for a 1-D or 2-D array; 1-D keeps the input's row or column orientation."""
    if array.ndim > 2:
        raise DataError(f"a {array.ndim}-D result does not fit in text; use --to json or npy")
    values = array.tolist()
    if array.ndim == 0:
        return format_number(values, precision) + "\n"
    if array.ndim == 1:
        sep = "\n" if orientation == "column" else " "
        return sep.join(format_number(v, precision) for v in values) + "\n"
    return "".join(" ".join(format_number(v, precision) for v in row) + "\n" for row in values)


def parse_json(text: str, where: str = "input") -> np.ndarray:
    """Nested lists of numbers, any depth, as an int64 or float64 array."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}:{e.lineno}:{e.colno}: not valid JSON ({e.msg})") from None
    try:
        array = np.array(value)
    except ValueError:
        raise DataError(f"{where}: the JSON lists are ragged (rows of different lengths)") from None
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{where}: the JSON must hold only numbers in nested lists")
    if array.size == 0:
        raise DataError(f"{where}: no numbers in the input")
    return _finite(array.astype(np.int64 if array.dtype.kind in "iu" else np.float64), where)


def _finite(array: np.ndarray, where: str) -> np.ndarray:
    """Refuse NaN and infinity, which would spread through any convolution."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise DataError(f"{where}: {array[bad]} at index {list(bad)} is not allowed")
    return array


def format_json(array: np.ndarray, precision: int | None = None) -> str:
    """Nested lists; floats in their shortest exact form, integral values as integers."""
    if array.dtype.kind in "iu":
        return json.dumps(array.tolist()) + "\n"

    def text(v):
        if isinstance(v, list):
            return "[" + ", ".join(text(u) for u in v) + "]"
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
    if array.dtype == bool or array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind != "f":
        raise DataError(f"{where}: cannot use {array.dtype} data as real numbers")
    if array.size == 0:
        raise DataError(f"{where}: the array is empty")
    return _finite(array.astype(np.float64, copy=False), where)


def format_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
