"""Whole-file jobs: the library entry points that the commands call.

:func:`convolve_file` reads an input, convolves it and writes the result, choosing
how: long audio block by block, images in strips through libvips, chunked arrays in
pieces, everything else in memory through the engine. :func:`pad_file` and
:func:`pool_file` do the same for padding and pooling.
"""

from .convolve import convolve_data, convolve_file, load_kernel, postprocess, prepare
from .reshape import pad_file, pool_file

__all__ = ["convolve_data", "convolve_file", "load_kernel", "pad_file", "pool_file",
           "postprocess", "prepare"]
