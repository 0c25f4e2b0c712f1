"""Atomic file output: a temporary file in the same folder, then one rename."""

from __future__ import annotations

import contextlib
import os
import tempfile

from ..errors import FileError


def check_writable_folder(path: str) -> None:
    """Raise FileError early when ``path``'s folder does not exist or cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileError(f"{path}: the folder {folder} cannot be written")


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    An error or Ctrl-C inside the block removes the temporary file and leaves any
    existing ``path`` untouched. The new file gets the old one's permissions, or
    the usual ``0o666 & ~umask``.
    """
    check_writable_folder(path)
    folder, name = os.path.split(os.path.abspath(path))
    suffix = os.path.splitext(name)[1]
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".part{suffix}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
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
