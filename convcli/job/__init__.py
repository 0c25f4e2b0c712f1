"""Convolving data in memory: the library functions the routes and the lesson share.

Whole files go through :mod:`convcli.routes` (:func:`convcli.routes.convolve_file`,
``pad_file``, ``pool_file``), which choose how an input travels and call these on
what they hold in memory.
"""

from .convolve import convolve_data, load_kernel, postprocess, prepare

__all__ = ["convolve_data", "load_kernel", "postprocess", "prepare"]
