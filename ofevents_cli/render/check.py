"""Showing `check`'s report card: a table with the failures first (red) and a one-line grade, or
JSON Lines: one object per case as it is judged, then a summary line."""

from __future__ import annotations

import sys
from typing import Any

from ofevents_cli.core.check_setup import Setup
from ofevents_cli.core.check_verdicts import CaseResult, Grade, Verdict
from ofevents_cli.render.output import emit_json, say
from ofevents_cli.render.text import escape_control

_ORDER = {Verdict.FAIL: 0, Verdict.WARN: 1, Verdict.PASS: 2, Verdict.NA: 3}
_STYLE = {Verdict.FAIL: "red", Verdict.WARN: "yellow", Verdict.PASS: "green", Verdict.NA: "dim"}
_GRADE_STYLE = {"A": "bold green", "B": "bold yellow", "C": "bold red", "F": "bold red"}


def case_record(result: CaseResult) -> dict[str, Any]:
    """The `--json` object of one case (docs/check.md)."""
    return {
        "case": result.case,
        "sent": result.sent,
        "expected": result.expected,
        "status": result.status,
        "ms": None if result.ms is None else round(result.ms, 1),
        "verdict": result.verdict.value,
        "advice": result.advice,
    }


def summary_record(url: str, setup: Setup | None, results: tuple[CaseResult, ...],
                   grade: Grade | None, code: int, unreachable: str | None) -> dict[str, Any]:
    """The closing `--json` line (docs/check.md): what was graded, the grade, the counts."""
    slow = next((r for r in results if r.case == "slow-path" and r.ms is not None), None)
    return {
        "summary": True,
        "url": url,
        "provider": setup.provider if setup else None,
        "scheme": setup.scheme if setup else None,
        "event": setup.event.name if setup else None,
        "grade": grade.letter if grade else None,
        "line": grade.line if grade else None,
        "counts": grade.counts if grade else {},
        "max_ms": slow.ms if slow else None,
        "timeout_s": setup.deadline.seconds if setup else None,
        "unreachable": unreachable,
        "exit_code": code,
    }


class CardRenderer:
    """Streams JSON lines as cases are judged, or collects them for the table."""

    def __init__(self, as_json: bool, total: int) -> None:
        self.as_json = as_json
        self.results: list[CaseResult] = []
        self.progress: Any = None
        if not as_json and sys.stderr.isatty():
            from rich.progress import Progress

            from ofevents_cli.render.output import console

            self.progress = Progress(console=console(stderr=True), transient=True)
            self.task = self.progress.add_task("checking", total=total)

    def __enter__(self) -> CardRenderer:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, result: CaseResult) -> None:
        """One judged case."""
        self.results.append(result)
        if self.as_json:
            emit_json(case_record(result))
        elif self.progress is not None:
            self.progress.advance(self.task, 1)

    def finish(self, url: str, setup: Setup, grade: Grade, code: int) -> None:
        """The table and the grade (text), or the summary line (JSON)."""
        results = tuple(self.results)
        if self.as_json:
            emit_json(summary_record(url, setup, results, grade, code, None))
            return
        from rich import box
        from rich.table import Table
        from rich.text import Text

        from ofevents_cli.render.output import console

        out = console()
        table = Table(title=f"{url}: {setup.event.name} from {setup.provider}, signed "
                      f"{setup.scheme}", title_justify="left", box=box.SIMPLE_HEAD)
        for name in ("verdict", "case", "status", "ms"):
            table.add_column(name, no_wrap=True,
                             justify="right" if name in ("status", "ms") else "left")
        table.add_column("sent (expected) / advice")
        for result in sorted(results, key=lambda r: _ORDER[r.verdict]):
            ms = "" if result.ms is None else f"{result.ms:.0f}"
            status = "-" if result.status is None else str(result.status)
            shown = result.verdict in (Verdict.FAIL, Verdict.WARN)
            detail = Text(escape_control(f"{result.sent} (expected {result.expected})" if shown
                                         else result.sent))
            if result.advice:
                detail.append("\n" + escape_control(result.advice), style="bold")
            table.add_row(Text(result.verdict.value.upper()), Text(result.case), Text(status),
                          Text(ms), detail, style=_STYLE[result.verdict])
        out.print(table)
        out.print(Text(grade.line, style=_GRADE_STYLE[grade.letter]))

    def unreachable(self, url: str, reason: str, code: int) -> None:
        """Nothing accepted the first connection: say so (and close the JSON stream)."""
        if self.as_json:
            emit_json(summary_record(url, None, (), None, code, reason))
        say(f"ofevents: error: nothing answers at {escape_control(url)}: {reason}")
        say("hint: start your endpoint, or check the URL (a port alone means "
            "localhost:PORT/webhooks)")
