"""`ofevents worker`: the other half of the Redis sink. Reads a stream with a consumer group,
POSTs each entry to the target, and acknowledges it on a 2xx.

An event entry is POSTed as `listen --forward-to` does (the flat JSON, signed); a delivery
entry is re-sent byte for byte, as `replay` does. A failed attempt is retried with backoff;
after `max_attempts` the entry goes to `S:dead` with the reason (XADD and XACK in one
MULTI/EXEC). Entries another consumer left pending longer than `claim_after` are claimed
(XAUTOCLAIM). Any number of workers on any number of machines share a stream. Yields typed
values (core/worker.py) and never prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from ofevents_cli import __version__
from ofevents_cli.core import providers as registry
from ofevents_cli.core.request_target import request_problem
from ofevents_cli.core.sink_urls import RedisSpec
from ofevents_cli.core.sinks import Item, item_of_entry
from ofevents_cli.core.worker import (
    Claimed,
    Handled,
    RedisDown,
    RedisUp,
    TargetDown,
    TargetUp,
    WorkerReady,
    WorkerStopping,
    WorkerValue,
    retry_delay,
)
from ofevents_cli.shells import clock
from ofevents_cli.shells.redis_client import connect, problem, reachable, transient

__all__ = ["WorkerSettings", "default_consumer", "work"]

FIRST_REDIS_RETRY, MAX_REDIS_RETRY = 0.2, 5.0
PERMANENT = "\x00"  # marks an attempt error that another attempt cannot change


def default_consumer() -> str:
    """`<host>-<pid>`: unique per running worker, recognisable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class WorkerSettings:
    """The stream and group to read, where to POST, and the retry and claim policy."""

    source: RedisSpec
    target: str
    secret: str
    consumer: str
    provider: str = "eventbus"
    claim_after: float = 60.0
    max_attempts: int = 5
    retry_delay: float = 0.5
    concurrency: int = 10
    timeout: float = 10.0
    until_empty: bool = False

    @property
    def scheme(self) -> str:
        """The signing scheme for event entries."""
        return registry.provider(self.provider).schemes[0]


class _Worker:
    def __init__(self, settings: WorkerSettings, stop: asyncio.Event) -> None:
        from ofevents_cli.shells.http_client import HttpSettings, proxy, session

        self.s = settings
        self.stop = stop
        self.values: asyncio.Queue[WorkerValue | None] = asyncio.Queue()
        self.redis: Any = connect(settings.source)
        self.proxy = proxy(settings.target)  # the environment's, None for a loopback target
        self.http = session(HttpSettings(settings.timeout), limit=settings.concurrency)
        self.agent = f"ofevents/{__version__} (worker {settings.consumer})"
        self.in_flight: set[asyncio.Task[None]] = set()
        self.holding: set[str] = set()  # entry ids in flight
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.acks: list[str] = []
        self.acked = asyncio.Event()  # an ack is waiting to be written
        self.finishing = False  # no more acks will come: the acker writes the rest and ends
        self.redis_down = False
        self.target_down = False

    def report(self, value: WorkerValue) -> None:
        self.values.put_nowait(value)

    # -- Redis, retried ---------------------------------------------------------------------

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A Redis command, retried with backoff (and a state line) while Redis is down;
        re-raises once the worker is stopping."""
        delay = FIRST_REDIS_RETRY
        while True:
            try:
                result = await getattr(self.redis, name)(*args, **kwargs)
            except transient() as exc:
                if self.stop.is_set():
                    raise
                self.redis_down = True
                self.report(RedisDown(problem(exc), delay))
                await self.sleep(delay)
                delay = min(MAX_REDIS_RETRY, delay * 2)
                continue
            if self.redis_down:
                self.redis_down = False
                self.report(RedisUp())
            return result

    async def sleep(self, seconds: float) -> bool:
        """Sleep, cut short by Ctrl+C; True when it was."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    async def ensure_group(self) -> None:
        """XGROUP CREATE … 0 MKSTREAM: a new group starts with the stream's first entry."""
        import redis

        spec = self.s.source
        try:
            await self.redis.xgroup_create(spec.stream, spec.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # -- one entry --------------------------------------------------------------------------

    def start(self, entry: bytes | None, fields: Mapping[bytes, bytes] | None) -> bool:
        """Handle an entry in the background (not one this worker holds already)."""
        if entry is None or entry.decode() in self.holding:
            return False
        name = entry.decode()
        self.holding.add(name)
        task = asyncio.ensure_future(self.handle(name, fields))
        self.in_flight.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.in_flight.discard(finished)
            self.holding.discard(name)

        task.add_done_callback(done)
        return True

    async def handle(self, entry: str, fields: Mapping[bytes, bytes] | None) -> None:
        async with self.slots:
            if not fields:  # trimmed (maxlen) or deleted before anyone delivered it
                self.report(Handled(entry, None, None, None, 0.0, 0, "trimmed",
                                    "the stream no longer holds this entry (maxlen?)"))
                self.ack(entry)
                return
            item = item_of_entry(fields)
            if isinstance(item, str):
                await self.dead(entry, fields, None, None, 0, f"malformed entry: {item}")
                return
            await self.deliver(entry, fields, item)

    async def deliver(self, entry: str, fields: Mapping[bytes, bytes], item: Item) -> None:
        attempt = 0
        while True:
            attempt += 1
            status, ms, error, unreachable = await self.post(item)
            if status is None and error is not None and error.startswith(PERMANENT):
                await self.dead(entry, fields, item, None, attempt, error[len(PERMANENT):])
                return
            if unreachable:  # nothing listens: wait for the target, the attempt is not counted
                attempt -= 1
                if not self.target_down:
                    self.target_down = True
                    self.report(TargetDown(self.s.target, error or "unreachable"))
                if await self.sleep(self.s.retry_delay) or self.stop.is_set():
                    self.report(Handled(entry, item.id, item.event, None, ms, attempt,
                                        "released", error))
                    return
                continue
            if self.target_down:
                self.target_down = False
                self.report(TargetUp(self.s.target))
            if status is not None and 200 <= status < 300:
                self.ack(entry)
                self.report(Handled(entry, item.id, item.event, status, ms, attempt, "acked"))
                return
            reason = error or f"HTTP {status}"
            if attempt >= self.s.max_attempts:
                await self.dead(entry, fields, item, status, attempt,
                                f"{reason} after {attempt} attempts")
                return
            if self.stop.is_set():
                self.report(Handled(entry, item.id, item.event, status, ms, attempt,
                                    "released", reason))
                return
            delay = retry_delay(attempt, self.s.retry_delay)
            self.report(Handled(entry, item.id, item.event, status, ms, attempt, "retrying",
                                reason, delay))
            if await self.sleep(delay):
                self.report(Handled(entry, item.id, item.event, status, ms, attempt,
                                    "released", reason))
                return
            await self.touch(entry)

    async def post(self, item: Item) -> tuple[int | None, float, str | None, bool]:
        """One attempt: (status, ms, error, unreachable)."""
        from ofevents_cli.shells.forwarder import webhook_headers
        from ofevents_cli.shells.sender import send

        try:
            if item.kind == "event":
                headers = webhook_headers(self.s.scheme, self.s.secret, item.body, item.id,
                                          agent=self.agent)
                sent = await send(self.http, "POST", self.s.target, headers, item.body,
                                  proxy=self.proxy)
            else:
                from ofevents_cli.shells.relay import join_url
                from ofevents_cli.shells.replay import sendable

                refused = request_problem(item.method, item.path)
                if refused is not None:  # an entry must not choose the host either
                    return None, 0.0, f"{PERMANENT}path {item.path[:80]!r}: {refused}", False
                sent = await send(self.http, item.method,
                                  join_url(self.s.target, "", item.path),
                                  sendable(item.headers), item.body, proxy=self.proxy)
        except ValueError as exc:
            return None, 0.0, f"{PERMANENT}cannot send this request: {exc}", False
        return sent.status, sent.ms, sent.error, sent.unreachable

    async def touch(self, entry: str) -> None:
        """Reset the entry's idle time (XCLAIM … JUSTID) before another attempt, so that no
        other worker claims an entry this one is still retrying."""
        spec = self.s.source
        with contextlib.suppress(*transient()):
            await self.redis.xclaim(spec.stream, spec.group, self.s.consumer, 0, [entry],
                                    justid=True)

    def ack(self, entry: str) -> None:
        self.acks.append(entry)
        self.acked.set()

    async def dead(self, entry: str, fields: Mapping[bytes, bytes], item: Item | None,
                   status: int | None, attempts: int, reason: str) -> None:
        """XADD S:dead (the entry's fields plus why) and XACK, in one MULTI/EXEC."""
        spec = self.s.source
        letter = {**fields, b"reason": reason.encode(), b"entry": entry.encode(),
                  b"attempts": str(attempts).encode(), b"consumer": self.s.consumer.encode(),
                  b"failed_at": str(clock.now()).encode()}

        async def write() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xadd(spec.dead, letter, maxlen=spec.maxlen or None, approximate=True)
                pipe.xack(spec.stream, spec.group, entry)
                await pipe.execute()

        try:
            await self.retried(write)
        except transient():
            self.report(Handled(entry, item.id if item else None, item.event if item else None,
                                status, 0.0, attempts, "released",
                                f"{reason}; not moved to {spec.dead}: Redis is down"))
            return
        self.report(Handled(entry, item.id if item else None, item.event if item else None,
                            status, 0.0, attempts, "dead", reason))

    async def retried(self, work: Any) -> None:
        delay = FIRST_REDIS_RETRY
        while True:
            try:
                await work()
                return
            except transient() as exc:
                if self.stop.is_set():
                    raise
                self.report(RedisDown(problem(exc), delay))
                await self.sleep(delay)
                delay = min(MAX_REDIS_RETRY, delay * 2)

    # -- the loops ---------------------------------------------------------------------------

    async def acker(self) -> None:
        """Write acknowledgements in batches (one XACK per batch) as they come."""
        spec = self.s.source
        while not (self.finishing and not self.acks):
            await self.acked.wait()
            self.acked.clear()
            while self.acks:
                batch, self.acks = self.acks, []
                try:
                    await self.call("xack", spec.stream, spec.group, *batch)
                except transient():
                    self.acks = batch + self.acks  # stopping with Redis down: reported
                    return

    async def claim(self) -> int:
        """XAUTOCLAIM what others left pending too long, as far as there is room."""
        spec = self.s.source
        room = self.s.concurrency - len(self.in_flight)
        if room <= 0:
            return 0
        answer = await self.call("xautoclaim", spec.stream, spec.group, self.s.consumer,
                                 int(self.s.claim_after * 1000), "0-0", count=room)
        entries = answer[1] if len(answer) > 1 else []
        claimed = sum(self.start(entry, fields) for entry, fields in entries)
        if claimed:
            self.report(Claimed(claimed))
        return claimed

    async def room(self) -> int:
        """Free slots, waiting (at most half a second) until half of them are free: entries
        are read in batches, not one round trip per entry."""
        wanted = max(1, self.s.concurrency // 2)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 0.5
        while (self.s.concurrency - len(self.in_flight) < wanted and self.in_flight
               and loop.time() < deadline):
            await asyncio.wait(set(self.in_flight), timeout=deadline - loop.time(),
                               return_when=asyncio.FIRST_COMPLETED)
        return max(0, self.s.concurrency - len(self.in_flight))

    async def read(self, start: str) -> tuple[int, str]:
        """Take up to the free room of entries after `start` (`>`: new ones, waiting at most
        half a second; an id: this consumer's own pending ones after it). (How many, the last
        id.)"""
        spec = self.s.source
        room = await self.room()
        if not room:
            return 0, start
        answer = await self.call("xreadgroup", spec.group, self.s.consumer,
                                 {spec.stream: start}, count=room,
                                 block=None if start != ">" else 500)
        taken, last = 0, start
        for _, entries in answer or []:
            for entry, fields in entries:
                taken += self.start(entry, fields)
                last = entry.decode()
        return taken, last

    async def idle(self) -> bool:
        """With --until-empty: nothing in flight and nothing pending in the whole group."""
        if self.in_flight or self.acks:
            return False
        summary = await self.call("xpending", self.s.source.stream, self.s.source.group)
        return not summary.get("pending")

    async def run(self) -> None:
        spec = self.s.source
        await reachable(spec, self.redis, "--from")
        await self.ensure_group()
        pending = (await self.call("xpending", spec.stream, spec.group)).get("pending", 0)
        self.report(WorkerReady(spec.label, spec.group, self.s.consumer, self.s.target,
                                pending))
        acker = asyncio.ensure_future(self.acker())
        loop = asyncio.get_running_loop()
        claim_every = max(0.2, min(self.s.claim_after / 2, 10.0))
        next_claim = loop.time()
        try:
            start = "0"  # this consumer's own pending entries (an earlier run's) first
            while not self.stop.is_set():
                if not await self.room():
                    continue
                _, last = await self.read(start)
                if last == start:
                    break
                start = last
            while not self.stop.is_set():
                if loop.time() >= next_claim:
                    next_claim = loop.time() + claim_every
                    if await self.claim():
                        continue
                taken, _ = await self.read(">")
                if not taken and self.s.until_empty and await self.idle():
                    break
        except transient():
            if not self.stop.is_set():
                raise
        self.report(WorkerStopping(len(self.in_flight), len(self.acks)))
        if self.in_flight:
            await asyncio.wait(set(self.in_flight))
        self.finishing = True
        self.acked.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(acker), 10)
        acker.cancel()
        if self.acks:
            self.report(WorkerStopping(0, len(self.acks)))

    async def aclose(self) -> None:
        for task in self.in_flight:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.http.close()
        with contextlib.suppress(Exception):
            await self.redis.aclose()


async def work(settings: WorkerSettings, stop: asyncio.Event) -> AsyncIterator[WorkerValue]:
    """Run a worker until `stop` is set (then finish what is in flight) or, with
    `until_empty`, until the group has nothing left; yield what happens."""
    worker = _Worker(settings, stop)
    running = asyncio.ensure_future(worker.run())
    running.add_done_callback(lambda _: worker.values.put_nowait(None))
    try:
        while (value := await worker.values.get()) is not None:
            yield value
        while not worker.values.empty():
            if (value := worker.values.get_nowait()) is not None:
                yield value
        running.result()  # its error, if it failed
    finally:
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running
        await worker.aclose()
