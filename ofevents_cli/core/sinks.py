"""The sink seam: what `listen` and `forward` hand every route and sink (an `Item`), what a
sink says back about it (a `SinkResult`), and the exit status over those results.

A sink takes items without waiting (into its own bounded backlog), keeps each account's items
in order, never blocks the stream or another sink, and reports each item's outcome as one of
the values below. A final outcome (delivered, failed, dropped, stored) is the sink's
acknowledgement of that item: `listen` resumes after the last event every sink acknowledged.
Pure: the shells (shells/fanout.py, shells/redis_sink.py) do the I/O.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ofevents_cli.core import frames

__all__ = [
    "MAX_NAMED",
    "Delivered",
    "Dropped",
    "Failed",
    "Item",
    "Report",
    "Retrying",
    "Sink",
    "SinkDown",
    "SinkResult",
    "SinkState",
    "SinkUp",
    "Stored",
    "Tally",
    "Unrouted",
    "delivery_item",
    "entry_fields",
    "event_body",
    "event_item",
    "item_of_entry",
]

Kind = Literal["event", "delivery"]
MAX_NAMED = 20  # ids named per sink in the closing summary; the rest are counted


@dataclass(frozen=True)
class Item:
    """One event (`listen`) or delivery (`forward`), as every sink receives it. `body` is the
    exact bytes: an event's flat JSON object (what `--forward-to` POSTs), a delivery's request
    body as it arrived. A delivery also keeps its method, path and headers, so it can be sent
    again byte for byte."""

    id: str
    kind: Kind
    event: str | None
    account: str | None
    provider: str | None
    ts: str
    body: bytes
    method: str = "POST"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    source: frames.Event | None = field(default=None, compare=False, repr=False)


def event_body(event: frames.Event) -> bytes:
    """The bytes an event is forwarded and stored as: its flat object, compact JSON."""
    return frames.flat_json(event)


def event_item(event: frames.Event) -> Item:
    """An EventBus event as an item."""
    return Item(event.id, "event", event.event, event.account_id, "eventbus", event.ts,
                event_body(event), source=event)


def delivery_item(id: str, received_at: str, method: str, path: str,
                  headers: tuple[tuple[str, str], ...], body: bytes, event: str | None,
                  account: str | None, provider: str | None) -> Item:
    """A webhook delivery `forward` received, as an item."""
    return Item(id, "delivery", event, account, provider, received_at, body, method, path,
                headers)


# -- Redis stream entries ----------------------------------------------------------------------


def entry_fields(item: Item) -> list[tuple[str, bytes]]:
    """The fields of the stream entry that stores `item` (docs/routes.md lists them)."""
    fields = [("id", item.id.encode()), ("kind", item.kind.encode()),
              ("type", (item.event or "").encode()), ("account", (item.account or "").encode()),
              ("provider", (item.provider or "").encode()), ("ts", item.ts.encode()),
              ("body", item.body)]
    if item.kind == "delivery":
        headers = json.dumps([list(h) for h in item.headers], ensure_ascii=False)
        fields += [("method", item.method.encode()), ("path", item.path.encode()),
                   ("headers", headers.encode())]
    return fields


def _text(fields: Mapping[bytes, bytes], name: str) -> str:
    return fields.get(name.encode(), b"").decode("utf-8")


def _headers(raw: bytes) -> tuple[tuple[str, str], ...]:
    pairs = json.loads(raw)
    if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
            for p in pairs):
        raise ValueError("`headers` is not a list of [name, value] pairs")
    return tuple((name, value) for name, value in pairs)


def item_of_entry(fields: Mapping[bytes, bytes]) -> Item | str:
    """The item a stream entry holds, or why it holds none (an entry is someone's input: a
    hostile one gets a reason, never an exception)."""
    try:
        kind = _text(fields, "kind") or "event"
        ident = _text(fields, "id")
        if not ident:
            return "the entry has no `id`"
        if kind not in ("event", "delivery"):
            return f"unknown `kind` {kind[:40]!r}"
        if b"body" not in fields:
            return "the entry has no `body`"
        item = Item(ident, "event" if kind == "event" else "delivery",
                    _text(fields, "type") or None, _text(fields, "account") or None,
                    _text(fields, "provider") or None, _text(fields, "ts"), fields[b"body"])
        if kind == "event":
            return item
        path = _text(fields, "path") or "/"
        return Item(item.id, item.kind, item.event, item.account, item.provider, item.ts,
                    item.body, _text(fields, "method") or "POST", path,
                    _headers(fields.get(b"headers", b"[]")))
    except UnicodeDecodeError:
        return "a field other than `body` is not UTF-8"
    except (ValueError, RecursionError) as exc:
        return f"unreadable `headers`: {str(exc)[:80]}"


# -- what a sink says --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """A route's target answered 2xx."""

    sink: str
    item: str
    event: str | None
    account: str | None
    status: int
    ms: float
    attempt: int
    final = True


@dataclass(frozen=True)
class Retrying:
    """One attempt failed (`status`, or `error` when there was no answer); another follows."""

    sink: str
    item: str
    event: str | None
    account: str | None
    status: int | None
    ms: float
    attempt: int
    delay: float
    error: str | None = None
    final = False


@dataclass(frozen=True)
class Failed:
    """The last attempt failed: this item will not reach this sink."""

    sink: str
    item: str
    event: str | None
    account: str | None
    status: int | None
    ms: float
    attempt: int
    error: str | None = None
    final = True


@dataclass(frozen=True)
class Dropped:
    """Never sent or stored: the backlog was full, or the command ended first."""

    sink: str
    item: str
    event: str | None
    account: str | None
    reason: str
    final = True


@dataclass(frozen=True)
class Stored:
    """Written to a stream (`entry` is its entry id; `duplicate`: an earlier write of the same
    id was found, nothing was written again)."""

    sink: str
    item: str
    event: str | None
    account: str | None
    entry: str
    duplicate: bool = False
    final = True


@dataclass(frozen=True)
class Unrouted:
    """No route matches this item (it is still printed, captured and stored)."""

    item: str
    event: str | None
    account: str | None
    final = False


SinkResult = Delivered | Retrying | Failed | Dropped | Stored | Unrouted


@dataclass(frozen=True)
class SinkDown:
    """A sink cannot write (Redis down): `waiting` items are kept, the next try is in
    `retry_in` seconds."""

    sink: str
    reason: str
    waiting: int
    retry_in: float


@dataclass(frozen=True)
class SinkUp:
    """The sink writes again; `waiting` items are being caught up."""

    sink: str
    waiting: int


SinkState = SinkDown | SinkUp
Report = Callable[[SinkResult | SinkState], None]


class Sink(Protocol):
    """What the fan-out needs from a sink; results go to the `Report` it was built with."""

    label: str

    def submit(self, item: Item) -> None:
        """Take `item` without waiting (a full backlog reports it `Dropped`)."""

    def drain(self, timeout: float) -> Awaitable[None]:
        """Wait up to `timeout` seconds for what was taken to reach a final outcome."""

    def aclose(self) -> Awaitable[None]:
        """Stop; every item not yet final is reported `Dropped`."""

    @property
    def pressing(self) -> bool:
        """True when the sink is working but so far behind that the stream should wait for
        it (`room`) rather than have it drop items; never for a sink that cannot work."""

    def room(self) -> Awaitable[None]:
        """Wait until the sink is no longer `pressing`."""


@dataclass
class Tally:
    """Final outcomes counted over a run; the ids that did not get through, per sink."""

    delivered: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    dropped: int = 0
    unrouted: int = 0
    missed: dict[str, list[str]] = field(default_factory=dict)  # sink -> ids (MAX_NAMED)
    missed_count: dict[str, int] = field(default_factory=dict)

    def add(self, result: SinkResult) -> None:
        """Count one result (a retry counts nothing: its last attempt will)."""
        if isinstance(result, Delivered):
            self.delivered += 1
        elif isinstance(result, Stored):
            self.stored += 1
            self.duplicates += result.duplicate
        elif isinstance(result, Unrouted):
            self.unrouted += 1
        elif isinstance(result, (Failed, Dropped)):
            if isinstance(result, Failed):
                self.failed += 1
            else:
                self.dropped += 1
            self.missed_count[result.sink] = self.missed_count.get(result.sink, 0) + 1
            named = self.missed.setdefault(result.sink, [])
            if len(named) < MAX_NAMED:
                named.append(result.item)
