"""Showing `ofevents worker`: one row per entry handled (stdout), retries and state changes on
stderr, a closing summary; or JSON Lines with `--json`. The exit status comes from the tally
(core/worker.py `exit_code`)."""

from __future__ import annotations

import time
from typing import Any

from ofevents_cli.core.worker import (
    Claimed,
    Handled,
    RedisDown,
    RedisUp,
    TargetDown,
    TargetUp,
    WorkerReady,
    WorkerStopping,
    WorkerTally,
    WorkerValue,
)
from ofevents_cli.render.output import emit_json, say
from ofevents_cli.render.text import escape_control, shorten

__all__ = ["WorkerView", "entry_record", "ready_record"]


def ready_record(ready: WorkerReady) -> dict[str, Any]:
    """The `--json` first line."""
    return {"type": "ready", "stream": ready.stream, "group": ready.group,
            "consumer": ready.consumer, "target": ready.target, "pending": ready.pending}


def entry_record(handled: Handled) -> dict[str, Any]:
    """The `--json` line of one attempt at one entry."""
    return {"type": "entry", "entry": handled.entry, "id": handled.item,
            "event": handled.event, "status": handled.status, "ms": round(handled.ms, 1),
            "attempt": handled.attempt, "outcome": handled.outcome, "error": handled.error,
            "retry_in": handled.retry_in}


def _row(h: Handled) -> str:
    """`10:30:01  1712345678901-0  tip  evt_…  200  12.3 ms  acked`."""
    status = str(h.status) if h.status is not None else "-"
    text = (f"{time.strftime('%H:%M:%S')}  {h.entry:<17}  "
            f"{escape_control(shorten(h.event or '-', 24)):<24}  "
            f"{escape_control(shorten(h.item or '-', 32)):<32}  {status:>6}  "
            f"{h.ms:>8.1f} ms  {h.outcome}")
    return text + (f"  {escape_control(shorten(h.error, 80))}" if h.error else "")


class WorkerView:
    """Renders the worker's values as they come and keeps the tally."""

    def __init__(self, json_lines: bool) -> None:
        self.json_lines = json_lines
        self.tally = WorkerTally()
        self.unacked = 0
        self.stream = ""

    def show(self, value: WorkerValue) -> None:
        """Render one value."""
        if isinstance(value, Handled):
            self.handled(value)
        elif isinstance(value, WorkerReady):
            self.stream = value.stream
            if self.json_lines:
                emit_json(ready_record(value))
            say(f"worker {escape_control(value.consumer)} reading {value.stream} (group "
                f"{escape_control(value.group)}, {value.pending} pending) -> {value.target}")
            say("Ctrl+C to stop (entries in flight are finished first).")
        elif isinstance(value, Claimed):
            say(f"claimed {value.count} entr{'y' if value.count == 1 else 'ies'} another "
                "consumer left pending")
        elif isinstance(value, RedisDown):
            say(f"!! Redis is down: {escape_control(value.reason)}; retrying in "
                f"{value.retry_in:.1f} s")
        elif isinstance(value, RedisUp):
            say("Redis is up again")
        elif isinstance(value, TargetDown):
            say(f"!! nothing accepts connections at {value.target} "
                f"({escape_control(value.reason)}): entries wait, no attempt is counted")
        elif isinstance(value, TargetUp):
            say(f"{value.target} accepts connections again")
        elif isinstance(value, WorkerStopping):
            self.unacked = value.unacked
            if value.in_flight:
                say(f"stopping, finishing {value.in_flight} in flight…")

    def handled(self, h: Handled) -> None:
        """One attempt: a row on stdout (a retry on stderr), or its JSON line."""
        self.tally.add(h)
        if self.json_lines:
            emit_json(entry_record(h))
        elif h.outcome == "retrying":
            answer = h.status if h.status is not None else escape_control(h.error or "")
            say(f"<-- {h.entry} [{answer}] attempt {h.attempt}, retrying in "
                f"{h.retry_in or 0:.1f} s")
        else:
            print(_row(h), flush=True)

    def summary(self) -> None:
        """The closing lines (stderr): what was acknowledged, what went to the dead letters."""
        t = self.tally
        dead = f", {t.dead} moved to the dead letters" if t.dead else ""
        released = (f", {t.released} left pending for another worker" if t.released else "")
        say(f"stopped: {t.acked} acknowledged{dead}{released}")
        if t.trimmed:
            say(f"!! {t.trimmed} entr{'y' if t.trimmed == 1 else 'ies'} trimmed from the stream "
                "before any worker delivered them (raise maxlen)")
        if t.failed_entries:
            say(f"!! not delivered: {', '.join(t.failed_entries)}"
                + (" …" if t.dead + t.trimmed > len(t.failed_entries) else ""))
        if self.unacked:
            say(f"!! {self.unacked} acknowledgement(s) not written (Redis down): those entries "
                "will be delivered again")
