"""Click options of batches and verbosity, defined once for every command that takes them.

``recursive``, ``no_clobber`` and ``in_place`` pass their values to the command
(hand them to :func:`convcli.cli.batch.output_paths`); ``quiet`` and ``verbose``
set :mod:`convcli.messages`' level and pass nothing.
"""

from __future__ import annotations

import click

from .. import messages


def _level(value_level):
    def callback(ctx, param, value):
        if not value:
            return
        chosen = ctx.meta.setdefault("convcli.verbosity", value_level)
        if chosen != value_level:
            raise click.UsageError("-q/--quiet and -v/--verbose contradict each other; give one")
        messages.set_level(value_level)

    return callback


recursive = click.option(
    "-r",
    "--recursive",
    is_flag=True,
    help="Walk folders given as INPUT (files convcli reads, by extension) "
    "and mirror their subfolders under -o DIR/.",
)
no_clobber = click.option("--no-clobber", is_flag=True, help="Skip outputs that already exist.")
in_place = click.option(
    "--in-place",
    is_flag=True,
    help="Allow outputs to replace the batch's own inputs; without -o, "
    "rewrite each input (atomically).",
)
quiet = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_level(messages.QUIET),
    help="No notices, warnings or progress bars (errors still print).",
)
verbose = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_level(messages.VERBOSE),
    help="Say what was chosen (method, sizes, threads) and how long it took.",
)
