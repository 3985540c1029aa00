"""Benchmark the history: peak memory and time over 200,000 captured deliveries.

Run: `python bench/history.py [--deliveries N] [--sessions S]` (from a venv with `.[test]`).
Writes N signed deliveries (about 600 bytes of body each, the size of a provider's envelope)
spread over S session files of a temporary history directory, then runs, each in its own
process, `ofevents history --json > /dev/null` (everything, newest first), `history --grep`
(a full scan that matches one record), `history --last 10`, `history show ID` of the oldest,
and `replay --since` of the whole history against a loopback target that answers 200 at once.
Each child prints its own peak resident memory (VmHWM from /proc/self/status) when it ends.
The same runs over a tenth of the deliveries show that the peak stays flat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ofevents_cli.core.capture import (
    Capture,
    CaptureResponse,
    CaptureVerification,
    format_timestamp,
)
from ofevents_cli.core.signing import sign

SECRET = "bench-secret"
CHILD = r'''
import atexit, sys
def peak():
    with open("/proc/self/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    print(f"PEAK {kb}", file=sys.stderr)
atexit.register(peak)
sys.argv = ["ofevents", *sys.argv[1:]]
from ofevents_cli.cli.app import main
main()
'''


def build(home: Path, count: int, sessions: int) -> tuple[str, float]:
    """Write the history; return the oldest delivery's id and the first moment."""
    start = time.time() - count * 0.01 - 60
    per = -(-count // sessions)
    oldest = ""
    for session in range(sessions):
        path = home / f"forward-{session:04d}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for n in range(session * per, min(count, (session + 1) * per)):
                at = start + n * 0.01
                body = (b'{"id":"evt_%d","type":"tip.received","creatorId":"crt_%d",'
                        b'"timestamp":"%s","data":{"fanId":562630475,"amount":25.0,'
                        b'"message":"%s"}}' % (n, n % 50, format_timestamp(at).encode(),
                                               b"for the new set " * 30))
                headers = (("content-type", "application/json"), *sign(
                    "ofapi", SECRET, body, msg_id="m", timestamp=int(at)))
                record = Capture(f"dlv_{n:09d}", format_timestamp(at), "POST", "/webhooks",
                                 headers, body, response=CaptureResponse(200, 1.2),
                                 verification=CaptureVerification("ofapi", True, None))
                out.write(record.to_json() + "\n")
                oldest = oldest or record.id
        last = start + (min(count, (session + 1) * per) - 1) * 0.01
        os.utime(path, (last, last))
    return oldest, start


def run(args: list[str], home: Path) -> tuple[float, int]:
    """Seconds and peak KiB of one `ofevents ARGS` in its own process, stdout discarded."""
    env = {**os.environ, "OFEVENTS_HISTORY_DIR": str(home), "NO_COLOR": "1"}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=3600)
    took = time.perf_counter() - began
    peaks = [int(line.split()[1]) for line in done.stderr.splitlines()
             if line.startswith("PEAK ")]
    if done.returncode not in (0, 1) or not peaks:
        raise SystemExit(f"ofevents {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return took, peaks[-1]


def measure(count: int, sessions: int, target: str) -> dict[str, tuple[float, int]]:
    """The runs over one history of `count` deliveries."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        oldest, _ = build(home, count, sessions)
        size = sum(p.stat().st_size for p in home.iterdir())
        print(f"{count:,} deliveries in {sessions} files, {size / 1e6:.0f} MB", flush=True)
        return {
            "history --json": run(["history", "--json"], home),
            "history --grep": run(["history", "--grep", '"evt_7"'], home),
            "history --last 10": run(["history", "--last", "10"], home),
            "history show OLDEST": run(["history", "show", oldest, "-s", SECRET], home),
            "replay --since": run(["replay", "--to", target, "--since", "30d", "--json"], home),
        }


@contextlib.contextmanager
def answering() -> Iterator[str]:
    """A loopback HTTP/1.1 server answering every request 200 at once, in one write (keep-alive);
    its URL. The replay is timed against ofevents, not against a slow target."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(serve, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def main() -> None:
    """Measure at N and N/10 deliveries; print time and peak memory side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200_000)
    parser.add_argument("--sessions", type=int, default=40)
    options = parser.parse_args()
    with answering() as target:
        small = measure(options.deliveries // 10, options.sessions, target)
        large = measure(options.deliveries, options.sessions, target)
    print(f"\n{'command':<22} {'N/10: s':>9} {'peak MiB':>9} {'N: s':>9} {'peak MiB':>9}")
    for name, (s_time, s_peak) in small.items():
        l_time, l_peak = large[name]
        print(f"{name:<22} {s_time:>9.1f} {s_peak / 1024:>9.1f} {l_time:>9.1f} "
              f"{l_peak / 1024:>9.1f}")


if __name__ == "__main__":
    main()
