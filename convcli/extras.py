"""Optional parts of convcli, installed as extras: one line that says which, when missing.

The core (NumPy, SciPy, Click, soundfile, pyvips, Pillow) filters files; a cluster,
zarr stores and drawings need more, and ask for it here when first used.
"""

from __future__ import annotations

import importlib

from .errors import ConvcliError

EXTRA_OF = {"distributed": "cluster", "dask": "cluster", "zarr": "zarr", "matplotlib": "plots"}


class ExtraMissing(ConvcliError, ImportError):
    """A feature whose extra is not installed."""


def need(module: str, what: str):
    """Import ``module`` for ``what`` (``--scheduler``, ``.zarr stores``), or say which extra
    brings it.

    Examples
    --------
    >>> need("numpy", "arrays").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRA_OF.get(module.split(".")[0], "all")
        raise ExtraMissing(
            f"{what} needs the {extra} extra: pip install 'convcli[{extra}]'"
        ) from None
