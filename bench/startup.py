"""Benchmark start-up: every command's `--help`, `ofevents --help` and `--version` against
`python -c "import typer"` (the floor for any typer CLI).

Run: `python bench/startup.py [--runs 21]` (from a venv with `pip install -e .` done).
ofevents' .pyc files are written first, as a regular install has them.
Each round runs every case once as a fresh process, the order rotated per round so no case
always follows the same one; the figure is the median over the rounds, the ratio is that
median over the median of `import typer` in the same run. Then each case runs once under
`python -X importtime`, and the modules it imports beyond `import typer`'s are summed per
top-level package (import self-time), naming what a `--help` pays for.
Target: every ratio <= 1.3x, and no --help imports pydantic, rich, httpx, aiohttp, orjson,
websockets, uvicorn, pyngrok or the command's own machinery (ofevents_cli.shells/render/core).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import subprocess
import sys
import time

import typer
from harness import compile_ofevents, ofevents_exe

from ofevents_cli.cli.app import app

HEAVY = ("pydantic", "pydantic_core", "rich", "httpx", "httpcore", "aiohttp", "orjson",
         "websockets", "uvicorn", "pyngrok", "click", "pygments")
MACHINERY = ("ofevents_cli.shells", "ofevents_cli.render", "ofevents_cli.core")
TARGET = 1.3

PROBE = """
import sys
sys.argv = ["ofevents", *sys.argv[1:]]
from ofevents_cli.cli.app import main
try:
    main()
except SystemExit:
    pass
"""


def command_paths() -> list[list[str]]:
    """Every command and subcommand of the app, as argv prefixes (from the app itself, so a
    new command is measured without editing this file)."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def cases(exe: str) -> list[tuple[str, list[str], list[str]]]:
    """(label, argv to time, argv for the import probe) for the baseline and every case."""
    out = [("python -c 'import typer'", [sys.executable, "-c", "import typer"],
            [sys.executable, "-X", "importtime", "-c", "import typer"])]
    for args in (["--version"], ["--help"], *([*p, "--help"] for p in command_paths())):
        out.append(("ofevents " + " ".join(args), [exe, *args],
                    [sys.executable, "-X", "importtime", "-c", PROBE, *args]))
    return out


def imports(argv: list[str], tries: int = 3) -> dict[str, int]:
    """Module -> import self-time (us), from `-X importtime` (stderr): the least of `tries`
    runs, as a busy moment only ever adds time."""
    found: dict[str, int] = {}
    for _ in range(tries):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = line.removeprefix("import time:").split("|")
            name = name.strip()
            found[name] = min(int(self_us), found.get(name, int(self_us)))
    return found


def extra(base: dict[str, int], seen: dict[str, int]) -> list[tuple[str, float, int]]:
    """(package, ms, modules) imported beyond the baseline, costliest first; ofevents' own
    machinery is named by subpackage."""
    per_ms: collections.Counter[str] = collections.Counter()
    per_n: collections.Counter[str] = collections.Counter()
    for name, us in seen.items():
        if name in base:
            continue
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "ofevents_cli" and len(parts) > 2 else parts[0]
        per_ms[key] += us
        per_n[key] += 1
    return [(k, v / 1000, per_n[k]) for k, v in per_ms.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds (default 21)")
    runs = parser.parse_args().runs
    compile_ofevents()
    table = cases(ofevents_exe())
    times: dict[str, list[float]] = {label: [] for label, _, _ in table}
    for _, argv, _ in table:  # warm the page cache and .pyc files once
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    for round_ in range(runs):
        shift = round_ % len(table)
        for label, argv, _ in table[shift:] + table[:shift]:
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            times[label].append(time.perf_counter() - start)
    base_label, _, base_probe = table[0]
    base_ms = statistics.median(times[base_label]) * 1000
    base_mods = imports(base_probe)
    print(f"start-up, median of {runs} alternating rounds (typer {typer.__version__}, "
          f"python {sys.version.split()[0]})")
    print(f"  {base_label:<34} {base_ms:6.1f} ms  1.00x  ({len(base_mods)} modules)")
    worst = 0.0
    for label, _, probe in table[1:]:
        ms = statistics.median(times[label]) * 1000
        ratio = ms / base_ms
        worst = max(worst, ratio)
        more = extra(base_mods, imports(probe))
        heavy = [k for k, _, _ in more if k in HEAVY or k.startswith(MACHINERY)]
        top = ", ".join(f"{k} {v:.1f}" for k, v, _ in more[:4])
        flag = "" if ratio <= TARGET else "  OVER"
        print(f"  {label:<34} {ms:6.1f} ms  {ratio:4.2f}x{flag}  "
              f"+{sum(n for _, _, n in more)} modules; heavy: {', '.join(heavy) or 'none'}; "
              f"costliest (ms): {top or '-'}")
    print(f"worst ratio {worst:.2f}x (target <= {TARGET}x)")


if __name__ == "__main__":
    main()
