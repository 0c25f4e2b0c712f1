"""Atomic file output: a temporary file in the same folder, then one rename.

Temporaries are hidden and say whose they are (``.out.wav.convcli-k2j9.part.wav``),
so the one a SIGKILL may leave behind is recognisable. Every live temporary is
known here, so a cancelled batch can remove those its worker threads still write.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import threading

from ..errors import FileError

_LOCK = threading.Lock()
_LIVE: set[str] = set()
_CANCELLED = threading.Event()
_HERE = threading.local()  # the main thread's critical section, where signal handlers run


class Cancelled(Exception):
    """The run was interrupted: no new output may start or be put in place."""


def check_writable_folder(path: str) -> None:
    """Raise FileError early when ``path``'s folder does not exist or cannot be written."""
    if is_special(path):
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileError(f"{path}: the folder {folder} cannot be written")


def is_special(path: str) -> bool:
    """True for an existing device, FIFO or socket: written through, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    An error, Ctrl-C or SIGTERM inside the block removes the temporary file and
    leaves any existing ``path`` untouched. The new file gets the old one's
    permissions, or the usual ``0o666 & ~umask``. A special file (``/dev/null``,
    a FIFO) is yielded itself: it is written through, as a shell redirection would.
    Operating-system errors name ``path``, not the hidden temporary.
    """
    if is_special(path):
        with _naming(path, path):
            yield path
        return
    check_writable_folder(path)
    made = []
    try:
        with _critical():  # a signal now is raised once the temporary is known
            made.append(_create(path))
        tmp = made[0]
        with _naming(path, tmp):
            yield tmp
            os.chmod(tmp, _mode_for(path))
            _put_in_place(tmp, path)
    except BaseException:
        for tmp in made:
            _discard(tmp)
        raise


def write_bytes(payload: bytes, path: str) -> None:
    """Encoded bytes to standard output (``-``), or atomically to a file."""
    if path == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(payload)


def scratch_path(near: str, suffix: str = ".wav"):
    """A hidden scratch file beside ``near``, always removed (even on Ctrl-C or SIGTERM)."""
    return _scratch(near, suffix)


@contextlib.contextmanager
def _scratch(near, suffix):
    made = []
    try:
        with _critical():
            made.append(_create(near, f".scratch{suffix}"))
        with _naming(near, made[0]):
            yield made[0]
    finally:
        for tmp in made:
            _discard(tmp)


def deferring(exc: BaseException) -> bool:
    """Called by a signal handler: while this thread creates a temporary, keep ``exc`` to
    be raised as soon as the temporary is registered (and so removed); True if kept."""
    if getattr(_HERE, "depth", 0):
        _HERE.pending = exc
        return True
    return False


@contextlib.contextmanager
def _critical():
    _HERE.depth = getattr(_HERE, "depth", 0) + 1
    try:
        yield
    finally:
        _HERE.depth -= 1
        pending, _HERE.pending = getattr(_HERE, "pending", None), None
        if pending is not None and not _HERE.depth:
            raise pending


def cancel() -> None:
    """Remove every temporary still being written, and refuse new ones (a batch's Ctrl-C)."""
    with _LOCK:
        _CANCELLED.set()
        for tmp in _LIVE:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        _LIVE.clear()


def resume() -> None:
    """Allow writes again (a new batch in the same process)."""
    _CANCELLED.clear()


def _create(path: str, suffix: str | None = None) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    suffix = suffix if suffix is not None else ".part" + os.path.splitext(name)[1]
    with _LOCK:
        if _CANCELLED.is_set():
            raise Cancelled("interrupted")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.convcli-", suffix=suffix, dir=folder)
        except OSError as e:  # a read-only or full file system: name the user's path
            e.filename = path
            raise
        _LIVE.add(tmp)
    os.close(fd)
    return tmp


def _put_in_place(tmp: str, path: str) -> None:
    with _LOCK:
        if _CANCELLED.is_set():
            raise Cancelled("interrupted")
        os.replace(tmp, path)
        _LIVE.discard(tmp)


def _discard(tmp: str) -> None:
    with _LOCK:
        _LIVE.discard(tmp)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


@contextlib.contextmanager
def _naming(path: str, tmp: str):
    """Errors about the temporary (or nameless write errors) name the user's path."""
    try:
        yield
    except OSError as e:
        if e.errno is not None and e.filename in (None, tmp):  # a system error, not a message
            e.filename = path
        raise


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_dir(path: str):
    """Yield a temporary folder beside ``path`` (a ``.zarr`` store); swap it in on success.

    The folder is ``.<name>.<random>.part<ext>``. An error or Ctrl-C inside the block
    removes it and leaves any existing ``path`` untouched. On success an existing
    ``path`` is renamed aside, the new folder renamed onto it, then the old one removed,
    so a reader sees the old store or the new one, never a mix (though for an instant
    neither, since Linux cannot rename a folder over a non-empty one).
    """
    import shutil

    check_writable_folder(path)
    folder, name = os.path.split(os.path.abspath(path))
    tmp = tempfile.mkdtemp(prefix=f".{name}.", suffix=f".part{os.path.splitext(name)[1]}",
                           dir=folder)
    try:
        yield tmp
        if os.path.lexists(path):
            old = tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=folder)
            os.replace(path, os.path.join(old, name))
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
