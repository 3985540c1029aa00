"""bench/fuzz.py as a user runs it, on a short count: it runs, and finds nothing wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ofevents_cli.core import providers as registry

FUZZ = Path(__file__).resolve().parents[1] / "bench" / "fuzz.py"


def test_a_short_fuzz_run_finds_no_crash_false_accept_or_unexplained_disagreement() -> None:
    """5,000 mutated deliveries over every scheme: exit 0, the `all` row says 0 crashes and 0
    false accepts, and both official libraries were compared."""
    done = subprocess.run([sys.executable, str(FUZZ), "--count", "5000", "--seed", "3",
                           "--workers", "1"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ofevents bench/fuzz.py: 5,000 mutated deliveries, seed 3")
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:9]}
    assert set(rows) == {*registry.schemes(), "all"}
    deliveries, accepted, _, crashes, false_accepts = rows["all"]
    assert (deliveries, crashes, false_accepts) == ("5,000", "0", "0")
    assert int(accepted.replace(",", "")) > 500
    assert any(line.startswith("  svix: ") for line in lines)
    assert any(line.startswith("  standardwebhooks: ") for line in lines)
    assert "UNEXPLAINED" not in done.stdout
