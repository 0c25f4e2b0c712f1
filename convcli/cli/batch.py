"""Running one job per input: output names, parallel jobs, a progress bar, errors per file.

Everything that can be refused is refused before the first job starts: a missing
``-o DIR/`` for several inputs, two inputs writing one output, an output that is
one of the batch's own inputs (without ``--in-place``).
"""

from __future__ import annotations

import contextlib
import os
import sys

import click

from .. import messages
from ..errors import ConvcliError, FileError
from ..io import atomic
from ..io.registry import by_extension
from .failures import describe_os_error


def output_paths(
    inputs, output, to_format, *, recursive=False, in_place=False, no_clobber=False, kinds=None
):
    """The (input, output) pairs to run; output None means standard output.

    Parameters
    ----------
    inputs : sequence of str
        Paths or ``-``; folders with ``recursive`` (walked, formats convcli reads only).
    output : str or None
        A file, ``-``, or ``DIR/`` (created) for a batch.
    to_format : str or None
        Replaces each output's extension in a folder.
    recursive, in_place, no_clobber : bool
        ``-r``, ``--in-place`` (outputs may be their own inputs; without ``-o`` each
        input is rewritten) and ``--no-clobber`` (existing outputs are skipped).
    kinds : collection of str, optional
        The kinds of file (``image``, ``audio``, ``text``...) that ``-r`` takes; the
        others are skipped with one notice that counts them.
    """
    from .listing import Listing, is_folder

    if recursive and any(is_folder(p) for p in inputs):  # listed lazily, as they run
        return Listing(
            inputs, output, to_format, in_place=in_place, no_clobber=no_clobber, kinds=kinds
        )
    sources = _sources(inputs, output)
    folder = output is not None and (
        output.endswith(("/", os.sep)) or (os.path.isdir(output) and by_extension(output) != "zarr")
    )  # a store is a file here
    batch = folder or len(sources) > 1 or (in_place and output is None)
    if not batch:
        pairs = [(sources[0][0], output)]
        if not in_place and output not in (None, "-"):
            _check_not_inputs(pairs, [sources[0][0]])
    else:
        if any(path == "-" for path, _ in sources):
            raise click.UsageError("standard input (-) cannot be part of a batch")
        if output is None and not in_place:
            raise click.UsageError(
                "several inputs need -o DIR/ (a folder, created if missing) or --in-place"
            )
        if output is not None and not folder:
            raise click.UsageError(
                f"several inputs need -o DIR/: end {output} with / to make it a folder"
            )
        pairs = [(path, _target(path, rel, output, to_format)) for path, rel in sources]
        _check_distinct(pairs)
        if not in_place:
            _check_not_inputs(pairs, {path for path, _ in sources})
    atomic.set_exclusive(no_clobber)
    if no_clobber:
        pairs = _unclobbered(pairs)
    if batch and output is not None:
        _make_folders(pairs)
    return pairs


def _sources(inputs, output):
    """(path, path relative to the output folder) for each input file (no folder: those
    need -r, and :class:`~convcli.cli.listing.Listing` walks them)."""
    sources = []
    for path in inputs:
        if path != "-" and os.path.isdir(path) and by_extension(path) != "zarr":
            raise FileError(f"{path} is a folder: give -r to convert what it holds")
        sources.append((path, os.path.basename(path.rstrip(os.sep))))
    return sources


def _target(path, rel, output, to_format):
    if output is None:  # --in-place: beside (onto) the input
        return _renamed(path, to_format)
    return os.path.join(output, _renamed(rel, to_format))


def _renamed(name, to_format):
    if not to_format:
        return name
    return os.path.splitext(name)[0] + "." + to_format


def _key(path):
    """One key per file, however it is spelt (``a/../x``, symbolic links, hard links)."""
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return os.path.normcase(os.path.realpath(path))


def _check_distinct(pairs):
    seen = {}
    for path, out in pairs:
        other = seen.setdefault(_key(out), path)
        if other != path:
            raise FileError(
                f"{other} and {path} would both write {out}; "
                "give them different names or separate runs"
            )


def _check_not_inputs(pairs, inputs):
    keys = {_key(p) for p in inputs if p != "-"}
    for _, out in pairs:
        if out not in (None, "-") and _key(out) in keys:
            raise FileError(
                f"{out} is one of the inputs: choose another output, "
                "or give --in-place to replace it"
            )


def _unclobbered(pairs):
    kept = []
    for path, out in pairs:
        if out not in (None, "-") and os.path.lexists(out):
            messages.notice(f"{out} exists; skipped (--no-clobber)")
        else:
            kept.append((path, out))
    return kept


def _make_folders(pairs):
    from .listing import make_folder

    for folder in sorted({os.path.dirname(out) for _, out in pairs}):
        make_folder(folder)


def run_all(job, pairs, jobs: int = 1, scheduler: str | None = None) -> None:
    """Run ``job(input, output)`` for each pair, ``jobs`` at a time, or as tasks on the Dask
    cluster at ``scheduler`` (``job`` must then pickle: a module-level function or a partial).

    ``pairs`` is a list or a lazy :class:`~convcli.cli.listing.Listing`, taken a window
    at a time. A failing file is reported once, with its path, and the rest go on; the
    batch then exits 1. Ctrl-C or SIGTERM cancels queued files at once and removes the
    temporaries of those being written.
    """
    if scheduler:
        return _on_cluster(job, pairs, scheduler)
    if isinstance(pairs, list) and len(pairs) <= 1:
        for path, out in pairs:
            try:
                job(path, out)
            except atomic.Exists as e:  # another program made it meanwhile: theirs stays
                messages.notice(str(e))
        return
    from concurrent.futures import ThreadPoolExecutor

    messages.verbose(f"{_count(pairs)} files, {jobs} at a time")
    atomic.resume()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        failed, done = _collect(pool, job, pairs, 4 * jobs)
    except BaseException:
        atomic.cancel()  # running jobs lose their temporaries and may not rename
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    if failed:
        raise click.ClickException(f"{failed} of {done} file(s) failed")


def _count(pairs) -> str:
    return str(len(pairs)) if isinstance(pairs, list) else "folders of"


def split_stores(pairs):
    """(pairs whose input or output is a chunked store, the other pairs); a lazy listing
    (whose walked files are never stores) stays lazy."""
    from .listing import Listing

    def store(path):
        return path not in (None, "-") and by_extension(path) == "zarr"

    if isinstance(pairs, Listing) and pairs.to_format != "zarr":
        given = [p for p in pairs.inputs if store(p)]
        if not given:
            return [], pairs
        pairs = list(pairs)
    stores = [(p, o) for p, o in pairs if store(p) or store(o)]
    return stores, [(p, o) for p, o in pairs if not (store(p) or store(o))]


class _Counter:
    """A bar when the number of files is known, else a running count; on a terminal only."""

    def __init__(self, label: str, total: int | None):
        self.show, self.total, self.done, self.label = messages.progress_wanted(), total, 0, label
        self.bar = None
        if self.show and total is not None:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)

    def update(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.show:
            with contextlib.suppress(OSError):
                click.echo(f"\r{self.label}: {self.done:,} done", err=True, nl=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
        elif self.show and self.done:
            with contextlib.suppress(OSError):
                click.echo("", err=True)


def _on_cluster(job, pairs, scheduler: str) -> None:
    """The batch's files as tasks on a Dask cluster; the bar follows the cluster's progress.

    Paths are made absolute here: a worker started in another folder reads and writes
    the same files. A result for standard output is refused: a worker has none of ours.
    """
    from ..cluster import run_pairs

    total = len(pairs) if isinstance(pairs, list) else None
    if total == 0:
        return
    if total is not None and any(p == "-" or o in (None, "-") for p, o in pairs):
        raise click.UsageError(
            "--scheduler runs files on other machines: give input files "
            "and -o (not standard input or output)"
        )
    absolute = ((os.path.abspath(p), os.path.abspath(o)) for p, o in pairs)
    counter = _Counter("convolving on the cluster", total)
    messages.verbose(
        f"{total or 'the folders of'} file(s) as tasks on the Dask cluster at {scheduler}"
    )

    def progress(path, error):
        if error is not None:
            with contextlib.suppress(OSError):
                click.echo(f"{chr(10) if counter.show else ''}Error: {path}: {error}", err=True)
        counter.update()

    failures = run_pairs(job, absolute, scheduler, progress=progress, total=total)
    counter.finish()
    if failures:
        raise click.ClickException(f"{len(failures)} of {counter.done} file(s) failed")


def _collect(pool, job, pairs, window: int) -> tuple[int, int]:
    """Run the pairs through ``pool``, at most ``window`` queued, reported in order;
    returns (files failed, files run)."""
    from collections import deque

    counter = _Counter("convolving", len(pairs) if isinstance(pairs, list) else None)
    queued, failed, done = deque(), 0, 0

    def settle():
        nonlocal failed, done
        path, future = queued.popleft()
        try:
            future.result()
        except atomic.Exists as e:
            messages.notice(str(e))
        except (ConvcliError, ValueError, OSError, MemoryError) as e:
            failed += 1
            _report(path, e, newline=counter.show)
        done += 1
        counter.update()

    for path, out in pairs:
        queued.append((path, pool.submit(job, path, out)))
        if len(queued) >= window:
            settle()
    while queued:
        settle()
    counter.finish()
    return failed, done


def _report(path, e, newline):
    text = (
        str(e)
        if isinstance(e, ConvcliError) or not isinstance(e, OSError)
        else describe_os_error(e)
    )
    if not text.startswith(path):  # name the file once
        text = f"{path}: {text}"
    with contextlib.suppress(OSError):  # stderr gone: the exit status still tells
        click.echo(f"{chr(10) if newline else ''}Error: {text}", err=True)
