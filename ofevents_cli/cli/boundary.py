"""The one error boundary: user errors, usage errors, Ctrl+C and a closed stdout all end as the
README's exit codes, with `ofevents: error: …` plus a hint, never a traceback (`--debug` adds it).
"""

import functools
import os
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer vendors Click
from typer.core import TyperArgument, TyperGroup

from ofevents_cli.errors import ExitCode, OfeventsError

P = ParamSpec("P")
R = TypeVar("R")

DEBUG: ContextVar[bool] = ContextVar("ofevents_debug", default=False)


def _quiet_stdout() -> None:
    """stdout's reader went away (`ofevents events | head -1`): point stdout at /dev/null so
    the interpreter's own flush at exit cannot fail again; the command ends with exit 0."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test runner's buffer)
        pass
    finally:
        os.close(devnull)


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so no user error escapes as a traceback (`--debug` shows it)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OfeventsError as exc:
            from ofevents_cli.render.output import error

            if DEBUG.get():  # the traceback too, and still the documented exit code
                import traceback

                traceback.print_exc(file=sys.stderr)
            error(exc.message, exc.hint)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None

    return wrapper


def usage_error(exc: UsageError) -> int:
    """A bad flag, a missing value, an unknown command: one `error:` line and a hint naming
    the command's help, instead of Click's own block; exit 2."""
    from ofevents_cli.render.output import error

    command = exc.ctx.command_path if exc.ctx is not None else "ofevents"
    message = exc.format_message().strip()
    hint = f"see `{command} --help`"
    if exc.ctx is not None and exc.ctx.command.epilog:
        example = exc.ctx.command.epilog.strip().splitlines()
        usage = next((line.strip() for line in example if line.strip().startswith("ofevents")),
                     None)
        if usage:
            hint = f"for example `{usage}`; {hint}"
    error(message, hint)
    return int(ExitCode.USAGE)


class _PlainArgument(TyperArgument):
    """An argument shown as its word (`EVENT`, `[CAPTURES]...`), as Click shows it, rather
    than typer's `{EVENT}`."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        var = self.metavar or (self.name or "").upper()
        var = var if self.required or not usage else f"[{var}]"
        return var + ("..." if self.nargs != 1 else "")


# what a flag's value is, where the flag's own name does not say it
_WORDS = {"--to": "URL", "--forward-to": "URL", "--set": "PATH=VALUE", "--data": "FILE",
          "--save": "FILE", "--capture": "FILE", "--body": "FILE", "--ngrok-config": "FILE",
          "--header": "'NAME: VALUE'", "--count": "N", "--concurrency": "N", "--duplicate": "K",
          "--timeout": "SEC", "--tunnel-timeout": "SEC", "--tolerance": "SEC", "--now": "TIME",
          "--max-body": "BYTES", "--filter": "EVENT", "--fixtures": "DIR",
          "--ngrok-path": "PATH", "--case": "NAME", "--grep": "TEXT", "--jobs": "N"}


def readable_metavars(command: Any) -> None:
    """Every value a flag or argument takes is shown as a word (`--count COUNT`, `EVENT`),
    never as a Python type (`<int range>`, `<list[str]>`, `{event}`), unless it names one."""
    for param in getattr(command, "params", ()):
        if isinstance(param, TyperArgument):
            param.__class__ = _PlainArgument
        if getattr(param, "is_flag", False) or param.metavar is not None or not param.name:
            continue
        flag = max(getattr(param, "opts", ()), key=len, default="")
        param.metavar = _WORDS.get(flag) or param.name.rstrip("_").upper()
    for sub in getattr(command, "commands", {}).values():
        readable_metavars(sub)


class OfeventsGroup(TyperGroup):
    """The root command: Click's usage errors go through the same boundary as ours, and
    every subcommand's help shows readable metavars."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        readable_metavars(self)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the command line; in standalone mode, exit with the code it ends with."""
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:  # `ofevents` or `ofevents config` alone
            print(exc.format_message(), file=sys.stderr)
            code = int(ExitCode.USAGE)
        except UsageError as exc:
            code = usage_error(exc)
        except typer.Abort:
            print("interrupted", file=sys.stderr)
            code = int(ExitCode.INTERRUPTED)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)
