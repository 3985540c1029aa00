"""The one output layer: data on stdout (text lines or JSON Lines), conversation on stderr.

Everything that decides how output looks lives here: the one JSON Lines writer, the one place
that decides colour (rich's rules: `NO_COLOR`,
`FORCE_COLOR`, `TTY_COMPATIBLE`, `TERM=dumb`, a terminal), and the one place that writes
`ofevents: error:` / `ofevents: warning:` / `hint:` lines.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["BurstLines", "colour", "console", "emit_json", "error", "say", "surely_plain",
           "warn"]


_JSON = json.JSONEncoder(ensure_ascii=False)


def emit_json(record: dict[str, Any], *, flush: bool = True) -> None:
    """One JSON object per line on stdout, flushed (unless told otherwise) so a pipe sees it
    at once. A value JSON cannot carry as UTF-8 (a lone surrogate) is written escaped."""
    try:
        line = _JSON.encode(record)
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)  # ASCII with \\u escapes: the same JSON value
    sys.stdout.write(line + "\n")
    if flush:
        sys.stdout.flush()


class BurstLines:
    """JSON Lines on stdout flushed once per event-loop turn (at once outside a loop): a burst
    of lines costs one write, and no line waits longer than its burst. A BrokenPipeError met
    by a scheduled flush is raised by the next `emit`, where the command's boundary sees it."""

    def __init__(self) -> None:
        self.flushing = False  # a flush is scheduled
        self.broken: BrokenPipeError | None = None  # stdout's reader went away meanwhile

    def emit(self, record: dict[str, Any]) -> None:
        """Write one line; flush it with the rest of this turn's."""
        if self.broken is not None:
            raise self.broken
        emit_json(record, flush=False)
        if self.flushing:
            return
        import asyncio  # loaded already wherever a loop runs; --help must not pay for it

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            sys.stdout.flush()
            return
        self.flushing = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self.flushing = False
        try:
            sys.stdout.flush()
        except BrokenPipeError as exc:
            self.broken = exc


def say(message: str) -> None:
    """A line of conversation (state, progress, notes) on stderr."""
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """`ofevents: warning: …` on stderr: something was skipped or looks wrong, the job goes on."""
    say(f"ofevents: warning: {message}")


def error(message: str, hint: str | None = None) -> None:
    """`ofevents: error: …` and `hint: …` on stderr; text a server or a file chose may be in
    them, so control characters are shown escaped."""
    from ofevents_cli.render.text import escape_control

    say(f"ofevents: error: {escape_control(message)}")
    if hint:
        say(f"hint: {escape_control(hint)}")


def _stream(stderr: bool) -> TextIO:
    return sys.stderr if stderr else sys.stdout


def surely_plain(stderr: bool = False) -> bool:
    """True when output must be plain text: `NO_COLOR` is set, `TERM` is dumb, or the stream
    is no terminal and neither `FORCE_COLOR` nor `TTY_COMPATIBLE` says otherwise (rich's own
    rules). Decided without importing rich (~30 ms), which plain output does not need."""
    if os.environ.get("NO_COLOR"):
        return True
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return True
    try:
        return not _stream(stderr).isatty()
    except (AttributeError, ValueError):  # replaced or closed stream: rich says no terminal
        return True


def colour(stderr: bool = False) -> bool:
    """Whether to colour the stream: the inverse of `surely_plain`, the one rule for all."""
    return not surely_plain(stderr)


def console(stderr: bool = False) -> Console:
    """A rich console that follows the same rule (colour only where `colour()` says so)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True, no_color=surely_plain(stderr))
