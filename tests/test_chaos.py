"""Chaos: `listen --sink --route` through connection drops and kill -9, and workers of which one
dies mid-batch. Nothing lost, nothing stored twice, duplicates only where a worker died
before its acknowledgement."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ofevents_cli.core import frames
from ofevents_cli.core.sinks import event_item
from tests.cli.test_worker import SECRET, fill
from tests.eventbus_servers import KEY, TOKEN, emulator_thread
from tests.redis_server import RedisServer
from tests.target import running_target

OFEVENTS = str(Path(sys.executable).with_name("ofevents"))
ACCOUNTS = ("111111111", "222222222", "333333333")
EVENTS = 10_000


class Hooks:
    """What a webhook target saw: (webhook-id, consumer in the User-Agent, answered) per
    request, in arrival order; requests from `hang` are held unanswered until `release`."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.hang: str | None = None
        self.release = threading.Event()

    def count(self, consumer: str | None = None, answered: bool | None = None) -> int:
        with self.lock:
            return sum(1 for _, c, a in self.seen if consumer in (None, c)
                       and answered in (None, a))


@contextlib.contextmanager
def hooks() -> Iterator[tuple[str, Hooks]]:
    """A threaded HTTP target on 127.0.0.1:0 recording each request."""
    record = Hooks()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            agent = self.headers.get("user-agent", "")
            consumer = agent.split("(worker ")[-1].rstrip(")") if "(worker " in agent else ""
            held = record.hang is not None and consumer == record.hang
            with record.lock:
                record.seen.append((self.headers.get("webhook-id", ""), consumer, not held))
            if held:
                record.release.wait(60)
                return
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, request: object, client_address: object) -> None:
            """A killed worker's connection: expected here."""

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", record
    finally:
        record.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.timeout(180)
def test_listen_through_drops_and_two_kill_9s_stores_every_event_once_in_order(
        redis_server: RedisServer, redis_client: Any, tmp_path: Path) -> None:
    """10,000 events while the bus drops the connection every 200 and `listen` is SIGKILLed
    twice and restarted with `--resume auto`: the stream holds every id exactly once, in
    publish order (so in order per account); every tip reached its route."""
    sink = f"{redis_server.url}?stream=chaos"
    with emulator_thread(drop_every=200, buffer=2 * EVENTS) as (served, loop), \
            running_target() as target:
        url = target.url
        def start(run: int) -> subprocess.Popen[bytes]:
            before = served.app.sessions
            with (tmp_path / f"listen-{run}.log").open("wb") as log:
                proc = subprocess.Popen(
                    [OFEVENTS, "listen", "--url", served.url, "--api-key", KEY, "--ws-token",
                     TOKEN, "--json", "--sink", sink, "--route", f"tip={url}", "--resume",
                     "auto"], stdout=subprocess.DEVNULL, stderr=log)
            wait_until(lambda: served.app.sessions > before, 20, f"listen #{run} to connect")
            return proc

        def stored() -> int:
            return int(redis_client.xlen("chaos"))

        published: list[str] = []
        kinds: dict[str, tuple[str, str]] = {}

        async def inject(batch: int) -> list[str]:
            items = [{"event": "tip" if n % 10 == 0 else "chat_message",
                      "accountId": ACCOUNTS[n % 3], "data": {"n": n}}
                     for n in range(batch * 500, batch * 500 + 500)]
            ids = served.app.emit(items)
            for event_id, item in zip(ids, items, strict=True):
                kinds[event_id] = (item["event"], item["accountId"])
            return ids

        proc = start(1)
        for batch in range(EVENTS // 500):
            published += asyncio.run_coroutine_threadsafe(inject(batch), loop).result(10)
            time.sleep(0.05)
            if batch == 6:
                wait_until(lambda: stored() >= 2000, 60, "2,000 stored")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                proc = start(2)
            if batch == 13:
                wait_until(lambda: stored() >= 5500, 60, "5,500 stored")
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                proc = start(3)
        tips = {i for i in published if kinds[i][0] == "tip"}
        wait_until(lambda: stored() >= EVENTS, 120, "every event stored")
        wait_until(lambda: tips <= {json_id(r.body) for r in target.requests}, 60,
                   "every tip at its route")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, (tmp_path / "listen-3.log").read_text()
    entries = [f[b"id"].decode() for _, f in redis_client.xrange("chaos")]
    assert len(entries) == len(set(entries)) == EVENTS
    assert entries == published
    logs = "".join((tmp_path / f"listen-{n}.log").read_text() for n in (1, 2, 3))
    assert "GAP" not in logs and logs.count("closed 1012 (drop-every)") >= 40
    first_seen: dict[str, list[str]] = {}
    for event_id in dict.fromkeys(json_id(r.body) for r in target.requests):
        first_seen.setdefault(kinds[event_id][1], []).append(event_id)
    for account, ids in first_seen.items():
        assert ids == [i for i in published if i in tips and kinds[i][1] == account]


def json_id(body: bytes) -> str:
    """The event id in a forwarded body."""
    import json

    return str(json.loads(body)["_id"])


@pytest.mark.timeout(180)
def test_three_workers_one_killed_mid_batch_deliver_every_entry(
        redis_server: RedisServer, redis_client: Any) -> None:
    """3,000 entries, three workers; one is SIGKILLed while it holds requests the target got
    but never answered. The others claim its entries: every entry reaches the target, none
    is lost, and an entry arrives twice only when the dead worker had it first (the handler
    sees the same webhook-id both times)."""
    total = 3000
    fill(f"{redis_server.url}?stream=jobs",
         [event_item(frames.Event(f"evt_{n:05d}", "tip", ACCOUNTS[n % 3], "2026-11-22T10:30:00Z",
                                  {"n": n})) for n in range(total)])
    source = f"{redis_server.url}?stream=jobs&group=team"
    with hooks() as (url, record):
        def worker(name: str) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [OFEVENTS, "worker", "--from", source, "--to", url, "--consumer", name,
                 "--secret", SECRET, "--claim-after", "1", "--until-empty"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        workers = {name: worker(name) for name in ("w1", "w2", "w3")}
        wait_until(lambda: record.count("w1") >= 200, 60, "w1 to deliver 200")
        record.hang = "w1"
        wait_until(lambda: record.count("w1", answered=False) >= 5, 30, "w1 to be mid-batch")
        workers["w1"].send_signal(signal.SIGKILL)
        workers["w1"].wait(10)
        for name in ("w2", "w3"):
            assert workers[name].wait(90) == 0, workers[name].stderr.read()  # type: ignore[union-attr]
        for proc in workers.values():
            assert proc.stderr is not None
            proc.stderr.close()
        seen = list(record.seen)
    consumers: dict[str, list[str]] = {}
    for event_id, consumer, _ in seen:
        consumers.setdefault(event_id, []).append(consumer)
    assert set(consumers) == {f"evt_{n:05d}" for n in range(total)}
    twice = {event_id for event_id, got in consumers.items() if len(got) > 1}
    hung = {event_id for event_id, _, answered in seen if not answered}
    assert hung and hung <= twice
    assert all(got[0] == "w1" and len(got) == 2 and got[1] != "w1"
               for event_id, got in consumers.items() if event_id in twice)
    assert redis_client.xpending("jobs", "team")["pending"] == 0
    assert redis_client.exists("jobs:dead") == 0
