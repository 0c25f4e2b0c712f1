"""One error hierarchy for the whole package; the CLI maps it to exit 1 and one line."""


class ConvcliError(Exception):
    """Base class of every error convcli raises on purpose."""


class ShapeError(ConvcliError, ValueError):
    """Shapes that do not fit together: empty results, channel mismatches."""


class DataError(ConvcliError, ValueError):
    """Input data that cannot be read or used: bad numbers, NaN, corrupt files."""


class FormatError(ConvcliError, ValueError):
    """An unknown or unsupported file format."""


class SpecError(ConvcliError, ValueError):
    """A named kernel or layer spec that does not parse."""


class ResourceError(ConvcliError, MemoryError):
    """A result too large for the memory this machine has."""


class UsageProblem(ConvcliError):
    """A request that needs another option (the CLI exits 2, as for a bad option)."""


class ArgumentError(UsageProblem, ValueError):
    """An argument out of its domain (padding of the wrong length, a stride of 0): a bad
    option on the command line (exit 2), a ``ValueError`` in the library."""


class FileError(ConvcliError, OSError):
    """A file or folder that cannot be opened, read or written."""


class SchedulerError(ConvcliError, ConnectionError):
    """A Dask scheduler that cannot be reached, or a cluster that lost a task."""
