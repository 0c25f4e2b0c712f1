"""Reading and writing data: text, JSON, NumPy, audio and images. Never imports Click."""

from .data import Data
from .files import read, write

__all__ = ["Data", "read", "write"]
