"""``--grad`` and ``--animate`` of conv1d and conv2d: parse, call the lesson's jobs, print."""

from __future__ import annotations

import io
import sys

import click

from ..errors import UsageProblem
from ..settings import ConvSettings


def run_lesson(settings: ConvSettings, inputs, params: dict) -> bool:
    """Write ``--animate``'s GIF and do ``--grad``'s job; True when nothing else is left to do.

    ``--grad`` prints the gradients instead of the result (to ``-o`` if given);
    ``--animate`` writes the GIF, then the command goes on as usual.
    """
    from .. import lesson

    grad, gif, as_json = params.get("grad"), params.get("animate"), params.get("as_json")
    if as_json and grad is None:
        raise UsageProblem("--json goes with --grad (for the result as JSON, use --to json)")
    if grad is None and not gif:
        return False
    if len(inputs) != 1:
        option = "--grad" if grad is not None else "--animate"
        raise UsageProblem(f"{option} takes one INPUT, got {len(inputs)}")
    if gif:
        replay = _replayable_stdin() if inputs[0] == "-" else None
        frames = lesson.animate_file(inputs[0], settings, gif)
        if replay:
            replay()  # the command reads standard input again for the result
        from .. import messages

        messages.notice(f"wrote {gif} ({frames} frames)")
    if grad is None:
        return False
    text = lesson.grad_file(inputs[0], settings, grad, as_json=as_json)
    out = params.get("output")
    if out in (None, "-"):
        click.echo(text, nl=False)
    else:
        from ..io.atomic import write_bytes

        write_bytes(text.encode(), out)
    return True


def _replayable_stdin():
    """Hold standard input's bytes; the function returned hands them out once more."""
    data = sys.stdin.buffer.read()

    def replay():
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))

    replay()
    return replay
