"""Showing `replay`: one line (or JSON object) per re-sent delivery; skipped lines on stderr."""

from __future__ import annotations

import sys
from typing import Any

from ofevents_cli.render.output import emit_json, say
from ofevents_cli.render.text import escape_control
from ofevents_cli.shells.replay import Replayed, ReplayEvent, Skipped

__all__ = ["ReplayView", "replayed_line", "replayed_record"]


def replayed_record(replayed: Replayed) -> dict[str, Any]:
    """The `--json` object of one re-sent delivery."""
    return {"id": replayed.id, "line": replayed.line, "event": replayed.event,
            "status": replayed.status, "ms": round(replayed.ms, 1), "error": replayed.error}


def replayed_line(event: Replayed) -> str:
    """`[200] POST http://localhost:3000/webhooks  tip.received  dlv_…  3 ms`."""
    status = f"[{event.status}]" if event.status is not None else "[ERR]"
    text = (f"{status} {event.method} {escape_control(event.url)}  "
            f"{escape_control(event.event or '-')}  {event.id}  {event.ms:.0f} ms")
    return text + (f"  {escape_control(event.error)}" if event.error else "")


class ReplayView:
    """Prints each outcome as it arrives and remembers whether any failed."""

    def __init__(self, json_lines: bool) -> None:
        self.json_lines = json_lines
        self.failed = 0
        self.sent = 0

    def show(self, event: ReplayEvent) -> None:
        """Render one outcome, or report a skipped line."""
        if isinstance(event, Skipped):
            say(f"line {event.line}: skipped: {escape_control(event.message)}")
            self.failed += 1 if event.failed else 0
            return
        self.sent += 1
        self.failed += 0 if event.ok else 1
        if self.json_lines:
            emit_json(replayed_record(event))
            return
        sys.stdout.write(replayed_line(event) + "\n")
        sys.stdout.flush()
