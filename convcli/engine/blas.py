"""One BLAS thread for the filter banks' matrix products when other work holds the cores.

A CNN layer's products on a batch take a few milliseconds. On a 2-core machine
OpenBLAS's second thread gains at most 1.6x on them and, when another process
holds a core, its spinning hand-offs make each product 2-10x slower (a batch of
the tiny network: 11-17 ms on one thread, 100-160 ms on two under load; the
bench's 3x3 32->64 layer: 19 ms on one thread vs 32 ms on two at a load of 0.7,
22 vs 190-280 ms under load). The banks therefore run their products on one
thread and restore the caller's setting afterwards. A nearly idle machine (load
0.8) still gains from the second thread on the tiny network's steps (0.56 vs 0.64
of PyTorch's time). NumPy's ``matmul`` holds the GIL but ``np.dot`` releases it:
two Python threads with ``np.dot`` gave 1.5x once on an idle moment and nothing
at a load of 2, so they are left for later.
Works on NumPy's bundled OpenBLAS (found by symbol, as threadpoolctl does);
elsewhere it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes

_NAMES = (
    "scipy_openblas{}_num_threads64_",
    "scipy_openblas{}_num_threads",
    "openblas{}_num_threads64_",
    "openblas{}_num_threads",
)
_FOUND: list = []


def _controls():
    """``(get, set)`` of the loaded OpenBLAS, or None; looked up once per process."""
    if not _FOUND:
        _FOUND.append(_lookup())
    return _FOUND[0]


def _lookup():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _NAMES:
            get, put = name.format("_get"), name.format("_set")
            if hasattr(lib, get) and hasattr(lib, put):
                return getattr(lib, get), getattr(lib, put)
    return None


def busy() -> bool:
    """Whether other work held the cores when this process started (judged once).

    Measured on this project's 2-core machines, a training epoch against PyTorch: idle,
    two BLAS threads 0.85-1.01 against one thread's 1.15-1.25; with another process on a
    core, one thread is 2-10x faster. The load is read once, before any product runs, so
    that our own threads' spinning never feeds back into the choice.
    """
    if not _BUSY:
        import os

        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
        _BUSY.append(load >= (os.cpu_count() or 1) - 0.5)
    return _BUSY[0]


_BUSY: list = []


@contextlib.contextmanager
def one_thread():
    """Run the block with a single BLAS thread when the machine is busy (see :func:`busy`)."""
    controls = _controls() if busy() else None
    before = controls[0]() if controls else 1
    if before == 1:
        yield
        return
    controls[1](1)
    try:
        yield
    finally:
        controls[1](before)
