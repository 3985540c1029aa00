"""Showing `trigger` results: a line (or JSON object) per request, then a one-line summary.

On a terminal, several requests show a progress bar and only the requests that failed, above
it; piped, every request is a line of data on stdout. The summary goes to stderr either way.
"""

from __future__ import annotations

import sys
from typing import Any

from ofevents_cli.core.exit_policy import SendTally
from ofevents_cli.formats import Format
from ofevents_cli.render.output import BurstLines, console, error, say, warn
from ofevents_cli.render.text import count, escape_control, shorten
from ofevents_cli.shells.triggering import Outcome

__all__ = ["OutcomeRenderer", "outcome_line", "outcome_record", "send_summary"]


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """The `--json` object of one request (cli.md)."""
    return {
        "event": outcome.delivery.event,
        "provider": outcome.delivery.provider,
        "status": outcome.sent.status,
        "ms": round(outcome.sent.ms, 1),
        "delivery_id": outcome.delivery.delivery_id,
        "error": outcome.sent.error,
    }


def outcome_line(outcome: Outcome, url: str) -> str:
    """`[200] POST http://… tip.received evt_… 12 ms  <response body>`."""
    sent = outcome.sent
    status = f"[{sent.status}]" if sent.status is not None else "[ERR]"
    text = (f"{status} POST {url}  {outcome.delivery.event}  {outcome.delivery.delivery_id}  "
            f"{sent.ms:.0f} ms")
    if sent.error:
        return f"{text}  {escape_control(sent.error)}"
    answer = escape_control(shorten(sent.body.decode("utf-8", errors="replace").strip(), 120))
    return f"{text}  {answer}" if answer else text


def send_summary(tally: SendTally, noun: str = "request") -> str:
    """`200 requests: 198 2xx, 1 non-2xx, 1 without an answer; p50 3 ms, p99 12 ms`."""
    parts = [f"{tally.ok:,} 2xx"]
    if tally.not_ok:
        parts.append(f"{tally.not_ok:,} non-2xx")
    if tally.errors:
        parts.append(f"{tally.errors:,} without an answer")
    text = f"{count(tally.sent, noun)}: " + ", ".join(parts)
    p50, p99 = tally.percentile(0.5), tally.percentile(0.99)
    if p50 is not None and p99 is not None:
        text += f"; p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    return text


class OutcomeRenderer:
    """Prints each outcome as it arrives and counts it; `close` ends with the summary."""

    def __init__(self, fmt: Format, url: str, total: int, tally: SendTally) -> None:
        self.json = fmt is Format.JSON
        self.url = url
        self.tally = tally
        self.lines = BurstLines()  # --json: one write per burst of answers
        self.progress: Any = None
        self.task: Any = None
        if total > 1 and not self.json and sys.stdout.isatty():
            from rich.progress import Progress

            # failures print above the bar; the successes are counted by it
            self.progress = Progress(console=console(stderr=True), transient=True)
            self.task = self.progress.add_task("sending", total=total)

    def __enter__(self) -> OutcomeRenderer:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def show(self, outcome: Outcome) -> None:
        """Count and render one outcome."""
        sent = outcome.sent
        self.tally.add(sent.status, sent.ms, unreachable=sent.unreachable,
                       timed_out=sent.timed_out)
        if outcome.capture_error and not self.tally.unsaved:
            warn(f"cannot save to the capture file: {escape_control(outcome.capture_error)} "
                 "(the requests are still sent; the file is not written to again)")
        self.tally.unsaved += outcome.capture_error is not None
        if self.json:
            self.lines.emit(outcome_record(outcome))
            return
        line = outcome_line(outcome, self.url)
        if self.progress is None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            return
        if not (sent.status is not None and 200 <= sent.status < 300):
            self.progress.console.print(line, markup=False, highlight=False)
        self.progress.advance(self.task)

    def close(self, noun: str = "request") -> None:
        """Stop the bar, then the summary on stderr."""
        self.__exit__()
        sys.stdout.flush()
        summary = send_summary(self.tally, noun)
        if self.tally.unsaved:
            summary += f"; {self.tally.unsaved:,} not saved (capture write failed)"
        say(summary)
        if self.tally.unreachable:
            error(f"nothing answers at {escape_control(self.url)}",
                  "start your server, or fix --to (a port alone means localhost:PORT)")
        elif self.tally.timed_out:
            error(f"{escape_control(self.url)} did not answer in time "
                  f"({count(self.tally.timed_out, noun)} timed out)",
                  "raise --timeout, or make the handler answer first and work afterwards")
