"""Benchmark `ofevents trigger --count N --concurrency C` against bare client loops sending the
same signed POSTs, all to a target faster than any of them, in one run.

Run: `python bench/trigger.py [--count 10000] [--concurrency 1,20,50] [--rounds 3]`
(venv with `pip install -e '.[bench]'`).

The target is bench/target.py (raw asyncio HTTP/1.1, 200 with keep-alive) in its own process.
Each round, per concurrency, in an order rotated per round, runs as a subprocess:
  - `ofevents trigger tip.received --provider ofapi --count N --concurrency C --json` (stdout
    to /dev/null; --json, the scripting mode, prints no progress bar);
  - `python bench/harness.py loop KIND …` for KIND = httpx, httpx + AiohttpTransport, aiohttp
    and raw asyncio: the same work (the sample payload re-stamped with a fresh id and
    timestamp, compact JSON, HMAC-SHA256 in X-OFAPI-Signature) with a fixed pool of C workers.
Each is timed from spawn to exit (start-up included alike) with its own peak memory (VmHWM,
polled from /proc while it runs) and CPU. It prints the medians over the rounds and trigger's
rate as a ratio of each loop and of the fastest bare client. The baseline (issue 10): the
fastest *HTTP client library* a user could pick for the same script (httpx, httpx +
AiohttpTransport or aiohttp; in practice aiohttp); the raw asyncio loop (pre-built bytes, no
HTTP client) is printed for information, not as the goal's baseline. Goal: >= 0.8x the
fastest bare client at concurrency 50; memory flat in N.

Fairness on this 2-core machine: the sender and the target are one process each, so each can
have a core; the target spends tens of microseconds of CPU per request (printed), so it is not
what limits any of them. On a shared machine the req/s move from run to run; the ratios within
one run are what count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import harness

SECRET = "bench-ofapi-signing-secret"
TRIGGER = "trigger"
RUNNERS = (TRIGGER, *harness.KINDS)
CLIENTS = ("httpx", "httpx-aiohttp", "aiohttp", "aiohttp-uvloop")  # what a user could pick


def command(runner: str, url: str, count: int, concurrency: int, sample: Path) -> list[str]:
    """The subprocess for one runner."""
    if runner == TRIGGER:
        return [harness.ofevents_exe(), "trigger", "tip.received", "--provider", "ofapi",
                "--to", url, "--secret", SECRET, "--count", str(count), "--concurrency",
                str(concurrency), "--json"]
    return [sys.executable, str(harness.BENCH / "harness.py"), "loop", runner, url,
            "--count", str(count), "--concurrency", str(concurrency), "--secret", SECRET,
            "--sample", str(sample)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", default="1,20,50", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    harness.compile_ofevents()
    rates: dict[tuple[int, str], list[float]] = defaultdict(list)
    peaks: dict[tuple[int, str], list[float]] = defaultdict(list)
    cpus: dict[tuple[int, str], list[float]] = defaultdict(list)
    target_cpu = 0.0
    sent = 0
    with tempfile.TemporaryDirectory() as tmp, harness.target() as (base, target_pid):
        url = f"{base}/webhooks"
        sample = Path(tmp) / "sample.json"
        shown = subprocess.run([harness.ofevents_exe(), "events", "show", "tip.received",
                                "--provider", "ofapi", "--raw"], capture_output=True, check=True)
        sample.write_bytes(shown.stdout)
        for runner in RUNNERS:  # warm: page cache, .pyc files, the target's connections
            harness.run_measured(command(runner, url, 200, 20, sample),
                                 stdout=subprocess.DEVNULL)
        for round_ in range(args.rounds):
            for concurrency in levels:
                for runner in harness.rotated(RUNNERS, round_):
                    before = harness.cpu_seconds(target_pid)
                    ran = harness.run_measured(command(runner, url, args.count, concurrency,
                                                       sample), stdout=subprocess.DEVNULL)
                    if ran.code != 0:
                        sys.exit(f"{runner} exited {ran.code}")
                    target_cpu += harness.cpu_seconds(target_pid) - before
                    sent += args.count
                    rates[concurrency, runner].append(args.count / ran.seconds)
                    peaks[concurrency, runner].append(ran.peak_mb)
                    cpus[concurrency, runner].append(ran.cpu / args.count * 1e6)
        small = harness.run_measured(command(TRIGGER, url, args.count // 5, levels[-1], sample),
                                     stdout=subprocess.DEVNULL)

    def m(table: dict[tuple[int, str], list[float]], c: int, runner: str) -> float:
        return harness.median(table[c, runner])

    print(f"trigger bench: {args.count:,} signed POSTs per runner, medians of {args.rounds} "
          "alternating rounds, each a subprocess timed from spawn to exit")
    print(f"target: bench/target.py, own process: {target_cpu / sent * 1e6:.0f} us CPU per "
          f"request = {sent / target_cpu:,.0f} req/s per core" if target_cpu else
          "target: CPU too small to read")
    for c in levels:
        ours = m(rates, c, TRIGGER)
        print(f"concurrency {c}:{'req/s':>36} {'us CPU/req':>11} {'peak MB':>8}  trigger / this")
        for runner in RUNNERS:
            label = (f"ofevents trigger --concurrency {c}" if runner == TRIGGER
                     else harness.LABELS[runner] + (" loop" if runner in CLIENTS
                                                    else " (information)"))
            share = "" if runner == TRIGGER else f"  {ours / m(rates, c, runner):9.2f}x"
            print(f"  {label:<41}{m(rates, c, runner):8,.0f} {m(cpus, c, runner):11,.0f} "
                  f"{m(peaks, c, runner):8.0f}{share}")
        fastest = max(CLIENTS, key=lambda k: m(rates, c, k))
        print(f"  trigger / fastest bare client ({harness.LABELS[fastest]}): "
              f"{ours / m(rates, c, fastest):.2f}x" + (" (goal >= 0.8x)" if c == 50 else ""))
    print(f"trigger's own peak memory at concurrency {levels[-1]}: {small.peak_mb:.0f} MB at "
          f"{args.count // 5:,} deliveries, {m(peaks, levels[-1], TRIGGER):.0f} MB at "
          f"{args.count:,} (flat = a bounded pool)")


if __name__ == "__main__":
    main()
