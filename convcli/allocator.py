"""glibc's allocator, as the command line's streaming jobs want it (a no-op elsewhere).

Two needs pull apart. Image tiles on several threads want big freed buffers handed
back to the system, or each thread's heap keeps its own and memory grows with the
threads; glibc also raises its mmap threshold after the first such frees, so it has
to be fixed. Audio blocks reuse the same few buffers hundreds of times, and handed
back each time they cost page faults (680,000 for ten minutes of stereo): while they
stream, the heap keeps them. The command line sets the first; routes ask for the
second around their loop.
"""

from __future__ import annotations

import contextlib

RELEASED = 1 << 20  # buffers of 1 MiB and more go back to the system when freed
KEPT_FREE = 4 << 20  # a heap keeps this much freed memory at its top for what comes next
THREAD_HEAPS = 2
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # mallopt's options


def _libc():
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt  # noqa: B018 - glibc has it, musl and macOS do not
    except (OSError, AttributeError):
        return None
    return libc


def release_big_buffers() -> None:
    """Freed buffers of RELEASED bytes and more go back at once, from at most
    THREAD_HEAPS heaps (call before threads start)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, RELEASED)
        libc.mallopt(_M_TRIM_THRESHOLD, KEPT_FREE)
        libc.mallopt(_M_ARENA_MAX, THREAD_HEAPS)


@contextlib.contextmanager
def kept(threshold: int = 32 << 20):
    """While the block runs, freed buffers under ``threshold`` stay in the heap for reuse;
    afterwards big ones go back again and the heap is trimmed."""
    libc = _libc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_TRIM_THRESHOLD, 2 * threshold)
    libc.mallopt(_M_MMAP_THRESHOLD, threshold)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, RELEASED)
        libc.mallopt(_M_TRIM_THRESHOLD, KEPT_FREE)
        libc.malloc_trim(0)


def trim() -> None:
    """Hand what the heaps keep back to the system now (before a plot takes its own)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
