"""Showing `trigger` results: a line per request (status, latency, response body) or JSON Lines."""

from __future__ import annotations

import sys
from typing import Any

from ofevents_cli.render.output import emit_json
from ofevents_cli.render.text import escape_control, shorten
from ofevents_cli.shells.triggering import Outcome


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
        return f"{text}  {sent.error}"
    answer = escape_control(shorten(sent.body.decode("utf-8", errors="replace").strip(), 120))
    return f"{text}  {answer}" if answer else text


class OutcomeRenderer:
    """Prints each outcome as it arrives; with a progress bar when there are several."""

    def __init__(self, json_lines: bool, url: str, total: int) -> None:
        self.json_lines = json_lines
        self.url = url
        self.progress: Any = None
        self.task: Any = None
        if total > 1 and not json_lines:
            from rich.progress import Progress

            from ofevents_cli.render.output import console

            # results stay on stdout; on a shared terminal rich prints them above the bar
            self.progress = Progress(console=console(stderr=True), transient=True,
                                     redirect_stdout=sys.stdout.isatty())
            self.task = self.progress.add_task("sending", total=total)

    def __enter__(self) -> OutcomeRenderer:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, outcome: Outcome) -> None:
        """Render one outcome."""
        if self.json_lines:
            emit_json(outcome_record(outcome))
            return
        sys.stdout.write(outcome_line(outcome, self.url) + "\n")
        sys.stdout.flush()
        if self.progress is not None:
            self.progress.advance(self.task)
