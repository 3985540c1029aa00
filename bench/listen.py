"""Benchmark `ofevents listen`: throughput against a bare websockets client, and latency.

Run: `python bench/listen.py [--rounds 5]`. The emulator runs in this process and holds
50,000 events of its realistic, seeded traffic mix (mostly chat and typing); each reader (a
bare `websockets` client that decodes every frame with `json.loads`, and `ofevents listen
--json > /dev/null`, which also checks each frame, turns it into an event value and writes it
back out as a line) starts as a subprocess, resumes from before the first event and reads all
of them, alternating, `--rounds` times each; the medians are printed. Time runs from the
reader's hello to its exit (so `listen`'s exit, after the close handshake, counts too).
Then `ofevents listen --json` tails events emitted at 1,000 per second, and the time from
emit to its stdout line gives p50/p99. The machine may be shared: the ratio within one run
is what counts. Goal (issue 10): >= 0.7x the bare client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from harness import compile_ofevents

from ofevents_cli.shells.emulator import EmulatorSettings, running

KEY, TOKEN = "bench-key", "bench-token"
EVENTS = 50_000
LATENCY_EVENTS = 3_000
RATE = 1_000

BARE = """
import asyncio, json, sys
from websockets.asyncio.client import connect
async def main(url, key, token, resume, n):
    async with connect(url, max_size=1 << 20, compression=None) as ws:
        await ws.send(json.dumps({"op": "hello", "apiKey": key, "wsToken": token,
                                  "resume": resume}))
        got = 0
        async for raw in ws:
            if json.loads(raw)["op"] == "event":
                got += 1
                if got == n:
                    return
asyncio.run(main(*sys.argv[1:5], int(sys.argv[5])))
"""


def ofevents() -> str:
    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable)) or shutil.which("ofevents")
    if not exe:
        sys.exit("ofevents is not installed in this environment (pip install -e .)")
    return exe


async def timed(app: object, argv: list[str]) -> float:
    """Seconds from the reader's hello (seen by the emulator) to its exit."""
    before = app.sessions  # type: ignore[attr-defined]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
    while app.sessions == before:  # type: ignore[attr-defined]
        await asyncio.sleep(0.0005)
    start = time.perf_counter()
    code = await proc.wait()
    if code != 0:
        sys.exit(f"{argv[0]} exited {code}")
    return time.perf_counter() - start


async def throughput(rounds: int) -> tuple[float, float]:
    """Median seconds of the bare client and of `listen --json`, alternating, `rounds` each."""
    settings = EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN, seed=1,
                                buffer=EVENTS + 1)
    bare: list[float] = []
    ours: list[float] = []
    async with running(settings) as served:
        marker = served.app.emit({"event": "typing"})[0]
        for _ in range(EVENTS):  # the emulator's own realistic mix, seeded
            event, account, data = served.app.traffic.next("2026-11-22T10:30:00.000Z")
            served.app.bus.publish(event, account, data, "2026-11-22T10:30:00.000Z")
        for round_ in range(rounds):
            runs = [(bare, [sys.executable, "-c", BARE, served.url, KEY, TOKEN, marker,
                            str(EVENTS)]),
                    (ours, [ofevents(), "listen", "--url", served.url, "--api-key", KEY,
                            "--ws-token", TOKEN, "--json", "--resume", marker,
                            "--max-events", str(EVENTS)])]
            for times, argv in runs[round_ % 2:] + runs[:round_ % 2]:
                times.append(await timed(served.app, argv))
    return statistics.median(bare), statistics.median(ours)


async def latency() -> list[float]:
    settings = EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN)
    async with running(settings) as served:
        proc = await asyncio.create_subprocess_exec(
            ofevents(), "listen", "--url", served.url, "--api-key", KEY, "--ws-token", TOKEN,
            "--json", "--max-events", str(LATENCY_EVENTS), stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        while served.app.sessions == 0:
            await asyncio.sleep(0.001)
        sent: dict[str, float] = {}
        received: dict[str, float] = {}

        async def read() -> None:
            assert proc.stdout is not None
            async for line in proc.stdout:
                received[json.loads(line)["_id"]] = time.perf_counter()

        reader = asyncio.ensure_future(read())
        start = time.perf_counter()
        for n in range(LATENCY_EVENTS):
            delay = start + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            event_id = served.app.emit({"event": "tip"})[0]
            sent[event_id] = time.perf_counter()
        await asyncio.wait_for(reader, 30)
        await proc.wait()
    return sorted((received[i] - t) * 1000 for i, t in sent.items() if i in received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    compile_ofevents()
    bare, ours = asyncio.run(throughput(rounds))
    print(f"throughput, {EVENTS:,} events replayed from the emulator, medians of {rounds} "
          "alternating rounds:")
    print(f"  bare websockets client  {bare:6.2f} s  {EVENTS / bare:9,.0f} events/s")
    print(f"  ofevents listen --json  {ours:6.2f} s  {EVENTS / ours:9,.0f} events/s")
    print(f"  ratio ofevents/bare     {bare / ours:6.2f}x  (target >= 0.70x)")
    ms = asyncio.run(latency())
    p50 = statistics.median(ms)
    p99 = ms[int(len(ms) * 0.99) - 1]
    print(f"latency, {len(ms):,} events at {RATE:,}/s, emit -> stdout line:")
    print(f"  p50 {p50:.2f} ms   p99 {p99:.2f} ms   (target p99 < 10 ms)")


if __name__ == "__main__":
    main()
