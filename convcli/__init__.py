"""convcli: convolve signals and images from the shell, and the library under it.

>>> from convcli import convolve
>>> convolve([0, 1, 2, 3, 4], [1, -1, 2], 'valid').tolist()
[1, 3, 5]
"""

__version__ = "0.1.0"
__all__ = ["convolve", "correlate", "match", "output_size", "pad", "pool", "xcorr", "__version__"]


def __getattr__(name):
    # the engine imports NumPy; keep `import convcli` (and `convcli outsize`) light, and
    # empty, so the command's signal handlers are in place before anything is imported
    if name in ("convolve", "correlate", "pad"):
        from . import engine

        return getattr(engine, name)
    if name == "output_size":
        from .geometry import output_size

        return output_size
    if name == "match":
        from .matching import match

        return match
    if name == "xcorr":
        from .engine.lags import xcorr

        return xcorr
    if name == "pool":
        from .engine.pool import pool

        return pool
    raise AttributeError(f"module 'convcli' has no attribute {name!r}")
