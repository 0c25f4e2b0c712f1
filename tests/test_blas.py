"""The one-thread BLAS block of the filter banks restores the caller's thread count."""

import pytest

from convcli.engine import blas


@pytest.mark.parametrize("busy,inside", [(True, 1), (False, 2)])
def test_one_thread_when_busy_and_the_count_restored(monkeypatch, busy, inside):
    monkeypatch.setattr(blas, "_BUSY", [busy])  # a machine whose cores are taken, or idle
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
            assert get() == inside
        assert get() == 2
    finally:
        put(before)


def test_busyness_is_judged_once_from_the_load(monkeypatch):
    import os

    monkeypatch.setattr(blas, "_BUSY", [])
    monkeypatch.setattr(os, "getloadavg", lambda: (float(os.cpu_count() or 1), 0.0, 0.0))
    assert blas.busy() is True
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert blas.busy() is True  # decided once per process
