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
