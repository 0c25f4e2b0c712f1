"""The pairs of a batch that walks folders (``-r``), listed lazily as they are run.

A million files are never held: the folders are walked by ``os.scandir`` (each one
sorted, depth first, as ``os.walk`` walks), and each pair is checked as it is
listed (an output that is one of the inputs, ``--no-clobber``) and its folder made.
Only two outputs that would collide need a look at every name first: that pass runs
when they can (several inputs, or ``--to`` renaming), before any work, and keeps a
hash per output.
"""

from __future__ import annotations

import os

import click

from .. import messages
from ..errors import FileError
from ..io import atomic
from ..io.registry import FORMATS, by_extension

SHOWN = 5  # --no-clobber names this many skipped outputs, then counts the rest


def is_folder(path: str) -> bool:
    """A folder to walk: not ``-``, not a ``.zarr`` store (a store is one input)."""
    return path != "-" and os.path.isdir(path) and by_extension(path) != "zarr"


class Listing:
    """Iterable of ``(input, output)`` for inputs some of which are folders to walk.

    Everything refusable without listing is refused here (standard input in a batch, a
    missing ``-o DIR/``, colliding outputs, no file at all); the rest as each pair comes.
    """

    def __init__(self, inputs, output, to_format, *, in_place=False, no_clobber=False, kinds=None):
        if "-" in inputs:
            raise click.UsageError("standard input (-) cannot be part of a batch")
        if output is None and not in_place:
            raise click.UsageError(
                "several inputs need -o DIR/ (a folder, created if missing) or --in-place"
            )
        if output is not None and not (
            output.endswith(("/", os.sep))
            or (os.path.isdir(output) and by_extension(output) != "zarr")
        ):
            raise click.UsageError(
                f"several inputs need -o DIR/: end {output} with / to make it a folder"
            )
        self.inputs, self.output, self.to_format = list(inputs), output, to_format
        self.in_place, self.no_clobber, self.kinds = in_place, no_clobber, kinds
        self.readable = {
            ext
            for f in FORMATS.values()
            if kinds is None or f.kind in kinds
            for ext in f.extensions
        }
        self.skip = os.path.realpath(output) if output else None
        self.roots = [os.path.realpath(p) + os.sep for p in inputs if is_folder(p)]
        atomic.set_exclusive(no_clobber)
        if next(iter(self._found()), None) is None:
            what = " or ".join(sorted(kinds)) if kinds else "a format convcli reads"
            raise FileError(f"no files of {what} in " + ", ".join(inputs))
        if len(self.inputs) > 1 or to_format:
            self._check_distinct()

    def _found(self, counts=None):
        """``(path, name relative to the output folder)`` for each input file, lazily."""
        for path in self.inputs:
            if is_folder(path):
                yield from self._walk(path, counts)
            else:
                yield path, os.path.basename(path.rstrip(os.sep))

    def _walk(self, root, counts=None):
        prefix = os.path.join(root, "")
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as e:
                raise FileError(f"{folder}: cannot list the folder ({e.strerror})") from None
            subfolders = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    if not entry.is_symlink() and os.path.realpath(entry.path) != self.skip:
                        subfolders.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in self.readable:
                    yield entry.path, entry.path[len(prefix) :]
                elif counts is not None:
                    counts["passed"] += 1
            stack.extend(reversed(subfolders))  # depth first, in name order

    def _target(self, path, rel):
        name = rel if self.output is not None else path  # --in-place: beside (onto) the input
        if self.to_format:
            name = os.path.splitext(name)[0] + "." + self.to_format
        return name if self.output is None else os.path.join(self.output, name)

    def _check_distinct(self):
        """Two inputs that would write one output: a hash per output, then the names of
        those whose hashes met."""

        def key(path, rel):
            return os.path.normcase(os.path.normpath(self._target(path, rel)))

        seen, met = set(), set()
        for path, rel in self._found():
            h = hash(key(path, rel))
            (met if h in seen else seen).add(h)
        del seen
        first = {}
        for path, rel in self._found() if met else ():
            k = key(path, rel)
            if hash(k) in met and first.setdefault(k, path) != path:
                raise FileError(
                    f"{first[k]} and {path} would both write {self._target(path, rel)}; "
                    "give them different names or separate runs"
                )

    def _is_input(self, out: str) -> bool:
        """Whether ``out`` is (or will be) listed as an input: it exists under a walked
        folder, outside the output folder, or is one of the files given."""
        if not os.path.lexists(out):
            return False
        real = os.path.realpath(out)
        if self.skip and real.startswith(self.skip + os.sep):
            return False
        inside = any(real.startswith(root) for root in self.roots)
        given = any(not is_folder(p) and os.path.realpath(p) == real for p in self.inputs)
        return given or inside and os.path.splitext(real)[1].lower() in self.readable

    def __iter__(self):
        counts, skipped, made = {"passed": 0}, 0, None
        for path, rel in self._found(counts):
            out = self._target(path, rel)
            if not self.in_place and self._is_input(out):
                raise FileError(
                    f"{out} is one of the inputs: choose another output, "
                    "or give --in-place to replace it"
                )
            if self.no_clobber and os.path.lexists(out):
                skipped += 1
                if skipped <= SHOWN:
                    messages.notice(f"{out} exists; skipped (--no-clobber)")
                continue
            folder = os.path.dirname(out)
            if self.output is not None and folder != made:
                make_folder(folder)
                made = folder
            yield path, out
        if skipped > SHOWN:
            messages.notice(f"{skipped - SHOWN:,} more outputs exist; skipped (--no-clobber)")
        if counts["passed"]:
            messages.notice(
                f"skipped {counts['passed']} file(s) of other kinds in the folders given"
            )


def make_folder(folder: str) -> None:
    """Create an output folder (and its parents), or one line that says why not."""
    from .failures import describe_os_error

    try:
        os.makedirs(folder or ".", exist_ok=True)
    except OSError as e:
        raise FileError(
            f"{folder}: cannot create the folder ({describe_os_error(e).rpartition(': ')[2]})"
        ) from None
