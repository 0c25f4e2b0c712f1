"""Running ``convcli match`` over its inputs: in order, ``-j N`` at a time or on a cluster,
each file's lines printed as soon as it and every file before it are done."""

from __future__ import annotations

import contextlib
from functools import partial

import click

from ..errors import ConvcliError
from .batch import _report


def run(template_name, template, inputs, settings, *, jobs=1, scheduler=None, as_json=False):
    """Match ``template`` in every input and print the lines (or one JSON list at the end)."""
    from ..job.match import lines, match_file, records

    job = partial(match_file, template=template, settings=settings)
    found, failed = [], 0
    for path, result, error in _results(job, inputs, jobs, scheduler):
        if error is not None:
            failed += 1
            _report(path, error, newline=False)
            continue
        if result.get("steps"):
            click.echo(result["steps"], nl=False)
        if as_json:
            found += records(result)
        else:
            for line in lines(result, template_name):
                click.echo(line)
    if as_json:
        import json

        click.echo(json.dumps(found))
    if failed and len(inputs) > 1:
        raise click.ClickException(f"{failed} of {len(inputs)} file(s) failed")
    if failed:
        raise click.exceptions.Exit(1)


def _results(job, inputs, jobs, scheduler):
    """(path, result, error) for each input, in input order."""
    if scheduler:
        yield from _on_cluster(job, inputs, scheduler)
        return
    if jobs == 1 or len(inputs) == 1:
        for path in inputs:
            yield (path, *_one(job, path, len(inputs)))
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_one, job, path, len(inputs)) for path in inputs]
        try:
            for path, future in zip(inputs, futures):
                yield (path, *future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _one(job, path, count):
    try:
        return job(path), None
    except (ConvcliError, ValueError, OSError, MemoryError) as e:
        if count == 1:
            raise  # one file: the command's own one-line error
        return None, e


def _on_cluster(job, inputs, scheduler):
    """Each input a task on the Dask cluster (paths absolute, as every worker sees them)."""
    import os

    from ..cluster import connect, error_text

    paths = [os.path.abspath(p) for p in inputs]
    with connect(scheduler) as client:
        futures = client.map(job, paths, pure=False)
        for path, future in zip(inputs, futures):
            with contextlib.suppress(Exception):
                future.result()
            if future.status == "finished":
                yield path, {**future.result(), "path": path}, None
            else:
                yield path, None, ConvcliError(error_text(future.exception(), path))
