"""Batches of files as tasks on a Dask ``distributed`` cluster.

A job is ``job(input_path, output_path)``: a module-level function, with its
settings bound by :func:`functools.partial`, so that it pickles by reference and
every worker runs the same code (the same convcli version must be installed on
each). Inputs and outputs live on storage every worker reaches; each job writes
its output atomically, as a local run does. ``distributed`` is imported only here.
"""

from __future__ import annotations

import contextlib
import os

from .errors import ConvcliError, SchedulerError

CONNECT_TIMEOUT = 10.0  # seconds


def scheduler_address(option: str | None = None) -> str | None:
    """The scheduler to use: ``--scheduler``'s value, else ``$DASK_SCHEDULER_ADDRESS``, else None.

    Examples
    --------
    >>> scheduler_address('tcp://10.0.0.5:8786')
    'tcp://10.0.0.5:8786'
    """
    return option or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


@contextlib.contextmanager
def connect(scheduler, timeout: float = CONNECT_TIMEOUT):
    """Yield a ``distributed.Client`` for an address (closed afterwards) or a given client.

    Raises
    ------
    SchedulerError
        One line, ``cannot reach the Dask scheduler at ADDRESS: why``, when no
        scheduler answers within ``timeout`` seconds.
    """
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        why = " ".join(str(e).split()) or type(e).__name__
        if why.startswith("Timed out trying to connect"):
            why = f"no answer within {timeout:g} s"  # the address, said once
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {why}") from None
    try:
        yield client
    finally:
        client.close()


def error_text(error: BaseException, path: str) -> str:
    """One line that says what went wrong, without repeating ``path``.

    convcli's own errors and OS/value/memory errors carry their message; anything
    else (a bug, a worker that died) also names its type.
    """
    text = " ".join(str(error).split())
    for prefix in (f"{path}: ", f"{path} "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if isinstance(error, (ConvcliError, OSError, ValueError, MemoryError)) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_batch(job, inputs, outputs, address=None, *, progress=None,
              timeout: float = CONNECT_TIMEOUT) -> list[tuple[str, str]]:
    """Run ``job(input, output)`` for each pair as a task on a Dask cluster.

    Parameters
    ----------
    job : callable
        Picklable: a module-level function or a ``functools.partial`` of one.
    inputs, outputs : sequence of str
        Paths that every worker reaches, one output per input.
    address : str or distributed.Client, optional
        The scheduler (``tcp://host:8786``); default ``$DASK_SCHEDULER_ADDRESS``.
    progress : callable, optional
        Called as ``progress(input, error)`` once per finished file, ``error``
        being None or the failure's one-line text.
    timeout : float
        Seconds to wait for the scheduler to answer.

    Returns
    -------
    list of (str, str)
        ``(input, error text)`` for each file that failed, in input order; the
        others are done.
    """
    from distributed import as_completed

    address = address or scheduler_address()
    if address is None:
        raise SchedulerError("no Dask scheduler given: use --scheduler or DASK_SCHEDULER_ADDRESS")
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    failed = {}
    with connect(address, timeout) as client, client.as_current():
        futures = client.map(job, list(inputs), list(outputs), pure=False)
        path_of = {future.key: path for future, path in zip(futures, inputs)}
        try:
            for future in as_completed(futures):
                path = path_of[future.key]
                error = _failure(future, path)
                if error is not None:
                    failed[path] = error
                if progress is not None:
                    progress(path, error)
        except BaseException:
            client.cancel(futures)
            raise
    return [(path, failed[path]) for path in inputs if path in failed]


def _failure(future, path: str) -> str | None:
    """The one-line error of a finished future, or None when it succeeded."""
    if future.status == "finished":
        return None
    if future.status == "cancelled":
        return "cancelled: the cluster dropped this task"
    return error_text(future.exception(), path)
