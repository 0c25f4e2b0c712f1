"""Running one job per input: output names, parallel jobs, a progress bar, errors per file."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import click

from ..errors import ConvcliError, FileError


def output_paths(inputs, output, to_format):
    """One output path (or None for standard output) per input."""
    several = len(inputs) > 1
    folder = output is not None and (output.endswith(os.sep) or os.path.isdir(output))
    if several and not folder:
        raise click.UsageError("several inputs need -o DIR/ (an existing folder)")
    if folder:
        if not os.path.isdir(output):
            raise FileError(f"{output}: the folder does not exist")
        if "-" in inputs:
            raise click.UsageError("standard input (-) cannot be part of a batch")
        return [os.path.join(output, _renamed(os.path.basename(p), to_format)) for p in inputs]
    return [output]


def _renamed(name, to_format):
    if not to_format:
        return name
    return os.path.splitext(name)[0] + "." + to_format


def run_all(job, inputs, outputs, jobs: int) -> None:
    """Run ``job(input, output)`` for each pair; report failures and exit 1 if any failed."""
    if len(inputs) == 1:
        job(inputs[0], outputs[0])
        return
    failed = 0
    show = sys.stderr.isatty()  # the bar only on a terminal
    with ThreadPoolExecutor(max_workers=jobs) as pool, open(os.devnull, "w") as devnull, \
            click.progressbar(length=len(inputs), label="convolving",
                              file=sys.stderr if show else devnull) as bar:
        futures = [pool.submit(job, i, o) for i, o in zip(inputs, outputs)]
        for path, future in zip(inputs, futures):
            try:
                future.result()
            except (ConvcliError, ValueError, OSError, MemoryError) as e:
                failed += 1
                text = str(e) if str(e).startswith(path) else f"{path}: {e}"  # name it once
                click.echo(f"{chr(10) if show else ''}Error: {text}", err=True)
            bar.update(1)
    if failed:
        raise click.ClickException(f"{failed} of {len(inputs)} file(s) failed")
