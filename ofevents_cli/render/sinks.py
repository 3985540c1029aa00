"""Showing what routes and sinks say: one stderr line per delivery attempt, drop, unrouted
event and state change; stored entries counted; a closing summary naming what did not get
through. The exit status comes from the tally (core/sinks.py `exit_code`), not from here."""

from __future__ import annotations

from typing import Any

from ofevents_cli.core.sinks import (
    Delivered,
    Dropped,
    Failed,
    Retrying,
    SinkDown,
    SinkResult,
    SinkUp,
    Stored,
    Tally,
    Unrouted,
)
from ofevents_cli.render.output import say
from ofevents_cli.render.text import escape_control

__all__ = ["SinkView", "result_line", "sink_record"]

SINK_VALUES = (Delivered, Retrying, Failed, Dropped, Stored, Unrouted, SinkDown, SinkUp)


def _what(event: str | None, item: str) -> str:
    return f"{escape_control(event or '-')} {escape_control(item)}"


def _stores(sink: str) -> bool:
    return sink.startswith(("redis://", "rediss://"))


def result_line(value: object) -> str | None:
    """The stderr line for one sink value (None: counted only, like a stored entry)."""
    if isinstance(value, Delivered):
        return f"<-- [{value.status}] POST {value.sink} {value.ms:.0f} ms  " + _what(
            value.event, value.item)
    if isinstance(value, (Retrying, Failed)):
        answer = f"[{value.status}]" if value.status is not None else (
            f"[{escape_control(value.error or 'no answer')}]")
        text = f"<-- {answer} POST {value.sink} {value.ms:.0f} ms  {_what(value.event, value.item)}"
        if isinstance(value, Retrying):
            return text + f"  (attempt {value.attempt}, retrying in {value.delay:.1f} s)"
        return text + f"  (gave up after {value.attempt} attempts)"
    if isinstance(value, Dropped):
        verb = "stored in" if _stores(value.sink) else "delivered to"
        return (f"!! not {verb} {value.sink}: {_what(value.event, value.item)}: "
                f"{escape_control(value.reason)}")
    if isinstance(value, Unrouted):
        account = f" (account {escape_control(value.account)})" if value.account else ""
        return f"-- unrouted {_what(value.event, value.item)}{account}: no route matches"
    if isinstance(value, SinkDown):
        return (f"!! {value.sink} is down: {escape_control(value.reason)}; {value.waiting} "
                f"waiting, retrying in {value.retry_in:.1f} s")
    if isinstance(value, SinkUp):
        return f"{value.sink} is up again: catching up {value.waiting} waiting"
    return None


def sink_record(value: SinkResult) -> dict[str, Any]:
    """The `forward --json` line of a copy's attempt (`"type": "copy"`) or of a Redis sink's
    outcome (`"type": "store"`)."""
    kind = "store" if _stores(getattr(value, "sink", "")) else "copy"
    outcome = {Delivered: "delivered", Retrying: "retrying", Failed: "failed",
               Dropped: "dropped", Stored: "stored", Unrouted: "unrouted"}[type(value)]
    return {"type": kind, "id": value.item, "to": getattr(value, "sink", None),
            "event": value.event, "outcome": outcome, "status": getattr(value, "status", None),
            "ms": round(getattr(value, "ms", 0.0), 1), "attempt": getattr(value, "attempt", None),
            "entry": getattr(value, "entry", None),
            "error": getattr(value, "error", None) or getattr(value, "reason", None)}


class SinkView:
    """Prints sink values as they come and keeps the tally the exit status is computed from."""

    def __init__(self, tally: Tally | None = None) -> None:
        self.tally = tally if tally is not None else Tally()
        self.stored: dict[str, int] = {}

    def show(self, value: object) -> bool:
        """Render `value` if it is a sink value; whether it was one."""
        if not isinstance(value, SINK_VALUES):
            return False
        if isinstance(value, SinkDown | SinkUp):
            say(result_line(value) or "")
            return True
        self.tally.add(value)
        if isinstance(value, Stored):
            self.stored[value.sink] = self.stored.get(value.sink, 0) + 1
        line = result_line(value)
        if line is not None:
            say(line)
        return True

    def summary(self) -> list[str]:
        """The closing lines: what each sink stored, and every sink's misses by id."""
        tally = self.tally
        lines = [f"{sink}: {count} stored" for sink, count in self.stored.items()]
        if tally.duplicates:
            lines.append(f"{tally.duplicates} already stored before (not written again)")
        if tally.unrouted:
            lines.append(f"{tally.unrouted} event(s) matched no route")
        for sink, count in tally.missed_count.items():
            named = tally.missed[sink]
            more = f" (+{count - len(named)} more)" if count > len(named) else ""
            verb = "stored in" if _stores(sink) else "delivered to"
            lines.append(f"!! {count} NOT {verb} {sink}: {', '.join(named)}{more}")
        return lines
