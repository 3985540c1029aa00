"""Where output goes: data on stdout (JSON Lines flushed per line), conversation on stderr."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def emit_json(record: dict[str, Any]) -> None:
    """One JSON object per line on stdout, flushed so a pipe sees it at once."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A line of conversation (state, progress, warnings) on stderr."""
    print(message, file=sys.stderr, flush=True)


def surely_plain(stderr: bool = False) -> bool:
    """True when a rich console here would show no colour or table: NO_COLOR is set, or the
    stream is no terminal and neither FORCE_COLOR nor TTY_COMPATIBLE (which rich reads) says
    otherwise. Decided without importing rich (~30 ms), which plain output does not need."""
    if os.environ.get("NO_COLOR"):
        return True
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    stream = sys.stderr if stderr else sys.stdout
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream: rich says no terminal
        return True


def console(stderr: bool = False) -> Console:
    """A rich console: colour on a terminal, plain when piped or NO_COLOR is set."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
