"""The ``convcli`` command and ``python -m convcli``.

Signals are taken over before anything heavy is imported: a Ctrl-C (or SIGTERM)
that lands while Click, NumPy and the commands load ends the process at once
with 130 (143), quietly, since nothing has been written yet. ``run`` then turns
them into exceptions that unwind (temporaries removed) for the rest of the run.
"""

import os  # already loaded by the interpreter: instant

try:  # the C module: `import signal` builds enums and takes milliseconds
    import _signal as _sig
except ImportError:  # not CPython
    import signal as _sig


def _leave_now(signum, frame):  # nothing started yet: nothing to clean up
    os._exit(128 + signum)


_sig.signal(_sig.SIGINT, _leave_now)
_sig.signal(_sig.SIGTERM, _leave_now)

import sys  # noqa: E402


class _Closed:
    """Standard output closed (``>&-``): any write fails as the write to it would, so the
    command says so (``Error: standard output: ...``, exit 1) instead of losing its result."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data):
        import errno

        if data:
            raise OSError(errno.EBADF, "closed", "standard output")
        return 0

    @property
    def buffer(self):
        return self

    def fileno(self) -> int:
        return self.fd

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _repair_stdio() -> None:
    """Give closed standard streams (``>&-``) the null device, so nothing lands in a file that
    happens to get their descriptor; a closed standard output refuses writes."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            stream = _Closed(fd) if fd == 1 else open(fd, mode, closefd=False)  # noqa: SIM115
            setattr(sys, name, stream)


def entry() -> None:
    """Console entry point (``convcli = convcli.__main__:entry``)."""
    _repair_stdio()
    try:
        from .cli import run

        run()
    except KeyboardInterrupt as e:  # a signal in the last instants, after run's own handling
        os._exit(143 if type(e).__name__ == "Terminated" else 130)


if __name__ == "__main__":
    entry()
