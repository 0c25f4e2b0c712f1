"""The one-thread BLAS block of the filter banks restores the caller's thread count."""

from convcli.engine import blas


def test_one_thread_sets_one_and_restores_the_count(monkeypatch):
    monkeypatch.setattr(blas, "_BUSY", [True])  # as on a machine whose cores are taken
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


def test_an_idle_machine_keeps_its_threads(monkeypatch):
    monkeypatch.setattr(blas, "_BUSY", [False])
    controls = blas._controls()
    if controls is None:
        return
    get, put = controls
    before = get()
    put(2)
    try:
        with blas.one_thread():
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
