"""Reading and writing data: text, JSON, NumPy, audio and images. Never imports Click.

``from convcli.io import read, write, Data`` works; nothing heavy is imported until used,
so that commands which only need ``convcli.io.atomic`` start fast.
"""

__all__ = ["Data", "read", "write"]


def __getattr__(name):
    if name == "Data":
        from .data import Data

        return Data
    if name in ("read", "write"):
        from . import files

        return getattr(files, name)
    raise AttributeError(f"module 'convcli.io' has no attribute {name!r}")
