"""The command line: a thin Click client of the library (parse, call, print)."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading

import click

from .. import __version__, allocator, messages
from ..errors import ConvcliError, UsageProblem
from .failures import Terminated, describe_os_error, interrupt_status

_DEBUG = {"on": bool(os.environ.get("CONVCLI_DEBUG"))}


def debugging() -> bool:
    return _DEBUG["on"]


def _set_debug(ctx, param, value):
    if value:
        _DEBUG["on"] = True


debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Show tracebacks of errors.",
)


def _everywhere(f):
    """The options every command takes (-q/--quiet, -v/--verbose, --debug), and a usage
    problem the library finds shown with the command's own usage line."""
    import functools

    from .batchopts import quiet, verbose

    @functools.wraps(f)
    def command(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except UsageProblem as e:
            raise click.UsageError(str(e), click.get_current_context()) from None

    return debug_option(quiet(verbose(command)))


class Main(click.Group):
    """A group that turns library errors into one ``Error:`` line and exit 1.

    Every command it makes also takes ``-q``, ``-v`` and ``--debug``.
    """

    def command(self, *args, **kwargs):
        decorator = super().command(*args, **kwargs)
        return lambda f: decorator(_everywhere(f))

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", Main)
        decorator = super().group(*args, **kwargs)
        return lambda f: decorator(debug_option(f))

    def main(self, *args, **kwargs):
        messages.set_level(messages.NORMAL)  # -q/-v of one run never outlive it
        try:
            return super().main(*args, **kwargs)
        finally:
            messages.set_level(messages.NORMAL)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except UsageProblem as e:
            raise click.UsageError(str(e), ctx) from None
        except ConvcliError as e:
            if debugging():
                raise
            raise click.ClickException(str(e)) from None
        except MemoryError:
            if debugging():
                raise
            raise click.ClickException("not enough memory for this result") from None
        except OSError as e:  # the system refused: one line naming the path, as for our own errors
            if debugging():
                raise
            if e.errno == errno.EPIPE and e.filename is None:  # our stdout's reader went away
                _quiet_pipe()
                raise click.exceptions.Exit(0) from None
            raise click.ClickException(describe_os_error(e)) from None
        except Exception as e:  # a bug: still one line, the traceback behind --debug
            if debugging():
                raise
            raise click.ClickException(
                f"internal error ({type(e).__name__}: {e}); run with --debug for details"
            ) from None


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="convcli")
@_everywhere
def main():
    """Convolve signals and images from the shell.

    \b
    Examples:
      echo 0 1 2 3 4 | convcli conv1d - -k 1,-1,2          # 0 1 1 3 5 2 8
      convcli conv2d photo.jpg -k gaussian:sigma=2 -o blurred.jpg
      convcli conv1d melody.wav -k room-ir.wav -o reverb.wav
      convcli outsize --input 28x28x1 conv:k=5,n=6,p=2 relu maxpool:k=2
      echo 1 3 2 5 4 6 | convcli pool - --size 2             # 3 5 6
      convcli conv2d scan.zarr -k box:5 -o out.zarr --scheduler tcp://host:8786
    """


def run(argv=None) -> None:
    """Run the command line: exit 130 on Ctrl-C, 143 on SIGTERM, 0 quietly on a closed pipe.

    The command runs on a worker thread while the main thread waits on it: Python acts
    on signals only in the main thread, and only between bytecodes, so a command in a
    long native call (libvips, NumPy, SciPy) would otherwise hold a Ctrl-C for as long
    as the call lasts. Here a signal takes effect at once, at any moment: the main
    thread refuses every rename into place, removes every temporary (``atomic.cancel``)
    and exits, however deep in C the worker is.
    """
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    allocator.release_big_buffers()  # flat memory for strips on threads (convcli.allocator)
    outcome = {}

    def command():
        try:
            outcome["code"] = main.main(args=argv, prog_name="convcli", standalone_mode=False)
        except BaseException as e:  # handed to the main thread, mapped there
            outcome["error"] = e

    worker = threading.Thread(target=command, name="convcli-command", daemon=True)
    try:
        worker.start()
        worker.join()  # interruptible: a signal handler raises here
    except KeyboardInterrupt as e:
        from ..io.atomic import cancel

        cancel()
        _interrupted(e)
    _finish(outcome)


def _finish(outcome: dict) -> None:
    """Exit as the command ended: its status, or its error mapped to one line."""
    try:
        if "error" in outcome:
            raise outcome["error"]
        code = outcome.get("code")
    except click.Abort as e:  # Click wraps KeyboardInterrupt (and our Terminated) in Abort
        _interrupted(e.__cause__ or e.__context__)
    except KeyboardInterrupt as e:
        _interrupted(e)
    except click.ClickException as e:
        _say(e.show)
        _exit(e.exit_code)
    except click.exceptions.Exit as e:
        _exit(e.exit_code)
    except SystemExit as e:  # Click's own exit(1) on a broken pipe (help into `| head`)
        from click.utils import PacifyFlushWrapper

        if e.code == 1 and isinstance(sys.stdout, PacifyFlushWrapper):
            _exit(0)
        raise
    except OSError as e:  # a broken pipe outside a command (errors are mapped inside)
        if isinstance(e.__context__, KeyboardInterrupt):  # stderr broke while saying so
            _interrupted(e.__context__)
        if debugging():
            raise
        if e.errno != errno.EPIPE:  # a closed standard output, while Click printed help
            line = f"Error: {describe_os_error(e)}"
            _say(lambda: click.echo(line, err=True))
            _exit(1)
        _quiet_pipe()
        _exit(0)
    _exit(code if isinstance(code, int) else 0)


def _interrupt(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # unwind once, undisturbed
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _interrupted(e) -> None:
    _say(lambda: click.echo("Interrupted.", err=True))
    _flush()
    os._exit(interrupt_status(e))  # the command's thread may be deep in C: do not wait


def _say(show) -> None:
    """Print on stderr, or nothing if stderr is closed or broken."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        show()


def _flush() -> bool:
    """Flush stdout and stderr; False if stdout's reader went away."""
    ok = True
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError:
            if stream is sys.stdout:
                ok = False
                _quiet_pipe()
        except ValueError:  # closed
            pass
    return ok


def _exit(code: int) -> None:
    """Flush, remove what this run left (spools), and leave at once: a library thread still
    blocked in a socket (a scheduler that never answered) cannot hold the exit."""
    _flush()
    if "convcli.io.atomic" in sys.modules:
        sys.modules["convcli.io.atomic"].cancel()
    os._exit(code)


def _quiet_pipe():
    """Point stdout at /dev/null so Python's exit flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


# each command's module is imported when the command runs (or help lists them): start-up pays
# only for the command it runs; a module's commands register on main as it is imported
LAZY = {
    "conv1d": "conv",
    "conv2d": "conv",
    "pad": "padcmd",
    "pool": "pool",
    "outsize": "outsize",
    "kernels": "kernels",
    "train-mnist": "mnist",
    "predict": "mnist",
    "evaluate": "mnist",
    "match": "match",
}


def _list_commands(ctx):
    return sorted(LAZY)


def _get_command(ctx, name):
    if name not in main.commands and name in LAZY:
        import importlib

        importlib.import_module(f"{__name__}.{LAZY[name]}")
    return main.commands.get(name)


main.list_commands = _list_commands
main.get_command = _get_command
