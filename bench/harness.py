"""What the HTTP benches share: the fast target process, bare client loops, /proc readings.

Not a bench itself: bench/relay.py, trigger.py and stacks.py import it. trigger.py also runs
it as a subprocess, `python bench/harness.py loop KIND URL --count N --concurrency C
--secret S --sample FILE`: a bare client loop that signs and sends the same POSTs as
`ofevents trigger`, so both are timed and measured the same way (process start included).

Memory is each process's own peak, VmHWM in /proc/<pid>/status. Not getrusage(
RUSAGE_CHILDREN), whose ru_maxrss counts the size the child inherited at fork: a parent
holding 200 MB makes `/bin/true` report 210 MB there. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
# the children run as from a user's shell: a sandbox's PYTHONUNBUFFERED would make every line
# they print a write of its own, a cost no default install pays
os.environ.pop("PYTHONUNBUFFERED", None)
CLK_TCK = os.sysconf("SC_CLK_TCK")
Make = Callable[[int], tuple[list[tuple[str, str]], bytes]]  # request number -> headers, body
# the bare client loops; `aiohttp-uvloop` is bare aiohttp on uvloop, the loop ofevents' own
# hot commands run on (shells/event_loop.py), so no ratio owes anything to the loop alone
KINDS = ("httpx", "httpx-aiohttp", "aiohttp", "aiohttp-uvloop", "raw")
LABELS = {"httpx": "bare httpx", "httpx-aiohttp": "bare httpx + AiohttpTransport",
          "aiohttp": "bare aiohttp", "aiohttp-uvloop": "bare aiohttp on uvloop",
          "raw": "raw asyncio"}


# ---- processes: start, CPU, peak memory -------------------------------------------------


def compile_ofevents() -> None:
    """Write ofevents' .pyc files, as `pip install` does for a regular install: from an
    editable install under PYTHONDONTWRITEBYTECODE=1 every run would compile its sources again
    (~10 ms of each start), a cost no user pays twice."""
    import compileall

    import ofevents_cli

    compileall.compile_dir(Path(ofevents_cli.__file__).parent, quiet=1)


def ofevents_exe() -> str:
    """The `ofevents` console script of the running venv."""
    exe = Path(sys.executable).with_name("ofevents")
    if not exe.exists():
        sys.exit("ofevents is not installed in this environment (pip install -e '.[bench]')")
    return str(exe)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_mb(pid: int) -> float:
    """The process's own peak resident memory so far (VmHWM), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The pids of a process's children (none once it is gone)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class PeakWatch:
    """Polls a child's VmHWM (and its own children's: `worker_peak`, the largest) every few
    ms until it exits (a zombie has none to read)."""

    def __init__(self, pid: int, every: float = 0.005) -> None:
        self.pid = pid
        self.peak = 0.0
        self.worker_peak = 0.0
        self.cpu = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(every,), daemon=True)
        self._thread.start()

    def _poll(self, every: float) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, peak_mb(self.pid))
            self.worker_peak = max([self.worker_peak, *map(peak_mb, children(self.pid))])
            self.cpu = max(self.cpu, cpu_seconds(self.pid))
            self._done.wait(every)

    def stop(self) -> float:
        """Stop polling; the peak in MB."""
        self._done.set()
        self._thread.join()
        return self.peak


@dataclass(frozen=True)
class Ran:
    """One finished child: wall seconds, own peak memory (MB), CPU seconds (its own and its
    workers'), exit code, and the largest peak of its worker processes (MB; 0: none)."""

    seconds: float
    peak_mb: float
    cpu: float
    code: int
    worker_peak_mb: float = 0.0


def run_measured(argv: Sequence[str], **popen: object) -> Ran:
    """Run a child to its end, timing it and watching its own peak memory and CPU."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), **popen)  # type: ignore[call-overload]
    watch = PeakWatch(proc.pid)
    code = proc.wait()
    seconds = time.perf_counter() - start
    watch.stop()
    now = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and what it waited for
    cpu = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
    return Ran(seconds, watch.peak, cpu, code, watch.worker_peak)


@contextlib.contextmanager
def target() -> Iterator[tuple[str, int]]:
    """bench/target.py in its own process: yields (base URL, pid)."""
    proc = subprocess.Popen([sys.executable, str(BENCH / "target.py")], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


async def wait_up(url: str, seconds: float = 20) -> None:
    """Until something accepts connections at the URL's host and port."""
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    while True:
        try:
            _, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


# ---- figures -------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def rotated(items: Sequence[str], round_: int) -> list[str]:
    """`items` started at a different one each round: no path always runs right after
    another (a busy moment on a shared machine then spreads over all of them)."""
    shift = round_ % len(items)
    return [*items[shift:], *items[:shift]]


# ---- bare client loops -------------------------------------------------------------------


def one_kib(_: int) -> tuple[list[tuple[str, str]], bytes]:
    """The relay benches' delivery: a 1 KiB JSON body."""
    return [("content-type", "application/json")], BODY_1K


BODY_1K = b'{"type":"tip.received","data":{"pad":"' + b"x" * 983 + b'"}}'
assert len(BODY_1K) == 1024


def run_loop(kind: str, url: str, count: int, concurrency: int,
             make: Make = one_kib) -> list[float]:
    """`client_loop` on an event loop of its own: uvloop's for `aiohttp-uvloop`."""
    work = client_loop(kind, url, count, concurrency, make)
    if kind == "aiohttp-uvloop":
        import uvloop

        return uvloop.run(work)
    return asyncio.run(work)


async def client_loop(kind: str, url: str, count: int, concurrency: int,
                      make: Make = one_kib) -> list[float]:
    """POST `count` requests to `url`, `concurrency` at once, with a fixed pool of workers
    fed as they go; every answer must be 200. The latency of each request, in ms."""
    if kind == "raw":
        return await _raw_loop(url, count, concurrency, make)
    if kind in ("aiohttp", "aiohttp-uvloop"):
        return await _aiohttp_loop(url, count, concurrency, make)
    return await _httpx_loop(url, count, concurrency, make,
                             aiohttp_transport=kind == "httpx-aiohttp")


async def _pool(count: int, concurrency: int,
                one: Callable[[int], Awaitable[None]]) -> None:
    numbers = iter(range(count))  # shared by the workers: each takes the next number

    async def worker() -> None:
        for n in numbers:
            await one(n)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _httpx_loop(url: str, count: int, concurrency: int, make: Make,
                      aiohttp_transport: bool = False) -> list[float]:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if aiohttp_transport:
        from httpx_aiohttp import HttpxAiohttpClient

        client: httpx.AsyncClient = HttpxAiohttpClient(limits=limits, timeout=30)
    else:
        client = httpx.AsyncClient(limits=limits, timeout=30)
    latencies: list[float] = []

    async def one(n: int) -> None:
        headers, body = make(n)
        start = time.perf_counter()
        answer = await client.post(url, content=body, headers=headers)
        latencies.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.status_code

    async with client:
        await _pool(count, concurrency, one)
    return latencies


async def _aiohttp_loop(url: str, count: int, concurrency: int, make: Make) -> list[float]:
    import aiohttp

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(n: int) -> None:
            headers, body = make(n)
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
            latencies.append((time.perf_counter() - start) * 1000)
            assert answer.status == 200, answer.status

        await _pool(count, concurrency, one)
    return latencies


async def _raw_loop(url: str, count: int, concurrency: int, make: Make) -> list[float]:
    """HTTP/1.1 over asyncio streams, one keep-alive connection per worker: about the least
    CPU a Python client can spend per request."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = f"POST {path} HTTP/1.1\r\nhost: {parts.netloc}\r\n".encode()
    latencies: list[float] = []
    numbers = iter(range(count))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            for n in numbers:
                headers, body = make(n)
                lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
                start = time.perf_counter()
                writer.write(b"".join((head, lines.encode(),
                                       b"content-length: %d\r\n\r\n" % len(body), body)))
                answer = await reader.readuntil(b"\r\n\r\n")
                status = int(answer[9:12])
                lower = answer.lower()
                at = lower.find(b"\r\ncontent-length:")
                length = int(lower[at + 17:lower.find(b"\r\n", at + 2)]) if at >= 0 else 0
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - start) * 1000)
                assert status == 200, status
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


# ---- the trigger-like loop as a subprocess -----------------------------------------------


def signed_posts(sample: dict[str, object], secret: str) -> Make:
    """What `ofevents trigger` sends for an ofapi event, built as it goes: the sample payload
    with a fresh id and timestamp, compact JSON, HMAC-SHA256 in X-OFAPI-Signature."""
    key = secret.encode()
    counter = itertools.count()

    def make(_: int) -> tuple[list[tuple[str, str]], bytes]:
        payload = dict(sample, id=f"evt_{uuid.uuid4().hex[:26]}{next(counter)}",
                       timestamp=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        signature = hmac.new(key, body, hashlib.sha256).hexdigest()
        return [("content-type", "application/json"), ("user-agent", "bench/1"),
                ("x-ofapi-signature", f"sha256={signature}")], body

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description="one bare client loop (see the docstring)")
    parser.add_argument("command", choices=["loop"])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--sample", required=True, help="JSON file: the payload to re-stamp")
    args = parser.parse_args()
    sample = json.loads(Path(args.sample).read_text(encoding="utf-8"))
    run_loop(args.kind, args.url, args.count, args.concurrency, signed_posts(sample, args.secret))


if __name__ == "__main__":
    main()
