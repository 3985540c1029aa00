"""Showing the history: a line (or JSON object) per record, and one record in full (`show`).

Everything here is text from files: control characters are escaped before they are printed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import time
from typing import Any

from ofevents_cli.core.capture import Capture
from ofevents_cli.core.history_query import Entry
from ofevents_cli.render.output import emit_json, say
from ofevents_cli.render.text import escape_control, shorten
from ofevents_cli.render.verdicts import verdict_lines, verdict_record
from ofevents_cli.shells.history_read import BadLine, Item
from ofevents_cli.shells.verification import Checked

__all__ = ["HistoryView", "detail_text", "entry_record", "pretty_body", "show_json"]


def local_time(epoch: float) -> str:
    """`2026-11-23 14:30:41`, the local time `--since`/`--until` also read."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def entry_record(entry: Entry) -> dict[str, Any]:
    """The `history --json` object of one record (docs/history.md)."""
    record = entry.record
    capture = record if isinstance(record, Capture) else None
    verification = capture.verification if capture else None
    return {
        "id": entry.id, "kind": entry.kind, "received_at": record.received_at,
        "event": entry.event, "provider": entry.provider, "account": entry.account,
        "method": capture.method if capture else None,
        "path": capture.path if capture else None,
        "status": entry.status,
        "ms": capture.response.ms if capture and capture.response else None,
        "valid": entry.valid, "reason": verification.reason if verification else None,
        "truncated": capture.truncated if capture else False,
        "source": entry.source, "line": record.line,
    }


def signature_text(entry: Entry) -> str:
    """The recorded verdict in a word or two."""
    record = entry.record
    if not isinstance(record, Capture):
        return "-"
    if record.truncated:
        return "truncated"
    if record.verification is None:
        return "unchecked"
    if record.verification.valid:
        return "valid"
    return f"INVALID {record.verification.reason or ''}".strip()


def entry_line(entry: Entry) -> str:
    """`2026-11-23 14:30:41  dlv_…  ofapi  tip.received  valid  200  POST /webhooks`."""
    record = entry.record
    where = (f"{record.method} {record.path}" if isinstance(record, Capture)
             else f"account {entry.account}")
    status = entry.status if entry.status is not None else ("event" if entry.kind == "event"
                                                            else "-")
    return escape_control(
        f"{local_time(entry.epoch)}  {entry.id:<30}  {entry.provider or '-':<11}  "
        f"{shorten(entry.event or '-', 32):<32}  {shorten(signature_text(entry), 24):<24}  "
        f"{status!s:>5}  {shorten(where, 80)}")


class HistoryView:
    """Prints records as they stream (text or JSON Lines); bad lines go to stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.shown = 0
        self.bad = 0

    def show(self, item: Item) -> None:
        """One record, or the report of a bad line."""
        if isinstance(item, BadLine):
            self.bad += 1
            where = f"{item.source} line {item.line}" if item.line else item.source
            say(f"ofevents: warning: {escape_control(where)}: "
                f"{escape_control(item.message)} (skipped)")
            return
        self.shown += 1
        if self.as_json:
            emit_json(entry_record(item))
        else:
            sys.stdout.write(entry_line(item) + "\n")

    def summary(self, where: str) -> None:
        """The closing note on stderr when nothing matched or lines were skipped."""
        sys.stdout.flush()
        if self.bad:
            say(f"{self.bad} bad line(s) skipped")
        if not self.shown:
            say(f"nothing matches in {where}")


def pretty_body(body: bytes) -> str:
    """The body for reading: indented JSON, else the text, else base64 (control chars escaped)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        encoded = base64.b64encode(body).decode("ascii")
        rows = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
        return f"({len(body)} bytes, not UTF-8: base64)\n" + "\n".join(rows)
    with contextlib.suppress(ValueError, RecursionError):  # not JSON: the text as it is
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return "\n".join(escape_control(row) for row in text.splitlines())


def _facts(entry: Entry) -> list[tuple[str, str]]:
    record = entry.record
    rows = [("received", f"{local_time(entry.epoch)} ({record.received_at})"),
            ("source", f"{entry.source} line {record.line}"),
            ("event", f"{entry.event or '-'} ({entry.provider or 'provider unknown'})")]
    if entry.account:
        rows.append(("account", entry.account))
    if not isinstance(record, Capture):
        return [*rows, ("sent at", record.ts)]
    rows.append(("request", f"{record.method} {record.path}"))
    if record.remote:
        rows.append(("from", record.remote))
    rows.append(("answer", f"{record.response.status} in {record.response.ms:.1f} ms"
                 if record.response else "none recorded"))
    verification = record.verification
    if verification is None:
        recorded = "not checked when it arrived"
    elif verification.valid:
        recorded = f"valid ({verification.scheme})"
    else:
        recorded = f"INVALID {verification.reason or ''} ({verification.scheme})"
    rows.append(("recorded", recorded))
    if record.truncated:
        rows.append(("truncated", "the body did not arrive whole"))
    return rows


def detail_text(entry: Entry, checked: Checked | str | None, explain: bool) -> str:
    """One record in full: facts, headers, pretty body, and the signature checked now
    (`checked`: the verdict, or why there is none)."""
    record = entry.record
    lines = [f"{entry.kind} {entry.id}"]
    lines += [f"  {label:<10} {value}" for label, value in _facts(entry)]
    if isinstance(record, Capture):
        lines += ["", "headers"]
        lines += [f"  {name}: {value}" for name, value in record.headers]
        lines += ["", f"body ({len(record.body)} bytes)"]
        lines += [f"  {row}" for row in pretty_body(record.body).splitlines()]
        lines += ["", "signature, checked now"]
        if isinstance(checked, Checked):
            lines += [f"  {row}" for row in verdict_lines(checked, explain).splitlines()]
        elif checked:
            lines.append(f"  {checked}")
    else:
        lines += ["", "data"]
        lines += [f"  {row}" for row in pretty_body(_json_bytes(record.data)).splitlines()]
    return "\n".join(escape_control(line) for line in lines) + "\n"


def _json_bytes(value: Any) -> bytes:
    """`value` as UTF-8 JSON; with `\\u` escapes where it holds a lone surrogate, which UTF-8
    cannot carry (the same JSON value)."""
    try:
        return json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value).encode()


def show_json(entry: Entry, checked: Checked | str | None, explain: bool) -> dict[str, Any]:
    """`history show --json`: the record as stored, where it is, and the check made now."""
    return {"source": entry.source, "line": entry.record.line,
            "record": json.loads(entry.record.to_json()),
            "check": verdict_record(checked, explain) if isinstance(checked, Checked) else None,
            "unchecked": checked if isinstance(checked, str) else None}
