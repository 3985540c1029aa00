"""History records: a capture file's line is a webhook delivery or, with `"kind": "event"`, an
EventBus event kept by `listen --keep` (capture-format.md, "Kinds of record").

An event record has no `headers` or body, so a reader that predates kinds reports it as a bad
line instead of taking it for a delivery; `parse_capture` refuses it by its kind as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ofevents_cli.core.capture import (
    VERSION,
    Capture,
    CaptureProblem,
    format_timestamp,
    parse_capture,
    parse_timestamp,
)
from ofevents_cli.core.frames import Event

__all__ = ["EVENT_KIND", "HistoryRecord", "KeptEvent", "parse_record"]

EVENT_KIND = "event"


@dataclass(frozen=True)
class KeptEvent:
    """One EventBus event as `listen --keep` received it."""

    id: str
    received_at: str
    event: str
    account_id: str
    ts: str
    data: Mapping[str, Any] = field(default_factory=dict)
    line: int = field(default=0, compare=False)
    epoch: float | None = field(default=None, compare=False, repr=False)

    @classmethod
    def kept(cls, event: Event, received: float) -> KeptEvent:
        """The record of an event received at `received` (unix seconds)."""
        return cls(event.id, format_timestamp(received), event.event, event.account_id,
                   event.ts, event.data, epoch=received)

    def to_json(self) -> str:
        """The record as one JSON line (no newline)."""
        return json.dumps({"v": VERSION, "kind": EVENT_KIND, "id": self.id,
                           "received_at": self.received_at, "event": self.event,
                           "account_id": self.account_id, "ts": self.ts, "data": self.data},
                          ensure_ascii=False, separators=(",", ":"))

    def to_line(self) -> bytes:
        """The record as one UTF-8 JSON line with its newline, as a capture file holds it."""
        return (self.to_json() + "\n").encode("utf-8")

    @property
    def received_epoch(self) -> float:
        """`received_at` as unix seconds."""
        return self.epoch if self.epoch is not None else parse_timestamp(self.received_at)


HistoryRecord = Union[Capture, KeptEvent]  # noqa: UP007 - a runtime alias must work on 3.10


def _event(record: dict[str, Any], line: int) -> KeptEvent | CaptureProblem:
    strings = {key: record.get(key) for key in ("id", "received_at", "event", "account_id", "ts")}
    missing = [key for key, value in strings.items() if type(value) is not str or not value]
    if missing:
        return CaptureProblem(line, f"event record without `{missing[0]}`")
    data = record.get("data", {})
    if type(data) is not dict:
        return CaptureProblem(line, "event record whose `data` is not an object")
    try:
        epoch = parse_timestamp(str(strings["received_at"]))
    except ValueError:
        return CaptureProblem(line, "event record whose `received_at` is not a timestamp")
    return KeptEvent(str(strings["id"]), str(strings["received_at"]), str(strings["event"]),
                     str(strings["account_id"]), str(strings["ts"]), data, line, epoch)


def parse_record(text: bytes, line: int) -> HistoryRecord | CaptureProblem:
    """One line of a history or capture file: a delivery, an event, or what is wrong with it."""
    if b"kind" not in text:  # the common case: a delivery, parsed once
        return parse_capture(text, line)
    try:
        record = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return parse_capture(text, line)  # it says what is wrong with the line
    if type(record) is dict and record.get("kind") == EVENT_KIND:
        return _event(record, line)
    return parse_capture(text, line)
