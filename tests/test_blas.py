"""The one-thread BLAS block of the filter banks restores the caller's thread count."""

from convcli.engine import blas


def test_one_thread_sets_one_and_restores_the_count():
    controls = blas._controls()
    if controls is None:
        with blas.one_thread():  # no OpenBLAS found: the block still runs
            pass
        return
    get, put = controls
    before = get()
    put(2)
    try:
        with blas.one_thread():
            assert get() == 1
        assert get() == 2
    finally:
        put(before)
