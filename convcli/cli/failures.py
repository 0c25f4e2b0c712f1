"""What went wrong, in one line: operating-system errors named by their path, and Ctrl-C."""

from __future__ import annotations

import errno
import os

_MEANINGS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EPIPE: "broken pipe (the reader went away)",
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EFBIG: "the file would be too large for the file system",
    errno.EIO: "input/output error (a failing disk or connection)",
    errno.EMFILE: "too many open files",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EBADF: "closed (nothing could be written)",
}


_STDOUT = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound exactly as Ctrl-C is (temporaries removed); the exit status is 143."""


def describe_os_error(e: OSError) -> str:
    """``'out.wav: no space left on the device'``: the path (when known) and what it means."""
    meaning = _MEANINGS.get(e.errno) or (e.strerror or str(e) or type(e).__name__).lower()
    path = e.filename if e.filename is not None else None
    if path is None and e.errno in _STDOUT:  # our files are named; a nameless write is stdout
        path = "standard output"
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return f"{path}: {meaning}" if path else meaning


def interrupt_status(e: BaseException | None) -> int:
    """130 for Ctrl-C, 143 for SIGTERM: the shell's 128 + signal number."""
    return 143 if isinstance(e, Terminated) else 130
