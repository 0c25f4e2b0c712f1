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

CONNECT_TIMEOUT = 6.0  # seconds: one line within 10 s, start-up included, on a busy machine too


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

    The whole handshake has one deadline, whatever the address does (refuses, never
    answers, accepts and stays silent), and a cluster with no worker is refused too,
    since its tasks would wait for ever.

    Raises
    ------
    SchedulerError
        One line, ``cannot reach the Dask scheduler at ADDRESS: why``, within
        ``timeout`` seconds (plus ``timeout`` for a worker to join).
    """
    from .extras import need

    Client = need("distributed", "--scheduler").Client
    if isinstance(scheduler, Client):
        yield scheduler
        return
    check_address(scheduler)
    _quiet_logs()
    client = _within(
        timeout,
        lambda: Client(scheduler, timeout=timeout, set_as_default=False),
        f"cannot reach the Dask scheduler at {scheduler}",
    )
    try:
        _within(
            timeout,
            lambda: client.wait_for_workers(1, timeout=timeout),
            f"the Dask scheduler at {scheduler} has no workers",
            late="none joined",
        )
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=2)


def _quiet_logs() -> None:
    """distributed logs its own tracebacks on stderr when a connection drops; convcli says
    what happened in one line instead."""
    import logging

    for name in ("distributed", "distributed.client", "distributed.comm", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def check_address(address: str) -> None:
    """Refuse at once what is no scheduler address: ``tcp://host:port`` or ``host:port``.

    Examples
    --------
    >>> check_address("tcp://127.0.0.1:8786")
    """
    import re

    if not re.fullmatch(r"((tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}", address):
        raise SchedulerError(f"{address!r} is not a Dask scheduler address: give tcp://HOST:PORT")


def _within(timeout: float, call, what: str, late: str = "no answer"):
    """``call()``, or one SchedulerError naming ``what`` once ``timeout`` seconds pass.

    The call runs on a daemon thread: a handshake stuck in a socket cannot hold the
    command past its deadline.
    """
    import threading

    outcome = {}

    def work():
        try:
            outcome["value"] = call()
        except BaseException as e:  # handed over below
            outcome["error"] = e

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if thread.is_alive():
        raise SchedulerError(f"{what}: {late} within {timeout:g} s")
    error = outcome.get("error")
    if isinstance(error, (OSError, TimeoutError, ValueError)):
        why = " ".join(str(error).split()) or type(error).__name__
        if why.startswith("Timed out") or isinstance(error, TimeoutError):
            why = f"{late} within {timeout:g} s"  # the address, said once
        raise SchedulerError(f"{what}: {why}") from None
    if error is not None:
        raise error
    return outcome.get("value")


def error_text(error: BaseException, path: str) -> str:
    """One line that says what went wrong, without repeating ``path``.

    convcli's own errors and OS/value/memory errors carry their message; anything
    else (a bug, a worker that died) also names its type.
    """
    text = " ".join(str(error).split())
    for prefix in (f"{path}: ", f"{path} "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if isinstance(error, (ConvcliError, OSError, ValueError, MemoryError)) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


GROUP_SECONDS = 1.0  # work per task once files are timed: the scheduler's rate is the limit
MAX_GROUP = 1000  # files per task at most, however quick they are


def run_batch(
    job, inputs, outputs, address=None, *, progress=None, timeout: float = CONNECT_TIMEOUT
) -> list[tuple[str, str]]:
    """Run ``job(input, output)`` for each pair as tasks on a Dask cluster.

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
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    return run_pairs(
        job, zip(inputs, outputs), address, progress=progress, timeout=timeout, total=len(inputs)
    )


def run_pairs(
    job,
    pairs,
    address=None,
    *,
    progress=None,
    timeout: float = CONNECT_TIMEOUT,
    total: int | None = None,
    group_seconds: float = GROUP_SECONDS,
) -> list[tuple[str, str]]:
    """:func:`run_batch` over an iterable of ``(input, output)`` pairs, taken lazily.

    Files go in groups (tasks of several files, about ``group_seconds`` of work each
    once the first ones are timed; one file each at first, so the first result comes
    at once), a window of about four groups per worker thread in flight; the client
    holds the window, not the batch. A group whose worker is lost reruns elsewhere
    and skips each output it already renamed into place (newer than the batch's start).
    """
    address = address or scheduler_address()
    if address is None:
        raise SchedulerError("no Dask scheduler given: use --scheduler or DASK_SCHEDULER_ADDRESS")
    since = _wall()
    failed, files_of, live, count = [], {}, set(), {"listed": 0, "done": 0, "more": True}
    sizer = _Sizer(group_seconds)
    with connect(address, timeout) as client, client.as_current():
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())

        def submitted():  # lazily: the client holds a window of groups, not the batch
            import itertools

            source = enumerate(pairs)
            while group := list(itertools.islice(source, sizer.size())):
                count["listed"] += len(group)
                future = client.submit(
                    run_group, job, [pair for _, pair in group], since, pure=False
                )
                files_of[future.key] = [(i, path) for i, (path, _) in group]
                yield future
            count["more"] = False

        def status() -> str:
            listed = f"{count['listed']:,}{'+' if count['more'] else ''}"
            known = f"{total:,}" if total is not None else listed
            return f"{count['done']:,} of {known} files done"

        from .io.atomic import on_cancel

        with on_cancel(lambda: client.cancel(list(live))):  # only the window: it is all there is
            for future in watched(
                client, submitted(), address, timeout, live=live, window=4 * threads, status=status
            ):
                files = files_of.pop(future.key)
                error = _failure(future, "")
                try:
                    results = (
                        future.result() if error is None else [(p, error, 0.0) for _, p in files]
                    )
                except (OSError, ConnectionError):  # the scheduler went while this was fetched
                    raise SchedulerError(
                        f"lost the Dask scheduler at {address}; {status()}"
                    ) from None
                future.release()  # done is done: a lost worker never reruns it
                for (i, _), (path, error, seconds) in zip(files, results):
                    count["done"] += 1
                    sizer.add(seconds)
                    if error is not None:
                        failed.append((i, path, error))
                    if progress is not None:
                        progress(path, error)
    return [(path, error) for _, path, error in sorted(failed)]


class _Sizer:
    """Files per group: one until some are timed, then about ``seconds`` of work."""

    def __init__(self, seconds: float):
        self.seconds, self.files, self.spent = seconds, 0, 0.0

    def add(self, seconds: float) -> None:
        self.files += 1
        self.spent += seconds

    def size(self) -> int:
        if self.files < 8:
            return 1
        per_file = max(self.spent / self.files, 1e-6)
        return max(1, min(MAX_GROUP, round(self.seconds / per_file)))


def run_group(job, pairs, since: float) -> list[tuple[str, str | None, float]]:
    """On a worker: each file of a group in turn, as ``(input, error or None, seconds)``.

    An output renamed into place after ``since`` (the batch's start, wall clock) is
    done already: this group is a rerun after its worker was lost.
    """
    import time

    results = []
    for path, out in pairs:
        start = time.perf_counter()
        try:
            if not _written_since(out, since):
                job(path, out)
            error = None
        except Exception as e:  # each file's failure is its own
            error = error_text(e, path)
        results.append((path, error, time.perf_counter() - start))
    return results


def _written_since(path: str, since: float) -> bool:
    try:
        return os.stat(path).st_mtime >= since
    except OSError:
        return False


def _wall() -> float:
    import time

    return time.time()


def watched(
    client,
    futures,
    address: str,
    timeout: float = CONNECT_TIMEOUT,
    *,
    live: set | None = None,
    window: int | None = None,
    total: int | None = None,
    status=None,
):
    """Yield each future as it finishes, while watching the cluster itself.

    ``futures`` may be a lazy iterator: at most ``window`` of them are in flight (the
    set ``live``, which a cancel can reach), the next taken as each finishes. A
    cluster whose last worker went away, or whose scheduler did, would leave the rest
    waiting for ever: after ``timeout`` seconds without a worker, or as soon as the
    scheduler is lost, one SchedulerError says how many were done (``status()``, else
    a count of the tasks).
    """
    import itertools

    from distributed import wait

    source = iter(futures)
    pending = live if live is not None else set()
    pending.update(itertools.islice(source, window) if window else source)
    total = total if total is not None else len(pending)
    done_count, alone_since = 0, None
    status = status or (lambda: f"{done_count} of {total} done")
    try:
        while pending:
            try:
                done, _ = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            if client.status != "running":  # its futures come back cancelled: say why
                raise ConnectionError("the scheduler went away")
            pending.difference_update(done)
            for future in done:
                done_count += 1
                yield future
            pending.update(itertools.islice(source, len(done)))  # once those are taken in
            if done:
                alone_since = None
            elif not client.scheduler_info().get("workers"):
                alone_since = alone_since or _now()
                if _now() - alone_since > timeout:
                    raise SchedulerError(f"the cluster at {address} lost its workers; {status()}")
    except Exception as e:
        if isinstance(e, SchedulerError) or not (
            isinstance(e, (OSError, ConnectionError)) or "Cancelled" in type(e).__name__
        ):
            raise
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
        raise SchedulerError(f"lost the Dask scheduler at {address}; {status()}") from None
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(pending))
        raise


def _now() -> float:
    import time

    return time.monotonic()


def _failure(future, path: str) -> str | None:
    """The one-line error of a finished future, or None when it succeeded."""
    if future.status == "finished":
        return None
    if future.status == "cancelled":
        return "cancelled: the cluster dropped this task"
    return error_text(future.exception(), path)
