"""The one error boundary: user errors become `ofevents: error: …` plus a hint and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

import typer

from ofevents_cli.errors import ExitCode, OfeventsError

P = ParamSpec("P")
R = TypeVar("R")

DEBUG: ContextVar[bool] = ContextVar("ofevents_debug", default=False)


def fail(message: str, hint: str | None = None) -> None:
    """Write the error line (and hint) to stderr; text a server chose (a close reason, a
    redirect's Location) may be in it, so control characters are shown escaped."""
    from ofevents_cli.render.text import escape_control

    print(f"ofevents: error: {escape_control(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {escape_control(hint)}", file=sys.stderr)


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so no user error escapes as a traceback (`--debug` shows it)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OfeventsError as exc:
            if DEBUG.get():  # the traceback too, and still the documented exit code
                import traceback

                traceback.print_exc(file=sys.stderr)
            fail(exc.message, exc.hint)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

    return wrapper
