"""Atomic file output: a temporary file in the same folder, then one rename.

Temporaries are hidden, short and say whose they are (``.out.wav.convcli-k2j9.part.wav``),
so the one a SIGKILL may leave behind is recognisable. Every live temporary is
known here, so an interrupted run (:func:`cancel`) removes those its threads still
write, and no rename into place happens after it.

An output is treated as ``cp`` and a shell redirection treat it: a symbolic link is
written through (its target is replaced, the link stays), a device or FIFO is
written through, a read-only file is refused, and with :func:`set_exclusive`
(``--no-clobber``) a file that exists by the time the result is ready is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
import threading
import time

from ..errors import ConvcliError, FileError

_LOCK = threading.Lock()
_LIVE: set[str] = set()
_CANCELLED = threading.Event()
_EXCLUSIVE = threading.Event()
_HOOKS: list = []  # what else a cancel stops first (a cluster's futures)
_NAME = 24  # characters of the output's name kept in a temporary's name


class Cancelled(Exception):
    """The run was interrupted: no new output may start or be put in place."""


class Exists(ConvcliError, FileExistsError):
    """With ``--no-clobber``: the output appeared while the result was computed; kept."""


def set_exclusive(on: bool) -> None:
    """``--no-clobber`` for the whole run: outputs are created, never replaced."""
    (_EXCLUSIVE.set if on else _EXCLUSIVE.clear)()


def check_writable_folder(path: str) -> None:
    """Raise FileError early when ``path``'s folder does not exist or cannot be written."""
    if is_special(path):
        return
    folder = os.path.dirname(target_of(path))
    if not os.path.isdir(folder):
        raise FileError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileError(f"{path}: the folder {folder} cannot be written")


def target_of(path: str) -> str:
    """The file a write of ``path`` replaces: a symbolic link's target (dangling or not)."""
    return os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)


def check_replaceable(path: str) -> None:
    """Refuse an existing output whose permissions forbid writing (as ``cp`` does)."""
    try:
        mode = os.stat(target_of(path)).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) and not mode & 0o222:
        raise FileError(
            f"{path}: the file is read-only; make it writable (chmod u+w) or choose another output"
        )


def is_special(path: str) -> bool:
    """True for an existing device, FIFO or socket: written through, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside ``path``'s target; rename it onto it only on success.

    An error, Ctrl-C or SIGTERM removes the temporary file and leaves any existing
    ``path`` untouched. The new file gets the old one's permissions, or the usual
    ``0o666 & ~umask``. A special file (``/dev/null``, a FIFO) is yielded itself: it
    is written through, as a shell redirection would. Operating-system errors name
    ``path``, not the hidden temporary.
    """
    if is_special(path):
        with _naming(path, path):
            yield path
        return
    check_writable_folder(path)
    check_replaceable(path)
    target = target_of(path)
    tmp = _create(target)
    try:
        with _naming(path, tmp):
            yield tmp
            os.chmod(tmp, _mode_for(target))
            _put_in_place(tmp, target, path)
    finally:
        _discard(tmp)


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
    tmp = _create(target_of(near), f".scratch{suffix}")
    try:
        with _naming(near, tmp):
            yield tmp
    finally:
        _discard(tmp)


def spool(stream, block: int = 1 << 20) -> str:
    """Copy a stream (a pipe) into a hidden file under the temporary folder, a block at a
    time; the file is removed when the run ends, or at once by :func:`cancel`."""
    import atexit

    tmp = _create(os.path.join(tempfile.gettempdir(), "stdin"), ".spool")
    atexit.register(_discard, tmp)
    try:
        with open(tmp, "wb") as f:
            while chunk := stream.read(block):
                f.write(chunk)
    except BaseException:
        _discard(tmp)
        raise
    return tmp


@contextlib.contextmanager
def on_cancel(stop):
    """While inside, :func:`cancel` calls ``stop()`` before it removes temporaries (so a
    cluster's tasks stop before their store goes)."""
    _HOOKS.append(stop)
    try:
        yield
    finally:
        _HOOKS.remove(stop)


AFTERMATH = 0.1  # seconds


def cancel() -> None:
    """Remove every temporary still being written, and refuse new ones (Ctrl-C, SIGTERM)."""
    for stop in list(_HOOKS):
        with contextlib.suppress(Exception):
            stop()
    with _LOCK:
        _CANCELLED.set()
        live = list(_LIVE)
        for tmp in live:
            _remove(tmp)
        _LIVE.clear()
    # a library handed a temporary's path a moment ago (libvips opens its output as its
    # save starts) may create it again just after: look once more before the exit
    time.sleep(AFTERMATH)
    for tmp in live:
        _remove(tmp)


def resume() -> None:
    """Allow writes again (a new run in the same process)."""
    _CANCELLED.clear()


def _hidden(target: str, suffix: str) -> tuple[str, str, str]:
    """(folder, prefix, suffix) of a short hidden name beside ``target`` that says convcli."""
    folder, name = os.path.split(target)
    return folder, f".{name[:_NAME]}.convcli-", suffix[:16]


def _create(target: str, suffix: str | None = None, folder_too: bool = False) -> str:
    ext = os.path.splitext(target)[1]
    folder, prefix, suffix = _hidden(target, suffix if suffix is not None else ".part" + ext)
    with _LOCK:
        if _CANCELLED.is_set():
            raise Cancelled("interrupted")
        try:
            if folder_too:
                tmp = tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=folder)
            else:
                fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
                os.close(fd)
        except OSError as e:  # a read-only or full file system: name the user's path
            e.filename = target
            raise
        _LIVE.add(tmp)
    return tmp


def _put_in_place(tmp: str, target: str, path: str) -> None:
    """Rename ``tmp`` onto ``target``; with ``--no-clobber`` only where nothing is yet."""
    with _LOCK:
        if _CANCELLED.is_set():
            raise Cancelled("interrupted")
        if _EXCLUSIVE.is_set():
            _link(tmp, target, path)
        else:
            os.replace(tmp, target)
        _LIVE.discard(tmp)


def _link(tmp: str, target: str, path: str) -> None:
    """Put ``tmp`` at ``target`` only if nothing is there: a hard link, which fails if
    anything is (no check-then-rename race), or an exclusive create where links are not."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise Exists(f"{path} exists; skipped (--no-clobber)") from None
    except OSError:  # a file system without hard links
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            raise Exists(f"{path} exists; skipped (--no-clobber)") from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _discard(tmp: str) -> None:
    with _LOCK:
        _LIVE.discard(tmp)
    _remove(tmp)


def _remove(tmp: str) -> None:
    if os.path.isdir(tmp) and not os.path.islink(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
    else:
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


def _old_of(target: str) -> str:
    """Where an existing store waits while its replacement is swapped in."""
    folder, prefix, _ = _hidden(target, "")
    return os.path.join(folder, prefix + "old")


@contextlib.contextmanager
def atomic_dir(path: str):
    """Yield a temporary folder beside ``path`` (a ``.zarr`` store); swap it in on success.

    An error or a signal inside the block removes it and leaves any existing ``path``
    untouched. On success an existing ``path`` is renamed aside, the new folder onto
    it, then the old one removed, all under the lock that a signal's :func:`cancel`
    takes too, so a signal never lands between the renames. Only a SIGKILL can: the
    old store then waits under a fixed hidden name, and the next write of ``path``
    puts it back first.
    """
    check_writable_folder(path)
    check_replaceable(path)
    target = target_of(path)
    old = _old_of(target)
    if os.path.isdir(old) and not os.path.lexists(target):  # a killed swap: undo it
        os.replace(old, target)
    tmp = _create(target, ".part" + os.path.splitext(target)[1], folder_too=True)
    try:
        yield tmp
        with _LOCK:
            if _CANCELLED.is_set():
                raise Cancelled("interrupted")
            if os.path.lexists(target):
                _remove(old)
                os.replace(target, old)
                os.replace(tmp, target)
                _remove(old)
            else:
                os.replace(tmp, target)
            _LIVE.discard(tmp)
    finally:
        _discard(tmp)
