"""Benchmark: deliveries through `ofevents forward --tunnel none` vs straight to the target.

Runs a small target (uvicorn, raw ASGI) and the installed `ofevents forward` as separate
processes, sends N deliveries (1 KiB bodies, C at a time) to each with httpx in the same run,
and prints the throughput ratio and the latency the relay adds (p50, p99).
Targets: ratio >= 0.5x, added p50 <= 1 ms.   Usage: python bench/relay.py [--n 5000] [--c 20]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

# the same client-side fix the relay applies (encode/httpcore#1103): without sniffio installed,
# httpcore retries a failed import per request, and the client would be the bottleneck
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

TARGET_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
"""


def start_target(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """The target: uvicorn serving a raw ASGI app that reads the body and answers 200."""
    (workdir / "bench_target.py").write_text(TARGET_APP, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_target:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_forward(target: str, capture: Path) -> tuple[subprocess.Popen[str], str]:
    """`ofevents forward --tunnel none --json`; returns the process and its local URL."""
    command = str(Path(sys.executable).with_name("ofevents"))
    proc = subprocess.Popen([command, "forward", "--tunnel", "none", "--json", "--to", target,
                             "--capture", str(capture)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    # keep reading its delivery lines: a full pipe would stall the relay
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, str(ready["local_url"])


async def wait_up(url: str) -> None:
    """Poll until the URL answers."""
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def run(url: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    """Send n deliveries, `concurrency` at a time; (seconds, per-request latencies in ms)."""
    body = b'{"type":"tip.received","data":{"pad":"' + b"x" * 990 + b'"}}'
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                start = time.perf_counter()
                answer = await client.post(f"{url}/webhooks", content=body,
                                           headers={"content-type": "application/json"})
                latencies.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, answer.status_code

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100)."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--c", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = 18000 + os.getpid() % 1000
        target = f"http://127.0.0.1:{port}"
        target_proc = start_target(workdir, port)
        forward_proc = None
        try:
            asyncio.run(wait_up(target))
            forward_proc, relay = start_forward(target, workdir / "capture.jsonl")
            asyncio.run(run(target, 200, args.c))  # warm both paths
            asyncio.run(run(relay, 200, args.c))
            direct_s, direct = asyncio.run(run(target, args.n, args.c))
            relay_s, relayed = asyncio.run(run(relay, args.n, args.c))
            _, direct_one = asyncio.run(run(target, args.n // 10, 1))
            _, relayed_one = asyncio.run(run(relay, args.n // 10, 1))
        finally:
            for proc in (forward_proc, target_proc):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
        lines = sum(1 for _ in (workdir / "capture.jsonl").open(encoding="utf-8"))
    ratio = (args.n / relay_s) / (args.n / direct_s)
    print(f"deliveries: {args.n} x 1 KiB, concurrency {args.c}")
    print(f"direct : {args.n / direct_s:8.0f} req/s  p50 {pct(direct, 50):6.2f} ms  "
          f"p99 {pct(direct, 99):6.2f} ms")
    print(f"relayed: {args.n / relay_s:8.0f} req/s  p50 {pct(relayed, 50):6.2f} ms  "
          f"p99 {pct(relayed, 99):6.2f} ms  ({lines} capture lines incl. warm-up)")
    print(f"throughput ratio: {ratio:.2f}x (target >= 0.5x)")
    print(f"added latency at concurrency {args.c} (includes queueing): "
          f"p50 {pct(relayed, 50) - pct(direct, 50):+.2f} ms, "
          f"p99 {pct(relayed, 99) - pct(direct, 99):+.2f} ms")
    print(f"added latency per delivery, one at a time ({args.n // 10} each): "
          f"p50 {pct(relayed_one, 50) - pct(direct_one, 50):+.2f} ms (target <= 1 ms), "
          f"p99 {pct(relayed_one, 99) - pct(direct_one, 99):+.2f} ms "
          f"(direct p50 {pct(direct_one, 50):.2f} ms)")


if __name__ == "__main__":
    main()
