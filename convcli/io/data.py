"""``Data``: an array together with what its file said about it (a leaf module)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Data:
    """An array with what its file said about it.

    ``array`` is (n,) or (n, m) for text, any shape for JSON/npy, (frames, channels)
    for audio and (rows, cols[, channels]) for images.
    """

    array: np.ndarray
    format: str
    name: str = "input"
    orientation: str = "matrix"  # text: 'row', 'column' or 'matrix'
    sample_rate: int | None = None
    subtype: str | None = None
    image: dict = field(default_factory=dict)  # bit depth, alpha, metadata (see io.image)
    header: str | None = None  # a CSV file's first line

    @property
    def kind(self) -> str:
        from .registry import kind_of

        return kind_of(self.format)

    def with_array(self, array: np.ndarray) -> Data:
        return replace(self, array=array)
