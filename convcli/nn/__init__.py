"""A tiny CNN in NumPy: layers with backward passes, losses, optimizers, training.

Imports the engine (for its filter-bank convolution), never Click or Pillow.
"""

from .data import Dataset, download, load, read_idx
from .model import Network
from .train import Settings, accuracy, confusion, train

__all__ = [
    "Dataset",
    "Network",
    "Settings",
    "accuracy",
    "confusion",
    "download",
    "load",
    "read_idx",
    "train",
]
