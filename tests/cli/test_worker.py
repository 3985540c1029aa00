"""`ofevents worker` as a user runs it (the installed command), against a real redis-server
and real targets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from standardwebhooks.webhooks import Webhook

from ofevents_cli.core import frames
from ofevents_cli.core.sink_urls import parse_redis_url
from ofevents_cli.core.sinks import Item, delivery_item, event_item
from ofevents_cli.shells.redis_sink import RedisSink
from tests.redis_server import RedisServer, free_port
from tests.target import running_target

OFEVENTS = str(Path(sys.executable).with_name("ofevents"))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def fill(url: str, items: list[Item]) -> None:
    """Write `items` to the stream of `url` with the Redis sink itself."""
    async def main() -> None:
        sink = RedisSink(parse_redis_url(url), lambda _: None)
        for item in items:
            sink.submit(item)
        await sink.drain(10)
        await sink.aclose()
    asyncio.run(main())


def events(n: int, start: int = 0) -> list[Item]:
    """`n` tip events over three accounts."""
    return [event_item(frames.Event(f"evt_{k:05d}", "tip", str(k % 3),
                                    "2026-11-22T10:30:00.000Z", {"amount": k}))
            for k in range(start, start + n)]


def worker(source: str, to: str, *args: str,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `ofevents worker --from SOURCE --to TO --until-empty ARGS` to its end."""
    return subprocess.run([OFEVENTS, "worker", "--from", source, "--to", to, "--until-empty",
                           "--secret", SECRET, *args], capture_output=True, text=True,
                          timeout=timeout)


def test_event_entries_are_posted_signed_and_acknowledged(redis_server: RedisServer,
                                                         redis_client: Any) -> None:
    """Each event entry is POSTed once as `listen --forward-to` would (standardwebhooks
    verifies it), acknowledged, and reported as one JSON line."""
    source = f"{redis_server.url}?stream=w&group=g"
    fill(source.replace("&group=g", ""), events(30))
    with running_target() as target:
        done = worker(source, f"{target.url}/hooks", "--json", "--consumer", "w1")
    assert done.returncode == 0, done.stderr
    hook = Webhook(SECRET)
    payloads = [hook.verify(r.body, dict(r.headers)) for r in target.requests]
    assert sorted(p["_id"] for p in payloads) == [f"evt_{k:05d}" for k in range(30)]
    assert all(r.path == "/hooks" and r.values("user-agent")[0].endswith("(worker w1)")
               for r in target.requests)
    ready, *lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert ready == {"type": "ready", "stream": f"{redis_server.url} stream w", "group": "g",
                     "consumer": "w1", "target": f"{target.url}/hooks", "pending": 0}
    assert len(lines) == 30 and set(lines[0]) == {"type", "entry", "id", "event", "status",
                                                  "ms", "attempt", "outcome", "error",
                                                  "retry_in"}
    assert {(x["outcome"], x["status"]) for x in lines} == {("acked", 200)}
    assert redis_client.xpending("w", "g")["pending"] == 0
    assert "stopped: 30 acknowledged" in done.stderr


def test_delivery_entries_are_resent_byte_for_byte(redis_server: RedisServer) -> None:
    """A delivery `forward` stored goes out with its method, path, headers and body."""
    body = b"\xff\x00 raw"
    item = delivery_item("dlv_1", "2026-11-22T10:30:00Z", "PUT", "/in?x=1",
                         (("x-ofapi-signature", "sha256=ab"), ("x-rep", "1"), ("x-rep", "2"),
                          ("host", "public.example")), body, None, None, "ofapi")
    fill(f"{redis_server.url}?stream=dv", [item])
    with running_target() as target:
        done = worker(f"{redis_server.url}?stream=dv", f"{target.url}/base")
    assert done.returncode == 0, done.stderr
    [got] = target.requests
    assert (got.method, got.path, got.body) == ("PUT", "/base/in?x=1", body)
    assert got.values("x-ofapi-signature") == ["sha256=ab"] and got.values("x-rep") == ["1", "2"]
    assert got.values("host") == [f"127.0.0.1:{target.port}"]
    assert not got.values("user-agent") and not got.values("accept")


def test_a_delivery_entry_that_would_choose_the_host_goes_to_the_dead_letters(
        redis_server: RedisServer, redis_client: Any) -> None:
    """A stored path `@127.0.0.1:OTHER/x` or a stored CONNECT is never sent: each goes to the
    dead letters at once with the reason, the other host sees nothing; exit 1."""
    def entry(n: int, method: str, path: str) -> Item:
        return delivery_item(f"dlv_{n}", "2026-11-22T10:30:00Z", method, path, (), b"{}",
                             None, None, "ofapi")
    with running_target() as other, running_target() as target:
        fill(f"{redis_server.url}?stream=h", [entry(1, "POST", f"@127.0.0.1:{other.port}/x"),
                                              entry(2, "CONNECT", "/m"),
                                              entry(3, "POST", "/ok")])
        done = worker(f"{redis_server.url}?stream=h", target.url)
    assert done.returncode == 1, done.stderr
    assert other.requests == [] and [r.path for r in target.requests] == ["/webhooks/ok"]
    dead = {f[b"id"]: f[b"reason"].decode() for _, f in redis_client.xrange("h:dead")}
    assert set(dead) == {b"dlv_1", b"dlv_2"}
    assert "origin-form" in dead[b"dlv_1"] and "not a proxy" in dead[b"dlv_2"]


def test_an_entry_that_keeps_failing_goes_to_the_dead_letters(redis_server: RedisServer,
                                                              redis_client: Any) -> None:
    """500 every time: `--max-attempts 2`, then XADD S:dead (with the reason and the original
    fields) and XACK together; a malformed entry goes there at once; exit 1."""
    fill(f"{redis_server.url}?stream=f", events(2))
    redis_client.xadd("f", {"id": "evt_bad", "kind": "event"})  # no body
    with running_target() as target:
        done = worker(f"{redis_server.url}?stream=f", f"{target.url}/status/500",
                      "--max-attempts", "2", "--retry-delay", "0.01")
    assert done.returncode == 1
    assert len(target.requests) == 4
    dead = {f[b"id"]: f for _, f in redis_client.xrange("f:dead")}
    assert set(dead) == {b"evt_00000", b"evt_00001", b"evt_bad"}
    assert dead[b"evt_00000"][b"reason"] == b"HTTP 500 after 2 attempts"
    assert dead[b"evt_00000"][b"body"] == events(1)[0].body
    assert dead[b"evt_bad"][b"reason"] == b"malformed entry: the entry has no `body`"
    assert redis_client.xpending("f", "ofevents")["pending"] == 0
    assert "3 moved to the dead letters" in done.stderr and "retrying in" in done.stderr


def test_entries_a_dead_consumer_left_pending_are_claimed(redis_server: RedisServer,
                                                         redis_client: Any) -> None:
    """A consumer read five entries and vanished: after --claim-after they are this worker's,
    and delivered."""
    fill(f"{redis_server.url}?stream=c", events(5))
    redis_client.xgroup_create("c", "ofevents", id="0")
    redis_client.xreadgroup("ofevents", "ghost", {"c": ">"}, count=5)
    with running_target() as target:
        done = worker(f"{redis_server.url}?stream=c", target.url, "--claim-after", "0.2")
    assert done.returncode == 0, done.stderr
    assert "claimed 5 entries another consumer left pending" in done.stderr
    assert len(target.requests) == 5 and redis_client.xpending("c", "ofevents")["pending"] == 0


def test_a_target_that_is_down_is_waited_for_without_counting_attempts(
        redis_server: RedisServer, redis_client: Any) -> None:
    """Nothing listens yet: the worker says so and waits; with one attempt allowed, the entry
    is still delivered once the target starts."""
    fill(f"{redis_server.url}?stream=td", events(1))
    port = free_port()
    proc = subprocess.Popen([OFEVENTS, "worker", "--from", f"{redis_server.url}?stream=td",
                             "--to", f"http://127.0.0.1:{port}", "--until-empty",
                             "--max-attempts", "1", "--retry-delay", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        with running_target(port) as target:
            out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"nothing accepts connections at http://127.0.0.1:{port}" in err
    assert len(target.requests) == 1 and "acked" in out


def test_ctrl_c_finishes_the_entries_in_flight_and_exits_0(redis_server: RedisServer,
                                                           redis_client: Any) -> None:
    """SIGINT while the target takes its time: the entry in flight is finished and
    acknowledged, nothing new is taken, exit 0."""
    fill(f"{redis_server.url}?stream=s", events(3))
    with running_target() as target:
        proc = subprocess.Popen([OFEVENTS, "worker", "--from", f"{redis_server.url}?stream=s",
                                 "--to", f"{target.url}/slow/1", "--concurrency", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not target.requests:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopping, finishing 1 in flight" in err and "stopped: 1 acknowledged" in err
    assert len(target.requests) == 1 and out.count("acked") == 1
    summary = redis_client.xinfo_groups("s")[0]
    assert summary["pending"] == 0 and summary["last-delivered-id"] == redis_client.xrange(
        "s")[0][0]


def test_bad_sources_are_usage_errors_and_a_down_redis_is_unreachable() -> None:
    """A sink URL that is not one exits 2; a Redis nobody runs exits 3."""
    bad = subprocess.run([OFEVENTS, "worker", "--from", "redis://h?shard=1", "--to", "3000"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "unknown parameter `shard`" in bad.stderr
    down = subprocess.run([OFEVENTS, "worker", "--from", f"redis://127.0.0.1:{free_port()}",
                           "--to", "3000"], capture_output=True, text=True, timeout=30)
    assert down.returncode == 3 and "is unreachable: connection refused" in down.stderr
