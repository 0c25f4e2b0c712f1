"""The text of ``match --steps``: Pearson's r of a template and each window, worked by hand.

Each window shows its mean, its deviations from the mean and their norm, the products
with the template's deviations, their sum and r, so that a learner sees why a louder or
shifted copy of the pattern scores the same. The arithmetic is the definition, one
window at a time (the tests hold it against the engine).
"""

from __future__ import annotations

import numpy as np

from .errors import ShapeError

MAX_WINDOWS = 64


def _num(v, precision=None) -> str:
    from .io.arrays import format_number

    return format_number(round(float(v), 4) if precision is None else v, precision)


def _row(a, precision) -> str:
    return " ".join(_num(v, precision) for v in a)


def match_steps(x: np.ndarray, t: np.ndarray, precision: int | None = None) -> str:
    """Every window's mean, norm, products and r, then a blank line.

    Parameters
    ----------
    x : ndarray of shape (n,)
    t : ndarray of shape (k,), k <= n

    Examples
    --------
    >>> print(match_steps(np.array([0, 2, 4, 1]), np.array([1, 2, 3])), end="")
    template: 1 2 3  mean 2
      t - mean: -1 0 1  norm 1.4142
    r = sum((t - mean) * (x - mean)) / (norm(t - mean) * norm(x - mean)), per window
    window 0 (samples 0-2): 0 2 4  mean 2
      x - mean: -2 0 2  norm 2.8284
      products: 2 0 2  sum 4  r = 4 / (1.4142 * 2.8284) = 1
    window 1 (samples 1-3): 2 4 1  mean 2.3333
      x - mean: -0.3333 1.6667 -1.3333  norm 2.1602
      products: 0.3333 0 -1.3333  sum -1  r = -1 / (1.4142 * 2.1602) = -0.3273
    <BLANKLINE>
    """
    n, k = len(x), len(t)
    count = n - k + 1
    if count > MAX_WINDOWS:
        raise ShapeError(
            f"--steps shows at most {MAX_WINDOWS} windows; this match has {count}"
            " (use a shorter input or drop --steps)"
        )
    tp = t - t.mean()
    tnorm = float(np.sqrt((tp * tp).sum()))
    lines = [
        f"template: {_row(t, precision)}  mean {_num(t.mean(), precision)}",
        f"  t - mean: {_row(tp, precision)}  norm {_num(tnorm, precision)}",
        "r = sum((t - mean) * (x - mean)) / (norm(t - mean) * norm(x - mean)), per window",
    ]
    for i in range(count):
        w = x[i : i + k]
        wp = w - w.mean()
        wnorm = float(np.sqrt((wp * wp).sum()))
        products = tp * wp
        total = float(products.sum())
        den = tnorm * wnorm
        r = total / den if den > 0 else 0.0
        why = "" if den > 0 else "  (no variance: r = 0)"
        lines.append(
            f"window {i} (samples {i}-{i + k - 1}): {_row(w, precision)}  "
            f"mean {_num(w.mean(), precision)}"
        )
        lines.append(f"  x - mean: {_row(wp, precision)}  norm {_num(wnorm, precision)}")
        lines.append(
            f"  products: {_row(products, precision)}  sum {_num(total, precision)}  "
            f"r = {_num(total, precision)} / ({_num(tnorm, precision)} * "
            f"{_num(wnorm, precision)}) = {_num(r, precision)}{why}"
        )
    return "\n".join(lines) + "\n\n"
