"""Showing `forward`: a banner, then one row per delivery (rich), or JSON Lines with `--json`.

The relay shell yields values; this module is the only place that prints them. Rows are data
(stdout); the banner, the target's health and shutdown are conversation (stderr).
"""

from __future__ import annotations

import time
from typing import Any

from ofevents_cli.core import sinks
from ofevents_cli.core.exit_policy import ForwardTally
from ofevents_cli.formats import Format
from ofevents_cli.render.output import BurstLines, console, emit_json, say
from ofevents_cli.render.sinks import SinkView, result_line, sink_record
from ofevents_cli.render.text import count, escape_control, shorten
from ofevents_cli.shells.relay import (
    AgentDownloading,
    CaptureLost,
    Delivered,
    Ready,
    RelayEvent,
    Stopping,
    TargetDown,
    TargetUp,
)

__all__ = ["DeliveryView", "delivery_record", "ready_record"]


def ready_record(ready: Ready) -> dict[str, Any]:
    """The `--json` first line (cli.md)."""
    return {"type": "ready", "public_url": ready.public_url, "local_url": ready.local_url,
            "target": ready.target}


def delivery_record(delivered: Delivered) -> dict[str, Any]:
    """The `--json` line of one delivery (cli.md; with routes also `route`, `copies` and
    `unrouted`)."""
    record = {"type": "delivery", "event": delivered.event, "provider": delivered.provider,
              "valid": delivered.valid, "status": delivered.status,
              "ms": round(delivered.ms, 1), "id": delivered.id}
    if delivered.route is not None or delivered.unrouted:  # with --route: where it went
        record |= {"route": delivered.route, "copies": delivered.copies,
                   "unrouted": delivered.unrouted}
    return record


def verdict_text(delivered: Delivered) -> tuple[str, str]:
    """(label, rich style) for the signature column."""
    if delivered.valid is None:
        return "unchecked", "dim"
    if delivered.valid:
        return "valid", "green"
    return f"INVALID {delivered.reason or ''}".strip(), "bold red"


def status_style(status: int | None) -> str:
    """Green 2xx, yellow 3xx/4xx, red 5xx and no answer at all."""
    if status is None:
        return "red"
    if 200 <= status < 300:
        return "green"
    return "red" if status >= 500 else "yellow"


class DeliveryView:
    """Renders the relay's values as they come; `close` stops any spinner."""

    def __init__(self, fmt: Format, signatures: str, tally: ForwardTally) -> None:
        self.json_lines = fmt is Format.JSON
        self.tally = tally
        self.signatures = signatures
        self.out = console()
        self.err = console(stderr=True)
        self.spinner: Any = None
        self.capture = ""
        self.sinks = SinkView(tally.sinks)  # copies to routes, Redis sinks
        self.lines = BurstLines()  # --json delivery lines: one write per burst

    def show(self, event: RelayEvent) -> None:
        """Render one value from the relay."""
        if not isinstance(event, AgentDownloading):
            self.close()
        if isinstance(event, AgentDownloading):
            self.spinner = self.err.status("downloading the ngrok agent (first run only)…")
            self.spinner.start()
        elif isinstance(event, Ready):
            self.ready(event)
        elif isinstance(event, Delivered):
            self.delivered(event)
        elif isinstance(event, TargetDown):
            say(f"nothing is listening on {event.target} yet: deliveries will get 502 until "
                "it starts")
        elif isinstance(event, TargetUp):
            say(f"{event.target} is listening now")
        elif isinstance(event, CaptureLost):
            self.tally.lost_captures += 1
            say(f"capture write failed: {escape_control(event.error)} (delivery {event.id} "
                "was relayed but not captured)")
        elif isinstance(event, sinks.SinkDown | sinks.SinkUp):
            say(result_line(event) or "")
        elif isinstance(event, Stopping):
            pending = (f", finishing {event.in_flight} in flight (Ctrl+C again: answer them "
                       "503 now)" if event.in_flight else "")
            say(f"stopping{pending}…")
        else:
            self.routed(event)

    def ready(self, ready: Ready) -> None:
        """The banner (stderr); with --json also the `ready` line."""
        self.capture = str(ready.capture)
        if self.json_lines:
            emit_json(ready_record(ready))
        lines = ["ofevents forward is ready"]
        if ready.public_url:
            lines.append(f"  public URL  {ready.public_url}   <- paste into your provider's "
                         "webhook settings (any path is relayed)")
        else:
            lines.append("  public URL  none (--tunnel none): only this machine can reach it")
        lines += [f"  local URL   {ready.local_url}",
                  f"  target      {ready.target or 'none: the first matching route answers'}"]
        lines += [f"  route       {route}" for route in ready.routes]
        lines += [f"  sink        {sink}" for sink in ready.sinks]
        lines += [f"  capture     {ready.capture}" + ("  (the history: `ofevents history`, "
                                                      "`ofevents inspect`)" if ready.history
                                                      else ""),
                  f"  signatures  {self.signatures}",
                  "Ctrl+C to stop."]
        for line in lines:
            say(line)
        if not self.json_lines:
            self.out.print(f"{'time':<8}  {'provider':<11}  {'event':<32}  {'signature':<28}  "
                           f"{'status':>6}  {'ms':>8}", style="bold", markup=False)

    def delivered(self, delivered: Delivered) -> None:
        """One row (or JSON line) per delivery."""
        if delivered.capture_error:
            self.tally.lost_captures += 1
            say(f"capture write failed: {escape_control(delivered.capture_error)} "
                f"(delivery {delivered.id} was relayed but not captured)")
        elif delivered.id:
            self.tally.deliveries += 1
        if self.json_lines:
            self.lines.emit(delivery_record(delivered))
            return
        from rich.text import Text

        verdict, verdict_style = verdict_text(delivered)
        event = escape_control(shorten(delivered.event or delivered.path, 32))
        row = Text()
        row.append(f"{time.strftime('%H:%M:%S', time.localtime(delivered.received_at))}  ")
        row.append(f"{delivered.provider or '-':<11}  ")
        row.append(f"{event:<32}  ")
        row.append(f"{shorten(verdict, 28):<28}  ", style=verdict_style)
        row.append(f"{delivered.status or '-':>6}", style=status_style(delivered.status))
        row.append(f"  {delivered.ms:>8.1f}")
        if delivered.error:
            row.append(f"  {escape_control(shorten(delivered.error, 60))}", style="dim")
        self.out.print(row)

    def routed(self, value: sinks.SinkResult) -> None:
        """A copy's attempt or a Redis sink's outcome: final copies are rows (retries go to
        stderr), stored entries are counted; with --json one line each."""
        self.sinks.tally.add(value)
        if isinstance(value, sinks.Stored):
            self.sinks.stored[value.sink] = self.sinks.stored.get(value.sink, 0) + 1
        if self.json_lines:
            emit_json(sink_record(value))
            return
        if isinstance(value, sinks.Retrying | sinks.Unrouted | sinks.Stored):
            line = result_line(value)
            if line:
                say(line)
            return
        if isinstance(value, sinks.Dropped) and value.sink.startswith(("redis://", "rediss://")):
            say(result_line(value) or "")
            return
        status = value.status if isinstance(value, sinks.Delivered | sinks.Failed) else None
        ms = value.ms if isinstance(value, sinks.Delivered | sinks.Failed) else 0.0
        note = (value.error if isinstance(value, sinks.Failed) else
                value.reason if isinstance(value, sinks.Dropped) else None)
        from rich.text import Text

        row = Text()
        row.append(f"{time.strftime('%H:%M:%S')}  {'':<11}  ")
        row.append(f"{'  ↳ copy':<32}  ")
        row.append(f"{escape_control(shorten(value.sink, 28)):<28}  ")
        row.append(f"{status or '-':>6}", style=status_style(status))
        row.append(f"  {ms:>8.1f}")
        if note:
            row.append(f"  {escape_control(shorten(note, 60))}", style="dim")
        self.out.print(row)

    def close(self) -> None:
        """Stop the download spinner if it runs."""
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None

    def summary(self) -> None:
        """The last line (stderr): how many deliveries went to which file."""
        if self.capture:
            lost = self.tally.lost_captures
            note = f"; {lost:,} NOT captured (capture write failed)" if lost else ""
            say(f"stopped: {count(self.tally.deliveries, 'delivery')} captured in "
                f"{self.capture}{note}")
        for line in self.sinks.summary():
            say(line)
