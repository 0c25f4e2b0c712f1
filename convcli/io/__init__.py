"""Reading and writing data: text, JSON, NumPy, audio and images. Never imports Click."""

from .formats import Data, read, write

__all__ = ["Data", "read", "write"]
