"""Prototype relays and client loops: which HTTP stack for the relay, `trigger --count` and
`listen --forward-to`, measured side by side in one run against a fast target.

Run: `python bench/stacks.py [--n 2000] [--rounds 5]` (venv with `pip install -e '.[bench]'`).

Part 1, relays. Each stack below is a minimal relay (read the whole request, send it on with
its method, path, query and end-to-end headers, answer with the target's status and body; no
capture, no checks) in its own process, started as `python bench/stacks.py serve STACK URL`:
  uvicorn(h11)+httpx           today's stack: uvicorn's default parser, httpx's transport
  uvicorn(httptools)+httpx     the faster parser, same client
  uvicorn(httptools)+httpx/aio httpx's API over httpx-aiohttp's AiohttpTransport
  uvicorn(h11)+aiohttp         uvicorn's default parser, aiohttp's client
  uvicorn(httptools)+aiohttp   aiohttp's client directly
  aiohttp+aiohttp              aiohttp's server and client
and, for reference, `ofevents forward --tunnel none` itself (uvicorn h11 + httpx, plus capture,
signature checks and the terminal view). Each round, at concurrency 1 and then 20, in an order
rotated per round, the raw asyncio loop (bench/harness.py) sends N x 1 KiB POSTs straight to
bench/target.py (the direct path) and through each relay. Printed: medians of req/s, ratio to
the direct path, p50 latency added to the direct path's, and the relay's CPU per request.

Part 2, client loops like `trigger --count`/`--forward-to`: httpx, httpx + AiohttpTransport,
aiohttp and raw asyncio, each alone in this process, N POSTs at concurrency 1, 20 and 50 to
the target: req/s and this process's CPU per request.

Fairness on 2 cores: as in bench/relay.py, the relayed paths keep three processes busy (driver,
relay, target) and the direct path two; driver and target are raw asyncio, tens of
microseconds of CPU per request, so the relay's own cost decides. CPU per request does not
depend on the core count. On a shared machine the req/s move from run to run; the ratios
within one run are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import harness

STACKS = ("uvicorn(h11)+httpx", "uvicorn(httptools)+httpx", "uvicorn(httptools)+httpx/aio",
          "uvicorn(h11)+aiohttp", "uvicorn(httptools)+aiohttp", "aiohttp+aiohttp")
FORWARD = "ofevents forward"
DIRECT = "direct"
HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
              "trailer", "upgrade", "proxy-authorization", "proxy-connection"}
Upstream = Callable[[str, str, list[tuple[str, str]], bytes],
                    Awaitable[tuple[int, bytes, str]]]


# ---- the prototype relays (run with `serve`) ---------------------------------------------


def upstream(client: str, target: str) -> tuple[Upstream, Callable[[], Awaitable[None]]]:
    """send(method, path, headers, body) -> (status, body, content-type), and a closer."""
    if client == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200),
                                        auto_decompress=False)

        async def send_aiohttp(method: str, path: str, headers: list[tuple[str, str]],
                               body: bytes) -> tuple[int, bytes, str]:
            async with session.request(method, target + path, headers=headers, data=body,
                                       allow_redirects=False) as answer:
                return (answer.status, await answer.read(),
                        answer.headers.get("content-type", ""))

        return send_aiohttp, session.close

    import httpx

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    if client == "httpx/aio":
        from httpx_aiohttp import HttpxAiohttpClient

        http: httpx.AsyncClient = HttpxAiohttpClient(limits=limits, timeout=None,
                                                     trust_env=False)
    else:
        http = httpx.AsyncClient(limits=limits, timeout=None, trust_env=False)

    async def send_httpx(method: str, path: str, headers: list[tuple[str, str]],
                         body: bytes) -> tuple[int, bytes, str]:
        answer = await http.request(method, target + path, headers=headers, content=body)
        return answer.status_code, answer.content, answer.headers.get("content-type", "")

    return send_httpx, http.aclose


def bound() -> socket.socket:
    """A listening-ready socket on 127.0.0.1, any free port (IPPROTO_TCP: asyncio then sets
    TCP_NODELAY on accepted sockets)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_uvicorn(parser: str, send: Upstream, sock: socket.socket) -> None:
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, reply: Any) -> None:
        if scope["type"] != "http":
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1") not in HOP_BY_HOP]
        query = scope["query_string"].decode("latin-1")
        path = scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        status, body, kind = await send(scope["method"], path, headers, b"".join(chunks))
        await reply({"type": "http.response.start", "status": status,
                     "headers": [(b"content-type", kind.encode("latin-1")),
                                 (b"content-length", str(len(body)).encode())]})
        await reply({"type": "http.response.body", "body": body})

    config = uvicorn.Config(app, http=parser, lifespan="off", log_config=None,
                            access_log=False, server_header=False, date_header=False,
                            ws="none")
    await uvicorn.Server(config).serve(sockets=[sock])


async def serve_aiohttp(send: Upstream, sock: socket.socket) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        status, body, kind = await send(request.method, request.raw_path, headers,
                                        await request.read())
        return web.Response(status=status, body=body, headers={"content-type": kind})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await asyncio.Event().wait()


async def serve(stack: str, target: str) -> None:
    """Run one prototype relay until killed; prints `port N` first."""
    server, client = stack.split("+", 1)
    send, close = upstream(client, target)
    sock = bound()
    print(f"port {sock.getsockname()[1]}", flush=True)
    try:
        if server == "aiohttp":
            await serve_aiohttp(send, sock)
        else:
            await serve_uvicorn(server.removeprefix("uvicorn(").rstrip(")"), send, sock)
    finally:
        await close()


# ---- the measuring side ------------------------------------------------------------------


def start(stack: str, target: str, capture: Path) -> tuple[subprocess.Popen[str], str]:
    """One relay process; (process, base URL)."""
    if stack == FORWARD:
        argv = [harness.ofevents_exe(), "forward", "--tunnel", "none", "--json", "--to",
                target, "--capture", str(capture)]
    else:
        argv = [sys.executable, __file__, "serve", stack, target]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # never a full pipe
    if stack == FORWARD:
        return proc, str(json.loads(first)["local_url"])
    return proc, f"http://127.0.0.1:{int(first.split()[1])}"


def relays(n: int, rounds: int) -> None:
    """Part 1."""
    paths = (DIRECT, *STACKS, FORWARD)
    rates: dict[tuple[int, str], list[float]] = defaultdict(list)
    p50s: dict[tuple[int, str], list[float]] = defaultdict(list)
    cpu: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp, harness.target() as (target, _):
        procs: dict[str, subprocess.Popen[str]] = {}
        urls = {DIRECT: target}
        try:
            for stack in (*STACKS, FORWARD):
                procs[stack], urls[stack] = start(stack, target, Path(tmp) / "capture.jsonl")
            for path in paths:
                asyncio.run(harness.wait_up(urls[path]))
                asyncio.run(harness.client_loop("raw", urls[path] + "/webhooks", 200, 20))
            for round_ in range(rounds):
                for c in (1, 20):
                    for path in harness.rotated(paths, round_):
                        pid = procs[path].pid if path in procs else None
                        before = harness.cpu_seconds(pid) if pid else 0.0
                        began = time.perf_counter()
                        latencies = asyncio.run(harness.client_loop(
                            "raw", urls[path] + "/webhooks", n, c))
                        rates[c, path].append(n / (time.perf_counter() - began))
                        p50s[c, path].append(harness.pct(latencies, 50))
                        if pid:
                            cpu[path] += harness.cpu_seconds(pid) - before
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(30)
    print(f"relays: {n:,} x 1 KiB POSTs per path, raw asyncio driver, medians of {rounds} "
          "alternating rounds")
    for c in (1, 20):
        direct, direct_p50 = harness.median(rates[c, DIRECT]), harness.median(p50s[c, DIRECT])
        print(f"concurrency {c}:{'req/s':>29} {'x direct':>9} {'added p50 ms':>13}")
        print(f"  {'direct (raw asyncio -> target)':<34}{direct:8,.0f} {'1.00x':>9} "
              f"{'':>13}  p50 {direct_p50:.2f} ms")
        for path in (*STACKS, FORWARD):
            rate = harness.median(rates[c, path])
            added = harness.median(p50s[c, path]) - direct_p50
            print(f"  {path:<34}{rate:8,.0f} {rate / direct:8.2f}x {added:+13.2f}")
    per = 2 * n * rounds
    print("relay CPU per request (ms, both concurrencies): " + ", ".join(
        f"{path} {cpu[path] / per * 1000:.2f}" for path in (*STACKS, FORWARD)))


def clients(n: int, rounds: int) -> None:
    """Part 2."""
    rates: dict[tuple[int, str], list[float]] = defaultdict(list)
    cpus: dict[tuple[int, str], list[float]] = defaultdict(list)
    levels = (1, 20, 50)
    with harness.target() as (target, _):
        url = target + "/webhooks"
        asyncio.run(harness.wait_up(url))
        for kind in harness.KINDS:
            harness.run_loop(kind, url, 200, 20)
        for round_ in range(rounds):
            for c in levels:
                for kind in harness.rotated(harness.KINDS, round_):
                    began, cpu = time.perf_counter(), time.process_time()
                    harness.run_loop(kind, url, n, c)
                    rates[c, kind].append(n / (time.perf_counter() - began))
                    cpus[c, kind].append((time.process_time() - cpu) / n * 1e6)
    print(f"client loops: {n:,} x 1 KiB POSTs each, alone in this process, medians of {rounds} "
          "rounds")
    print(f"  {'':<32}" + "".join(f"{f'c={c} req/s':>13}{'us CPU':>8}" for c in levels))
    for kind in harness.KINDS:
        print(f"  {harness.LABELS[kind]:<32}" + "".join(
            f"{harness.median(rates[c, kind]):13,.0f}{harness.median(cpus[c, kind]):8,.0f}"
            for c in levels))


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        asyncio.run(serve(sys.argv[2], sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="POSTs per path and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    harness.compile_ofevents()
    relays(args.n, args.rounds)
    clients(args.n, args.rounds)


if __name__ == "__main__":
    main()
