"""Choosing history records: the filters of `history`, `replay` and `inspect`, pure.

The shell streams records and summarises each as an `Entry`; `Query.matches` keeps or drops
it. Moments (`--since 2h`) are parsed against a `now` the caller passes in.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import Capture, parse_timestamp
from ofevents_cli.core.envelope import EnvelopeFacts
from ofevents_cli.core.history_record import HistoryRecord
from ofevents_cli.core.signing import detect_scheme

__all__ = ["Entry", "Query", "entry_of", "parse_moment", "parse_status"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_STATUS = re.compile(r"[1-5][0-9x]{2}")


@dataclass(frozen=True)
class Entry:
    """One history record summarised: what a list line shows and the filters test."""

    record: HistoryRecord
    source: str
    event: str | None
    provider: str | None
    account: str | None

    @property
    def id(self) -> str:
        """The record's id (a delivery's `dlv_…`, an event's EventBus id)."""
        return self.record.id

    @property
    def kind(self) -> str:
        """`delivery` or `event`."""
        return "delivery" if isinstance(self.record, Capture) else "event"

    @property
    def epoch(self) -> float:
        """When it was received, unix seconds."""
        return self.record.received_epoch

    @property
    def status(self) -> int | None:
        """The answer's status (None: an event, or nothing was answered)."""
        record = self.record
        if isinstance(record, Capture) and record.response is not None:
            return record.response.status
        return None

    @property
    def valid(self) -> bool | None:
        """The signature verdict recorded when it arrived (None: not checked, or an event)."""
        record = self.record
        if isinstance(record, Capture) and record.verification is not None:
            return record.verification.valid
        return None


def entry_of(record: HistoryRecord, source: str, facts: EnvelopeFacts) -> Entry:
    """Summarise a record; `facts` is what the delivery's body says (ignored for an event)."""
    if not isinstance(record, Capture):
        return Entry(record, source, record.event, "eventbus", record.account_id)
    scheme = record.verification.scheme if record.verification else None
    scheme = scheme if scheme in registry.schemes() else detect_scheme(record.headers)
    provider = registry.owner(scheme).name if scheme else None
    return Entry(record, source, facts.event, provider, facts.account)


def parse_moment(text: str, now: float, local: tzinfo) -> float:
    """`2h`, `1h30m`, `7d` (that long before `now`), unix seconds, or ISO-8601 (a date or time
    without an offset is local time) -> unix seconds; ValueError when it is none of those."""
    value = text.strip()
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        return now - sum(float(n) * _UNITS[u] for n, u in parts)
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return parse_timestamp(value)  # a `Z` suffix on Python 3.10; ValueError otherwise
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    return moment.timestamp()


def parse_status(text: str) -> str:
    """`5xx`, `404`, `2XX` or `none` (no answer) -> its normal form; ValueError otherwise."""
    value = text.strip().lower()
    if value == "none" or _STATUS.fullmatch(value):
        return value
    raise ValueError(f"{text!r} is not a status pattern")


def _status_matches(patterns: tuple[str, ...], status: int | None) -> bool:
    code = "none" if status is None else str(status)
    return any(len(p) == len(code) and all(a in ("x", b) for a, b in zip(p, code, strict=True))
               for p in patterns)


def _text_of(record: HistoryRecord) -> str:
    """What `--grep` looks in: headers and body (a delivery), type and data (an event)."""
    if isinstance(record, Capture):
        lines = [f"{name}: {value}" for name, value in record.headers]
        return "\n".join([*lines, record.body.decode("utf-8", errors="replace")])
    return record.event + "\n" + json.dumps(record.data, ensure_ascii=False)


@dataclass(frozen=True)
class Query:
    """Every filter at once; an empty tuple or None means "any"."""

    events: tuple[str, ...] = ()  # names or globs (`tip.*`)
    providers: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    statuses: tuple[str, ...] = ()
    invalid: bool = False
    grep: str | None = None
    ids: tuple[str, ...] = ()

    def matches(self, entry: Entry) -> bool:
        """Whether `entry` passes every filter (the cheap ones first)."""
        if self.ids and entry.id not in self.ids:
            return False
        if self.since is not None and entry.epoch < self.since:
            return False
        if self.until is not None and entry.epoch > self.until:
            return False
        if self.providers and entry.provider not in self.providers:
            return False
        if self.accounts and entry.account not in self.accounts:
            return False
        if self.events and not any(entry.event is not None and
                                   fnmatch.fnmatchcase(entry.event, p) for p in self.events):
            return False
        if self.invalid and entry.valid is not False:
            return False
        if self.statuses and (entry.kind == "event" or
                              not _status_matches(self.statuses, entry.status)):
            return False
        return self.grep is None or self.grep.lower() in _text_of(entry.record).lower()
