"""Notices, warnings and progress on stderr, silenced by ``-q`` and widened by ``-v``.

One switch for the whole process: the CLI sets it once from ``-q/--quiet`` and
``-v/--verbose``; the library calls :func:`notice`, :func:`warning` and
:func:`verbose` instead of printing.
"""

from __future__ import annotations

import contextlib
import sys

QUIET, NORMAL, VERBOSE = 0, 1, 2
_LEVEL = {"level": NORMAL}


def set_level(level: int) -> None:
    _LEVEL["level"] = level


def level() -> int:
    return _LEVEL["level"]


def _say(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr closed: nowhere to say it
        print(text, file=sys.stderr, flush=True)


def notice(text: str) -> None:
    """``Notice: ...`` unless quiet."""
    if level() >= NORMAL:
        _say(f"Notice: {text}")


def warning(text: str) -> None:
    """``Warning: ...`` unless quiet."""
    if level() >= NORMAL:
        _say(f"Warning: {text}")


def verbose(text: str) -> None:
    """What was chosen and how long it took, with ``-v`` only."""
    if level() >= VERBOSE:
        _say(f"convcli: {text}")


def progress_wanted() -> bool:
    """Progress bars only on a terminal, and not when quiet."""
    try:
        return level() >= NORMAL and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def bar(label: str):
    """A ``progress(done, total)`` that draws a bar on stderr, or None when no bar is wanted
    (not a terminal, or quiet): for the library's long loops, where Click is not at hand."""
    if not progress_wanted():
        return None

    def progress(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"\r{label} [{'#' * filled}{'-' * (width - filled)}] "
                f"{100 * done // max(total, 1):3d}% {done}/{total}{end}"
            )
            sys.stderr.flush()

    return progress


def tracked(pieces, total: int, label: str):
    """Pass ``pieces`` through, drawing a bar (on a terminal, not with -q) as the rows or
    frames they hold (``len`` of each) add up to ``total``: one redraw per percent."""
    draw = bar(label)
    if draw is None:
        yield from pieces
        return
    done, shown = 0, -1
    for piece in pieces:
        done += len(piece)
        if 100 * done // max(total, 1) != shown:
            shown = 100 * done // max(total, 1)
            draw(done, total)
        yield piece
