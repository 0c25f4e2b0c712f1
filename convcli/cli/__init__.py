"""The command line: a thin Click client of the library (parse, call, print)."""

from __future__ import annotations

import os
import sys

import click

from .. import __version__
from ..errors import ConvcliError, UsageProblem

_DEBUG = {"on": bool(os.environ.get("CONVCLI_DEBUG"))}


def debugging() -> bool:
    return _DEBUG["on"]


def _set_debug(ctx, param, value):
    if value:
        _DEBUG["on"] = True


debug_option = click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                            callback=_set_debug, help="Show tracebacks of errors.")


class Main(click.Group):
    """A group that turns library errors into one ``Error:`` line and exit 1.

    Every command it makes also takes ``--debug``.
    """

    def command(self, *args, **kwargs):
        decorator = super().command(*args, **kwargs)
        return lambda f: decorator(debug_option(f))

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", Main)
        decorator = super().group(*args, **kwargs)
        return lambda f: decorator(debug_option(f))

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
        except ValueError as e:  # an option value the library refused
            if debugging():
                raise
            raise click.UsageError(str(e), ctx) from None
        except MemoryError:
            if debugging():
                raise
            raise click.ClickException("not enough memory for this result") from None
        except BrokenPipeError:
            raise
        except Exception as e:  # a bug: still one line, the traceback behind --debug
            if debugging():
                raise
            raise click.ClickException(
                f"internal error ({type(e).__name__}: {e}); run with --debug for details"
            ) from None


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="convcli")
@debug_option
def main():
    """Convolve signals and images from the shell.

    \b
    Examples:
      echo 0 1 2 3 4 | convcli conv1d - -k 1,-1,2          # 0 1 1 3 5 2 8
      convcli conv2d photo.jpg -k gaussian:sigma=2 -o blurred.jpg
      convcli conv1d speech.wav -k room-ir.wav -o reverb.wav
      convcli outsize --input 28x28x1 conv:k=5,n=6,p=2 relu maxpool:k=2
    """


def run(argv=None) -> None:
    """Console entry point: exit 130 on Ctrl-C and quietly on a closed pipe."""
    try:
        code = main.main(args=argv, prog_name="convcli", standalone_mode=False)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except BrokenPipeError:
        _quiet_pipe()
        sys.exit(0)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_pipe():
    """Point stdout at /dev/null so Python's exit flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


from . import conv, kernels, mnist, outsize, padcmd, pool  # noqa: E402,F401  (commands register on main)
