"""The Redis Streams sink: one stream entry per event or delivery, written once per id.

Items wait in one bounded backlog, in arrival order, and one writer stores them in batches:
a Lua script per batch does, for each item, `SET S:seen:<id> NX EX ttl` and, only when that
guard was not there yet, `XADD S MAXLEN ~ maxlen * field value …` (so a duplicate id is
written once, and the guard and the entry are one atomic step). When Redis is down the
backlog holds (a `SinkDown` line each retry, backoff up to 5 s); an item that does not fit is
reported `Dropped`, never lost silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from ofevents_cli.core.sink_urls import RedisSpec
from ofevents_cli.core.sinks import (
    Dropped,
    Item,
    Report,
    SinkDown,
    SinkUp,
    Stored,
    entry_fields,
)
from ofevents_cli.shells.redis_client import connect, problem, transient

__all__ = ["STORE", "RedisSink", "newest_event_id", "resume_point"]

BATCH = 500  # items per script call
BATCH_BYTES = 4 << 20  # and at most this many body bytes
FIRST_RETRY, MAX_RETRY = 0.1, 5.0
RESUME_EVERY = 1.0  # when idle, how soon a resume point that moved is recorded
HIGH_WATER = 0.8  # up and this full: the reader waits (the server holds the events) …
LOW_WATER = 0.5  # … until the backlog is down to this

# KEYS: the stream, the resume key, then one guard key per item. ARGV: maxlen, ttl, the
# resume point ("": none to record), then one string per item
# holding its fields and values, each as `<length>:<bytes>` (one argument per item instead of
# one per field: redis-py packs each argument separately, the slowest part of a write).
# Returns, per item, the new entry id, or "=" and the entry id of the earlier write of that
# id (a duplicate: nothing is written).
STORE = """
local stream, maxlen, ttl = KEYS[1], ARGV[1], ARGV[2]
local find, sub = string.find, string.sub
local out = {}
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3]) end
for i = 3, #KEYS do
  if redis.call('SET', KEYS[i], '', 'NX', 'EX', ttl) then
    local args = {'XADD', stream}
    if maxlen ~= '0' then
      args[3] = 'MAXLEN'; args[4] = '~'; args[5] = maxlen
    end
    args[#args + 1] = '*'
    local packed, pos = ARGV[i + 1], 1  -- the item of KEYS[i] is ARGV[i + 1]
    while pos <= #packed do
      local colon = find(packed, ':', pos, true)
      local n = tonumber(sub(packed, pos, colon - 1))
      args[#args + 1] = sub(packed, colon + 1, colon + n)
      pos = colon + n + 1
    end
    local id = redis.call(unpack(args))
    redis.call('SET', KEYS[i], id, 'KEEPTTL')
    out[#out + 1] = id
  else
    out[#out + 1] = '=' .. (redis.call('GET', KEYS[i]) or '')
  end
end
return out
"""


def packed(item: Item) -> bytes:
    """An item's entry fields as the script reads them: `<length>:<bytes>` each."""
    parts: list[bytes] = []
    for name, value in entry_fields(item):
        parts += (b"%d:%s" % (len(name), name.encode()), b"%d:" % len(value), value)
    return b"".join(parts)


class RedisSink:
    """Store items in a Redis stream in the background; `report` gets every outcome."""

    def __init__(self, spec: RedisSpec, report: Report, *, first_retry: float = FIRST_RETRY,
                 max_retry: float = MAX_RETRY,
                 resume: Callable[[], str | None] | None = None) -> None:
        """`resume`: where `listen` would resume now (the last event every route and sink
        finished); recorded in `S:resume` with each write, and after a second when idle."""
        self.spec = spec
        self.label = spec.label
        self.report = report
        self.first_retry, self.max_retry = first_retry, max_retry
        self.client: Any = connect(spec)
        self.script: Any = self.client.register_script(STORE)
        self.queue: deque[Item] = deque()
        self.writing = 0  # items of the batch being written (still at the queue's head)
        self.resume = resume
        self.recorded: str | None = None  # the resume point last written
        self.down = False
        self._drained = asyncio.Event()  # set when the backlog fell below LOW_WATER
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pressing(self) -> bool:
        """Up but this far behind: the stream should wait a moment rather than have items
        dropped (a sink that is down never holds the stream up)."""
        return not self.down and len(self.queue) >= self.spec.backlog * HIGH_WATER

    async def room(self) -> None:
        """Wait until the backlog is down to LOW_WATER, or the sink goes down."""
        while self.pressing and self._task is not None and not self._task.done():
            self._drained.clear()
            await self._drained.wait()

    def submit(self, item: Item) -> None:
        """Queue `item`; a full backlog reports it dropped (named, never silent)."""
        if len(self.queue) >= self.spec.backlog:
            self.report(Dropped(self.label, item.id, item.event, item.account,
                                f"backlog of {self.spec.backlog} full (Redis is not keeping up)"))
            return
        self.queue.append(item)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def _batch(self) -> list[Item]:
        batch: list[Item] = []
        size = 0
        for item in self.queue:
            if batch and (len(batch) >= BATCH or size + len(item.body) > BATCH_BYTES):
                break
            batch.append(item)
            size += len(item.body)
        return batch

    async def _write(self, batch: list[Item]) -> list[str]:
        point = self.resume() if self.resume is not None else None
        keys = [self.spec.stream, self.spec.resume_key,
                *(self.spec.guard(item.id) for item in batch)]
        args: list[Any] = [self.spec.maxlen, self.spec.ttl, point or "",
                           *(packed(item) for item in batch)]
        answer = await self.script(keys=keys, args=args)
        self.recorded = point or self.recorded
        if not isinstance(answer, list) or len(answer) != len(batch):
            raise ValueError("Redis answered the write with something unexpected")
        return [x.decode() if isinstance(x, bytes) else str(x) for x in answer]

    async def _run(self) -> None:
        import redis

        delay = self.first_retry
        failures: tuple[type[BaseException], ...] = (*transient(), redis.RedisError, ValueError)
        while True:
            if not self.queue:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), RESUME_EVERY)
                if not self.queue:
                    await self._record_resume()
                continue
            batch = self._batch()
            self.writing = len(batch)
            try:
                entries = await self._write(batch)
            except failures as exc:
                self.writing = 0
                self.down = True
                self._drained.set()  # a sink that is down holds nobody up
                self.report(SinkDown(self.label, problem(exc), len(self.queue), delay))
                await asyncio.sleep(delay)
                delay = min(self.max_retry, delay * 2)
                continue
            self.writing = 0
            if self.down:
                self.down, delay = False, self.first_retry
                self.report(SinkUp(self.label, len(self.queue)))
            for item, entry in zip(batch, entries, strict=True):
                self.queue.popleft()
                duplicate = entry.startswith("=")
                self.report(Stored(self.label, item.id, item.event, item.account,
                                   entry[1:] if duplicate else entry, duplicate))
            if len(self.queue) < self.spec.backlog * LOW_WATER:
                self._drained.set()

    async def _record_resume(self) -> None:
        """Idle: record a resume point that moved since the last write (best effort: the
        next write records it anyway)."""
        point = self.resume() if self.resume is not None else None
        if point is None or point == self.recorded:
            return
        with contextlib.suppress(Exception):
            await self.client.set(self.spec.resume_key, point)
            self.recorded = point

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s) until every queued item is stored."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.queue and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if not self.queue:
            await self._record_resume()

    async def aclose(self) -> None:
        """Stop writing; every item not confirmed stored is reported dropped (by id)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self.queue:
            item = self.queue.popleft()
            self.report(Dropped(self.label, item.id, item.event, item.account,
                                "not confirmed stored when the command ended"))
        with contextlib.suppress(Exception):
            await self.client.aclose()


async def resume_point(spec: RedisSpec, client: Any) -> str | None:
    """Where `listen --resume auto` resumes: the point a listener recorded in `S:resume` (the
    last event every route and sink had finished), else the newest event in the stream."""
    recorded = await client.get(spec.resume_key)
    if recorded:
        return str(recorded.decode("utf-8", "replace"))
    return await newest_event_id(spec, client)


async def newest_event_id(spec: RedisSpec, client: Any, page: int = 100,
                          limit: int = 10_000) -> str | None:
    """The `id` of the newest event entry in the stream (XREVRANGE, newest first; entries of
    deliveries are skipped), None when the stream holds none within `limit` entries."""
    end = "+"
    seen = 0
    while seen < limit:
        entries = await client.xrevrange(spec.stream, max=end, min="-", count=page)
        for _, fields in entries:
            if fields.get(b"kind", b"event") == b"event" and fields.get(b"id"):
                return str(fields[b"id"].decode("utf-8", "replace"))
        if len(entries) < page:
            return None
        seen += len(entries)
        end = "(" + entries[-1][0].decode()
    return None
