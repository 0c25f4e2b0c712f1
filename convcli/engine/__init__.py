"""The convolution engine: NumPy and SciPy only."""

from .core import METHODS, choose_method, convolve, correlate
from .padding import PAD_MODES, pad

__all__ = ["METHODS", "PAD_MODES", "choose_method", "convolve", "correlate", "pad"]
