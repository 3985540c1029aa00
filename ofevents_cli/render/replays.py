"""Showing `replay`: one line (or JSON object) per re-sent delivery; skipped lines on stderr."""

from __future__ import annotations

import sys
from typing import Any

from ofevents_cli.core.exit_policy import ReplayTally
from ofevents_cli.formats import Format
from ofevents_cli.render.output import emit_json, say, warn
from ofevents_cli.render.text import escape_control
from ofevents_cli.render.triggers import send_summary
from ofevents_cli.shells.replay import Replayed, ReplayEvent, Skipped

__all__ = ["ReplayView", "replayed_line", "replayed_record"]


def replayed_record(replayed: Replayed) -> dict[str, Any]:
    """The `--json` object of one re-sent delivery."""
    return {"id": replayed.id, "line": replayed.line, "event": replayed.event,
            "status": replayed.status, "ms": round(replayed.ms, 1), "error": replayed.error}


def replayed_line(event: Replayed) -> str:
    """`[200] POST http://localhost:3000/webhooks  tip.received  dlv_…  3 ms`."""
    status = f"[{event.status}]" if event.status is not None else "[ERR]"
    text = (f"{status} {event.method} {event.url}  {event.event or '-'}  {event.id}  "
            f"{event.ms:.0f} ms" + (f"  {event.error}" if event.error else ""))
    return escape_control(text)  # every part came from a capture file or a server


class ReplayView:
    """Prints each outcome as it arrives and counts it; `close` ends with the summary."""

    def __init__(self, fmt: Format, tally: ReplayTally, *, named: bool = True) -> None:
        self.json = fmt is Format.JSON
        self.tally = tally
        self.named = named  # reading files the user named (else: the history home)

    def show(self, event: ReplayEvent) -> None:
        """Count and render one outcome, or report a skipped line."""
        if isinstance(event, Skipped):
            unreadable = event.kind == "unreadable"
            self.tally.unreadable += unreadable and self.named
            self.tally.unreadable_history += unreadable and not self.named
            self.tally.unsendable += event.kind == "unsendable"
            self.tally.truncated += event.kind == "truncated"
            warn(f"line {event.line}: skipped: {escape_control(event.message)}")
            return
        self.tally.add(event.status, event.ms)
        if self.json:
            emit_json(replayed_record(event))
            return
        sys.stdout.write(replayed_line(event) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        """The summary on stderr: what was sent, how it was answered, what was skipped."""
        tally = self.tally
        if not (tally.sent or tally.unreadable or tally.unreadable_history or tally.unsendable
                or tally.truncated):
            return  # nothing was read: the error that stopped replay says why
        text = send_summary(tally, "delivery") if tally.sent else "0 deliveries sent"
        skipped = [f"{n:,} {what}" for n, what in (
            (tally.unreadable + tally.unreadable_history, "unreadable"),
            (tally.unsendable, "not sendable"), (tally.truncated, "truncated")) if n]
        if skipped:
            text += "; skipped: " + ", ".join(skipped)
        say(text)
