"""The Redis Streams sink against a real redis-server: entries, the duplicate guard, retention,
an outage with its backlog, and where `--resume auto` resumes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ofevents_cli.core import frames
from ofevents_cli.core.sink_urls import parse_redis_url
from ofevents_cli.core.sinks import (
    Dropped,
    SinkDown,
    SinkUp,
    Stored,
    delivery_item,
    event_item,
)
from ofevents_cli.shells.redis_client import connect
from ofevents_cli.shells.redis_sink import RedisSink, newest_event_id
from tests.redis_server import RedisServer, free_port, redis_server


def _event(n: int, account: str = "1") -> frames.Event:
    return frames.Event(f"evt_{n:06d}", "tip", account, "2026-11-22T10:30:00.000Z",
                        {"amount": n})


def _run(url: str, work: Callable[[RedisSink], Any], **options: Any) -> list[object]:
    """Run `work(sink)` (a coroutine) with a sink on `url`; what the sink reported."""
    reported: list[object] = []

    async def main() -> None:
        sink = RedisSink(parse_redis_url(url), reported.append, **options)
        try:
            await work(sink)
        finally:
            await sink.aclose()

    asyncio.run(main())
    return reported


def test_each_event_is_one_entry_with_its_fields_and_exact_bytes(redis_server: RedisServer,
                                                                 redis_client: Any) -> None:
    """id, kind, type, account, provider, ts and the flat JSON body; in arrival order."""
    events = [_event(n, str(n % 3)) for n in range(50)]

    async def work(sink: RedisSink) -> None:
        for event in events:
            sink.submit(event_item(event))
        await sink.drain(10)

    reported = _run(f"{redis_server.url}?stream=s", work)
    entries = redis_client.xrange("s")
    assert [f[b"id"].decode() for _, f in entries] == [e.id for e in events]
    first = entries[0][1]
    assert first == {b"id": b"evt_000000", b"kind": b"event", b"type": b"tip", b"account": b"0",
                     b"provider": b"eventbus", b"ts": b"2026-11-22T10:30:00.000Z",
                     b"body": event_item(events[0]).body}
    stored = [r for r in reported if isinstance(r, Stored)]
    assert [r.item for r in stored] == [e.id for e in events]
    assert [r.entry for r in stored] == [entry_id.decode() for entry_id, _ in entries]


def test_a_duplicate_id_is_written_once_and_its_guard_expires(redis_server: RedisServer,
                                                              redis_client: Any) -> None:
    """The same id again (a replay after a restart) is found by its guard: no second entry;
    the guard key has the `ttl` of the URL."""
    async def work(sink: RedisSink) -> None:
        sink.submit(event_item(_event(1)))
        await sink.drain(10)
        sink.submit(event_item(_event(1)))
        sink.submit(event_item(_event(2)))
        await sink.drain(10)

    reported = _run(f"{redis_server.url}?stream=s&ttl=120", work)
    assert redis_client.xlen("s") == 2
    first, again, _ = (r for r in reported if isinstance(r, Stored))
    assert not first.duplicate and again.duplicate and again.entry == first.entry
    assert 0 < redis_client.ttl("s:seen:evt_000001") <= 120


def test_a_delivery_entry_carries_the_request(redis_server: RedisServer,
                                              redis_client: Any) -> None:
    """A delivery's method, path, headers and body (not UTF-8) are stored as they came."""
    item = delivery_item("dlv_1", "2026-11-22T10:30:00Z", "POST", "/h?x=1",
                         (("x-ofapi-signature", "sha256=ab"),), b"\xff\xfe", "tip.received",
                         "acct_1", "ofapi")

    async def work(sink: RedisSink) -> None:
        sink.submit(item)
        await sink.drain(10)

    _run(f"{redis_server.url}?stream=d", work)
    [(_, fields)] = redis_client.xrange("d")
    assert fields[b"body"] == b"\xff\xfe" and fields[b"path"] == b"/h?x=1"
    assert fields[b"headers"] == b'[["x-ofapi-signature", "sha256=ab"]]'
    assert (fields[b"kind"], fields[b"provider"], fields[b"account"]) == (
        b"delivery", b"ofapi", b"acct_1")


def test_maxlen_trims_the_stream_approximately(redis_server: RedisServer,
                                               redis_client: Any) -> None:
    """`maxlen=100`: after 2,000 entries the stream keeps about 100 (XADD MAXLEN ~)."""
    async def work(sink: RedisSink) -> None:
        for n in range(2000):
            sink.submit(event_item(_event(n)))
        await sink.drain(20)

    _run(f"{redis_server.url}?stream=t&maxlen=100", work)
    assert 100 <= redis_client.xlen("t") < 300
    assert redis_client.xrevrange("t", count=1)[0][1][b"id"] == b"evt_001999"


def test_redis_down_keeps_the_backlog_says_so_and_catches_up(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Nothing listens yet: a `SinkDown` line per retry, the items wait; once Redis is up a
    `SinkUp`, and every item is stored in order, none twice."""
    import tests.redis_server as module

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0?stream=late"
    stored: list[str] = []

    async def work(sink: RedisSink) -> None:
        for n in range(20):
            sink.submit(event_item(_event(n)))
        await asyncio.sleep(0.4)
        monkeypatch.setattr(module, "free_port", lambda: port)
        with redis_server(tmp_path / "late") as server:
            await sink.drain(10)
            client = connect(parse_redis_url(f"{server.url}?stream=late"))
            stored.extend(f[b"id"].decode() for _, f in await client.xrange("late"))
            await client.aclose()

    reported = _run(url, work, first_retry=0.05, max_retry=0.2)
    downs = [r for r in reported if isinstance(r, SinkDown)]
    assert downs and downs[0].reason == "connection refused" and downs[0].waiting == 20
    assert any(isinstance(r, SinkUp) for r in reported)
    assert stored == [f"evt_{n:06d}" for n in range(20)]


def test_a_full_backlog_and_the_end_drop_loudly_by_id(tmp_path: Path) -> None:
    """Redis down: beyond `backlog` each item is reported dropped at once; at the end every
    item still waiting is reported dropped too. None vanishes silently."""
    url = f"redis://127.0.0.1:{free_port()}/0?stream=x&backlog=5"

    async def work(sink: RedisSink) -> None:
        for n in range(8):
            sink.submit(event_item(_event(n)))
        await sink.drain(0.2)

    reported = _run(url, work, first_retry=0.05)
    dropped = [r for r in reported if isinstance(r, Dropped)]
    assert sorted(r.item for r in dropped) == [f"evt_{n:06d}" for n in range(8)]
    assert [r.reason for r in dropped[:3]] == ["backlog of 5 full (Redis is not keeping up)"] * 3
    assert {r.reason for r in dropped[3:]} == {"not confirmed stored when the command ended"}


def test_resume_auto_reads_the_newest_event_not_a_delivery(redis_server: RedisServer,
                                                           redis_client: Any) -> None:
    """XREVRANGE from the newest entry back: deliveries are skipped; an empty stream: None."""
    spec = parse_redis_url(f"{redis_server.url}?stream=r")
    redis_client.xadd("r", {"id": "evt_7", "kind": "event", "body": "{}"})
    for n in range(150):
        redis_client.xadd("r", {"id": f"dlv_{n}", "kind": "delivery", "body": "{}"})

    async def newest() -> tuple[str | None, str | None]:
        client = connect(spec)
        try:
            return (await newest_event_id(spec, client),
                    await newest_event_id(parse_redis_url(f"{redis_server.url}?stream=none"),
                                          client))
        finally:
            await client.aclose()

    assert asyncio.run(newest()) == ("evt_7", None)
