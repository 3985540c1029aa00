"""Benchmark `ofevents verify` against a bare HMAC loop and the svix/standardwebhooks verifiers.

Run: `python bench/verify.py [--deliveries N]` (from a venv with `.[test]` installed).
Builds a capture mixing every scheme, then times, in the same run:
  - `ofevents verify FILE --json > /dev/null` and `ofevents verify FILE > /dev/null` (subprocess;
    one worker process per core, the default), and `--json --jobs 1` (one process)
  - a bare loop (subprocess): read each line, json.loads, one HMAC-SHA256, compare
  - per Svix delivery, in process: ofevents' core `verify` vs `svix` and `standardwebhooks`
each timing the best of 5 in rounds that alternate the contenders (the machine may be
shared), and prints the ratios of wall time and the CPU each spends per delivery (the
workers' included: what using every core costs), plus `ofevents verify`'s own peak memory
(VmHWM, polled from /proc while it runs; not getrusage's children figure, which counts what
the child inherited from this process) at two file sizes (streaming: it should stay flat),
and its largest worker's.
Goals (issue 10): verify --json within 2x of the bare loop; faster than both libraries.
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import Ran, compile_ofevents, run_measured
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.signing import sign, verify
from ofevents_cli.shells.chunks import cores

SECRET = "whsec_" + base64.b64encode(b"benchmark-signing-key-32-bytes!!").decode()
SCHEMES = ("svix", "standard-webhooks", "ofauth-signature", "ofapi", "onlyfansapi")

BARE_LOOP = r'''
import base64, hashlib, hmac, json, sys
key_svix = base64.b64decode(sys.argv[2].removeprefix("whsec_"))
key_text = sys.argv[2].encode()
ok = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        rec = json.loads(line)
        h = {k.lower(): v for k, v in rec["headers"]}
        body = rec["body"].encode()
        if "svix-signature" in h or "webhook-signature" in h:
            p = "svix-" if "svix-signature" in h else "webhook-"
            msg = f"{h[p + 'id']}.{h[p + 'timestamp']}.".encode() + body
            sig = base64.b64encode(hmac.new(key_svix, msg, hashlib.sha256).digest()).decode()
            ok += hmac.compare_digest(sig, h[p + "signature"][3:])
        elif "ofauth-signature" in h:
            t, v = (x.split("=", 1)[1] for x in h["ofauth-signature"].split(","))
            sig = hmac.new(key_text, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            ok += hmac.compare_digest(sig, v)
        else:
            given = h.get("x-ofapi-signature", h.get("signature", "")).removeprefix("sha256=")
            ok += hmac.compare_digest(hmac.new(key_text, body, hashlib.sha256).hexdigest(), given)
print(ok)
'''


def build(path: Path, count: int, now: int) -> list[tuple[bytes, dict[str, str]]]:
    """Write `count` signed deliveries; return the Svix ones for the in-process comparison."""
    svix_items = []
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            scheme = SCHEMES[i % len(SCHEMES)]
            body = json.dumps({"id": f"evt_{i}", "type": "tip.received",
                               "data": {"fanId": i, "amount": 5 + i % 50, "message": "🔥" * 8}},
                              separators=(",", ":")).encode()
            headers = sign(scheme, SECRET, body, msg_id=f"msg_{i}", timestamp=now)
            out.write(Capture(f"dlv_{i}", format_timestamp(now + 1), "POST", "/webhooks",
                              (("content-type", "application/json"), *headers), body).to_json())
            out.write("\n")
            if scheme == "svix":
                svix_items.append((body, dict(headers)))
    return svix_items


REPEAT = 5  # every timing is the best of 5, taken in rounds that alternate what is timed,
# so a busy moment on a shared machine hits each contender alike and the best shows its speed


def timed(args: list[str]) -> tuple[float, float]:
    """The best wall time of REPEAT runs, and the child's largest own peak memory (MB)."""
    best, peak = float("inf"), 0.0
    for _ in range(REPEAT):
        ran = run_measured(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best, peak = min(best, ran.seconds), max(peak, ran.peak_mb)
    return best, peak


def interleaved(runs: dict[str, list[str]]) -> dict[str, Ran]:
    """Each command's best wall time, least CPU (its own and its workers'), largest own and
    worker peak memory over REPEAT rounds, the commands taken in turn within a round (a
    different one first each round)."""
    found: dict[str, list[Ran]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(REPEAT):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            found[name].append(run_measured(runs[name], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
    return {name: Ran(min(r.seconds for r in rans), max(r.peak_mb for r in rans),
                      min(r.cpu for r in rans), 0, max(r.worker_peak_mb for r in rans))
            for name, rans in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    count = parser.parse_args().deliveries
    compile_ofevents()
    exe = str(Path(sys.executable).with_name("ofevents"))
    now = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.jsonl", Path(tmp) / "big.jsonl"
        build(small, count // 5, now)
        svix_items = build(big, count, now)
        base = [exe, "verify", "--secret", SECRET]
        _, rss_small = timed([*base, str(small), "--json"])
        runs = {"json": [*base, str(big), "--json"], "human": [*base, str(big)],
                "one": [*base, str(big), "--json", "--jobs", "1"],
                "bare": [sys.executable, "-c", BARE_LOOP, str(big), SECRET]}
        ran = interleaved(runs)
        json_s, human_s, one_s, bare_s = (ran[n].seconds for n in ("json", "human", "one",
                                                                     "bare"))

    svix_hook, std_hook = SvixWebhook(SECRET), StandardWebhook(SECRET)
    per = lib_times({
        "ours": lambda b, h: verify(b, list(h.items()), [SECRET], now=now),
        "svix": svix_hook.verify,
        "std": lambda b, h: std_hook.verify(
            b, {k.replace("svix-", "webhook-"): v for k, v in h.items()}),
    }, svix_items)
    ours, svix_s, std_s = per["ours"], per["svix"], per["std"]

    def cpu(name: str) -> str:
        return f"{ran[name].cpu / count * 1e6:5.1f} us CPU per delivery"

    print(f"deliveries: {count:,} (mixed schemes), {cores()} cores: verify's default is one "
          "worker process per core; the bare loop uses one")
    print(f"ofevents verify --json : {json_s:6.2f} s  {count / json_s:9,.0f}/s  "
          f"{json_s / bare_s:4.2f}x the bare loop (target <= 2x)   {cpu('json')}")
    print(f"ofevents verify (human): {human_s:6.2f} s  {human_s / bare_s:4.2f}x the bare loop"
          f"                   {cpu('human')}")
    print(f"  --json --jobs 1      : {one_s:6.2f} s  {one_s / bare_s:4.2f}x the bare loop "
          f"(one process)     {cpu('one')}")
    print(f"bare HMAC loop         : {bare_s:6.2f} s  {count / bare_s:9,.0f}/s"
          f"                   {cpu('bare')}")
    print(f"per Svix delivery, in process ({len(svix_items):,}):")
    print(f"  ofevents core verify : {ours * 1e6:6.1f} us")
    print(f"  svix                 : {svix_s * 1e6:6.1f} us  ofevents is {svix_s / ours:4.2f}x "
          "faster (target > 1)")
    print(f"  standardwebhooks     : {std_s * 1e6:6.1f} us  ofevents is {std_s / ours:4.2f}x "
          "faster (target > 1)")
    print(f"ofevents verify --json own peak memory: {rss_small:.0f} MB at {count // 5:,} "
          f"deliveries, {ran['json'].peak_mb:.0f} MB at {count:,} (flat = streaming); "
          f"largest worker {ran['json'].worker_peak_mb:.0f} MB")


def lib_times(checks: dict[str, Callable[[bytes, dict[str, str]], object]],
              items: list[tuple[bytes, dict[str, str]]]) -> dict[str, float]:
    """Mean seconds per call of each `check(body, headers)` over `items`: the best of REPEAT
    passes, the checks taking turns pass by pass."""
    best = dict.fromkeys(checks, float("inf"))
    for _ in range(REPEAT):
        for name, check in checks.items():
            start = time.perf_counter()
            for body, headers in items:
                check(body, headers)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / len(items) for name, seconds in best.items()}


if __name__ == "__main__":
    main()
