"""Showing `doctor`'s checks: one line each (a mark, the check, what was found, what to do),
or JSON Lines: one object per check, then a summary line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from ofevents_cli.core.doctor_checks import Check, Status
from ofevents_cli.render.output import emit_json
from ofevents_cli.render.text import escape_control

_MARK = {Status.OK: ("✔", "32"), Status.WARN: ("!", "33"), Status.FAIL: ("✘", "31"),
         Status.SKIP: ("-", "2")}


def check_record(check: Check) -> dict[str, Any]:
    """The `--json` object of one check (docs/check.md)."""
    return {"check": check.name, "status": check.status.value, "detail": check.detail,
            "hint": check.hint}


def summary_record(checks: Sequence[Check], code: int) -> dict[str, Any]:
    """The closing `--json` line: how many checks had each status, and the exit code."""
    counts = {s.value: sum(c.status is s for c in checks) for s in Status}
    return {"summary": True, "counts": counts, "exit_code": code}


def check_line(check: Check, colour: bool) -> str:
    """`✘ config           /…/config.toml: … → fix or delete it`."""
    mark, code = _MARK[check.status]
    text = f"{mark} {check.name:<20} {escape_control(check.detail)}"
    if check.hint:
        text += f"  → {escape_control(check.hint)}"
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def show(checks: Sequence[Check], as_json: bool, code: int) -> None:
    """Print every check, then the tally."""
    if as_json:
        for check in checks:
            emit_json(check_record(check))
        emit_json(summary_record(checks, code))
        return
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    for check in checks:
        print(check_line(check, colour))
    counts = summary_record(checks, code)["counts"]
    print("doctor: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
