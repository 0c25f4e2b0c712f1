"""Separable kernels by ``scipy.ndimage.correlate1d``: one compiled pass per axis.

``correlate1d`` pads each line in a small buffer as it goes (no padded copy of
the whole image) and accumulates in float64; for a rank-one kernel two passes
replace ``kh * kw`` shifted multiply-adds. It applies where an output sample ``o``
of an axis reads input samples ``o - before .. o - before + k - 1`` and the output
is no longer than the input: ``same``, ``valid`` and small explicit padding, at
unit stride and dilation.
"""

from __future__ import annotations

import numpy as np

# the engine's padding names -> ndimage's (ndimage's 'reflect' keeps the edge sample)
_MODES = {
    "zeros": "constant",
    "constant": "constant",
    "replicate": "nearest",
    "symmetric": "reflect",
    "reflect": "mirror",
    "circular": "wrap",
}


def applies(geometry, pad_mode: str) -> bool:
    """Whether every axis fits what ``correlate1d`` computes (see the module's docstring)."""
    return pad_mode in _MODES and all(
        ax.stride == ax.dilation == 1 and ax.k <= ax.n and ax.before + ax.after <= ax.k - 1
        for ax in geometry
    )


def correlate_separable(x: np.ndarray, factors, geometry, pad_mode: str, pad_value: float):
    """Correlate ``x`` with ``outer(u, v)`` by two passes, cropped to the geometry's window.

    Parameters
    ----------
    x : ndarray of shape (n_0, n_1, *channels), float
    factors : (u, v), 1-D kernels of lengths k_0 and k_1 (correlation orientation)
    geometry : tuple of two convcli.geometry.Axis

    Returns
    -------
    ndarray of shape (length_0, length_1, *channels), x's dtype
    """
    from scipy.ndimage import correlate1d

    mode = _MODES[pad_mode]
    cval = pad_value if pad_mode == "constant" else 0.0
    y = x
    for axis, (w, ax) in enumerate(zip(factors, geometry)):
        w = np.asarray(w, dtype=np.float64)
        y = correlate1d(y, w, axis=axis, mode=mode, cval=cval, origin=ax.before - ax.k // 2)
        cval *= w.sum()  # a constant border, filtered by this pass, is the next pass's border
    return y[: geometry[0].length, : geometry[1].length]


def correlate_separable_naive(x, factors, geometry, pad_mode, pad_value):
    """Reference: pad with ``np.pad`` and sum the outer-product kernel's taps. Tests only."""
    from .padding import pad_pairs

    xp = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
    w = np.outer(*factors)
    out = np.zeros((geometry[0].length, geometry[1].length) + x.shape[2:])
    for i, j in np.ndindex(*w.shape):
        out += w[i, j] * xp[i : i + geometry[0].length, j : j + geometry[1].length]
    return out
