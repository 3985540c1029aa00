"""The sink seam's values: items, stream entries, sink URLs, the tally and the exit status."""

from __future__ import annotations

import json

import pytest

from ofevents_cli.core import frames
from ofevents_cli.core.exit_policy import sinks_failed
from ofevents_cli.core.sink_urls import parse_redis_url, sinks_from_tables
from ofevents_cli.core.sinks import (
    Delivered,
    Dropped,
    Failed,
    Retrying,
    Stored,
    Tally,
    Unrouted,
    delivery_item,
    entry_fields,
    event_item,
    item_of_entry,
)
from ofevents_cli.core.worker import Handled, WorkerTally, retry_delay
from ofevents_cli.core.worker import exit_code as worker_exit
from ofevents_cli.errors import InputError


def _fields(pairs: list[tuple[str, bytes]]) -> dict[bytes, bytes]:
    """Entry fields as Redis hands them back (byte keys)."""
    return {name.encode(): value for name, value in pairs}


def test_an_event_entry_holds_the_flat_object_and_comes_back_whole() -> None:
    """The body is the flat JSON `--forward-to` posts; the entry reads back as the same item."""
    event = frames.Event("evt_1", "tip", "384751629", "2026-11-22T10:30:00.000Z",
                         {"amount": 25, "message": "ünï"})
    item = event_item(event)
    assert json.loads(item.body) == event.flat()
    back = item_of_entry(_fields(entry_fields(item)))
    assert back == item and dict(entry_fields(item))["provider"] == b"eventbus"


def test_a_delivery_entry_keeps_the_request_byte_for_byte() -> None:
    """Method, path, repeated headers and a body that is not UTF-8 survive the entry."""
    item = delivery_item("dlv_1", "2026-11-22T10:30:00Z", "PUT", "/h?x=1",
                         (("x-rep", "a"), ("x-rep", "b")), b"\xff\x00{}", "tip.received",
                         "acct_1", "ofapi")
    back = item_of_entry(_fields(entry_fields(item)))
    assert back == item


@pytest.mark.parametrize(("fields", "why"), [
    ({b"body": b"x"}, "no `id`"),
    ({b"id": b"e1"}, "no `body`"),
    ({b"id": b"e1", b"body": b"x", b"kind": b"zip"}, "unknown `kind`"),
    ({b"id": b"\xff", b"body": b"x"}, "not UTF-8"),
    ({b"id": b"d", b"body": b"x", b"kind": b"delivery", b"headers": b"{"}, "unreadable"),
    ({b"id": b"d", b"body": b"x", b"kind": b"delivery", b"headers": b"[[1, 2]]"},
     "unreadable"),
])
def test_a_hostile_entry_gets_a_reason_never_an_exception(fields: dict[bytes, bytes],
                                                          why: str) -> None:
    """An entry someone else wrote is input: each defect is named."""
    reason = item_of_entry(fields)
    assert isinstance(reason, str) and why in reason


def test_sink_urls_have_defaults_and_never_show_the_password() -> None:
    """`redis://:pw@host:6380/2?stream=s&maxlen=5`: every part read, the label hides `pw`."""
    spec = parse_redis_url("redis://:s3cret@cache.local:6380/2?stream=s&maxlen=5&ttl=60")
    assert (spec.host, spec.port, spec.db, spec.password, spec.stream) == (
        "cache.local", 6380, 2, "s3cret", "s")
    assert (spec.maxlen, spec.ttl, spec.backlog, spec.tls) == (5, 60, 10_000, False)
    assert "s3cret" not in spec.label and spec.label == "redis://cache.local:6380/2 stream s"
    plain = parse_redis_url("rediss://localhost")
    assert (plain.port, plain.db, plain.stream, plain.maxlen, plain.tls) == (
        6379, 0, "ofevents", 100_000, True)
    assert plain.dead == "ofevents:dead" and plain.guard("e1") == "ofevents:seen:e1"


@pytest.mark.parametrize(("url", "why"), [
    ("http://localhost", "only redis://"),
    ("redis://h/x", "database number"),
    ("redis://h?maxlen=-1", "`maxlen` must be"),
    ("redis://h?backlog=0", "`backlog` must be"),
    ("redis://h?stram=x", "unknown parameter `stram`"),
    ("redis://h?group=g", "unknown parameter `group`"),
    ("redis://h?stream=", "`stream` must be"),
    ("redis://:pw@h:99999", "not a valid Redis URL"),
])
def test_a_bad_sink_url_is_a_usage_error_without_the_password(url: str, why: str) -> None:
    """Each mistake is named; the message never carries a password."""
    with pytest.raises(InputError) as caught:
        parse_redis_url(url)
    assert why in caught.value.message and "pw" not in caught.value.message


def test_the_worker_url_takes_a_group() -> None:
    """`--from …?group=G` is the worker's; the sink refuses it (above)."""
    assert parse_redis_url("redis://h?stream=s&group=g", worker=True).group == "g"
    assert parse_redis_url("redis://h", worker=True).group == "ofevents"


def test_sink_tables_read_urls_for_their_command() -> None:
    """`[[sinks]] url = …` with an optional `command`; anything else is refused."""
    tables = [{"url": "redis://a"}, {"url": "redis://b", "command": "forward"}]
    assert [s.host for s in sinks_from_tables(tables, "c.toml", "listen")] == ["a"]
    assert [s.host for s in sinks_from_tables(tables, "c.toml", "forward")] == ["a", "b"]
    with pytest.raises(InputError, match=r"c.toml \[\[sinks\]\] #1: unknown key `stream`"):
        sinks_from_tables([{"url": "redis://a", "stream": "x"}], "c.toml", "listen")
    with pytest.raises(InputError, match="has no `url`"):
        sinks_from_tables([{}], "c.toml", "listen")


def test_the_exit_status_is_1_only_when_something_did_not_get_through() -> None:
    """Delivered, stored, retried and unrouted items exit 0; a failed or dropped one exits 1,
    and the tally names it."""
    ok = Tally()
    for result in (Delivered("u", "e1", "tip", "1", 200, 1.0, 1),
                   Retrying("u", "e2", "tip", "1", 500, 1.0, 1, 0.5),
                   Stored("r", "e1", "tip", "1", "1-0"), Unrouted("e3", "x", "1")):
        ok.add(result)
    assert not sinks_failed(ok) and (ok.delivered, ok.stored, ok.unrouted) == (1, 1, 1)
    bad = Tally()
    bad.add(Failed("u", "e2", "tip", "1", 500, 1.0, 5))
    bad.add(Dropped("r", "e9", "tip", "1", "backlog full"))
    assert sinks_failed(bad) and bad.missed == {"u": ["e2"], "r": ["e9"]}


def test_the_tally_names_at_most_twenty_ids_per_sink_and_counts_the_rest() -> None:
    """A long outage names 20 ids and counts all of them."""
    tally = Tally()
    for n in range(25):
        tally.add(Dropped("r", f"e{n}", None, None, "down"))
    assert len(tally.missed["r"]) == 20 and tally.missed_count["r"] == 25


def test_the_worker_backs_off_doubling_up_to_thirty_seconds() -> None:
    """0.5, 1, 2, 4 … and never more than 30 s."""
    assert [retry_delay(n, 0.5) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry_delay(20, 0.5) == 30.0


def test_the_worker_exits_1_for_dead_or_trimmed_entries_only() -> None:
    """Acked, retried and released entries exit 0; a dead or trimmed one exits 1."""
    tally = WorkerTally()
    for outcome in ("acked", "retrying", "released"):
        tally.add(Handled("1-0", "e1", "tip", 200, 1.0, 1, outcome))  # type: ignore[arg-type]
    assert worker_exit(tally) == 0
    tally.add(Handled("2-0", "e2", "tip", 500, 1.0, 5, "dead", "HTTP 500"))
    assert worker_exit(tally) == 1 and tally.failed_entries == ["2-0"]
