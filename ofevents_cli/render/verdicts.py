"""Showing verification results: a line per delivery, an `--explain` block, or JSON Lines."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core.exit_policy import VerifyTally
from ofevents_cli.formats import Format
from ofevents_cli.render.output import colour, say, warn
from ofevents_cli.render.text import count, escape_control, shorten
from ofevents_cli.shells.chunks import in_workers, worth_splitting
from ofevents_cli.shells.verification import (
    Checked,
    Incomplete,
    Keyring,
    Settings,
    Unreadable,
    check_captures,
    check_piece,
)

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@functools.lru_cache(maxsize=512)
def _opt(value: str | None) -> str:
    """A JSON string or null; the few values a column takes (source, provider, scheme,
    reason) are encoded once, not once per delivery."""
    return "null" if value is None else _ENCODE(value)


def _num(value: int | None) -> str:
    return "null" if value is None else str(value)


def _colour(enabled: bool, code: str, text: str) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if enabled else text


BATCH = 256  # lines per write when not live: a write per delivery was a tenth of verify's time


class VerdictRenderer:
    """Writes each result as it comes (streaming), then a summary on stderr."""

    def __init__(self, fmt: Format, tally: VerifyTally, explain: bool, live: bool,
                 sources: int = 1) -> None:
        self.json_lines = fmt is Format.JSON
        self.live = live  # flush every line (a terminal, or input still arriving on stdin)
        self.explain = explain
        self.sources = sources  # name the file on each line when there are several
        self.colour = colour()
        self.tally = tally
        self.pending: list[str] = []  # lines written in chunks (one write per BATCH lines)

    def show(self, item: Checked | Unreadable | Incomplete) -> None:
        """Render one result."""
        if isinstance(item, Incomplete):
            self.tally.incomplete += 1
            warn(f"{item.source} line {item.line}: delivery {escape_control(item.id)} was not "
                 "received whole (truncated): not verified")
            return
        if isinstance(item, Unreadable):
            self.tally.unreadable += 1
            where = f"{item.source} line {item.line}" if item.line else item.source
            warn(f"{where}: {item.message} (skipped)")
            return
        verdict = item.verdict
        self.tally.add_verdict(verdict.valid, verdict.reason.value if verdict.reason else None)
        pending = self.pending
        if self.json_lines:
            pending.append(self._json_line(item) + "\n")
        else:
            pending.append(self._line(item))
            if self.explain:
                pending.append(self._explanation(item))
        if self.live or len(pending) >= BATCH:
            self.write()

    def show_captures(self, sources: Sequence[str], keys: Keyring, settings: Settings,
                      jobs: int) -> None:
        """Verify and render every capture file in order: a large regular file in up to
        `jobs` worker processes (not when live: lines would come a piece at a time)."""
        for source in sources:
            if jobs > 1 and not self.live and worth_splitting(source):
                self._show_in_workers(source, keys, settings, jobs)
                continue
            for item in check_captures((source,), keys, settings):
                self.show(item)

    def _show_in_workers(self, source: str, keys: Keyring, settings: Settings, jobs: int
                         ) -> None:
        job = _Job(source, keys, settings, self.json_lines, self.explain, self.sources,
                   self.colour)
        try:
            for out, err, tally in in_workers(source, _render_piece, job, jobs):
                self.write()
                sys.stderr.write(err)
                sys.stdout.write(out)
                self.tally.absorb(tally)
        except BrokenPipeError:  # stdout's reader went away: the command's to handle
            raise
        except OSError as exc:  # gone or unreadable since it was looked at
            self.show(Unreadable(source, None, exc.strerror or str(exc)))

    def write(self) -> None:
        """Write the lines held so far (at once when live, else every BATCH lines)."""
        sys.stdout.write("".join(self.pending))
        self.pending.clear()
        if self.live:
            sys.stdout.flush()

    def _json_line(self, item: Checked) -> str:
        if self.explain:
            return _ENCODE(self._record(item))
        verdict = item.verdict  # the common case, formatted directly: it runs per delivery
        reason = verdict.reason
        return (f'{{"id": {_ENCODE(item.id)}, "line": {_num(item.line)}, '
                f'"source": {_opt(item.source)}, '
                f'"provider": {_opt(item.provider)}, "scheme": {_opt(verdict.scheme)}, '
                f'"valid": {"true" if verdict.valid else "false"}, '
                f'"reason": {_opt(reason.value if reason else None)}, '
                f'"detail": {_opt(verdict.detail or None)}}}')

    def _record(self, item: Checked) -> dict[str, Any]:
        verdict = item.verdict
        record: dict[str, Any] = {
            "id": item.id,
            "line": item.line,
            "source": item.source,
            "provider": item.provider,
            "scheme": verdict.scheme,
            "valid": verdict.valid,
            "reason": verdict.reason.value if verdict.reason else None,
            "detail": verdict.detail or None,
        }
        if self.explain:
            record["explain"] = {
                "signed": _text(verdict.signed),
                "expected": verdict.expected,
                "received": list(verdict.received),
                "diagnosis": [
                    {"cause": c.name, "tried": c.tried, "matched": c.matched, "advice": c.advice}
                    for c in item.causes
                ],
            }
        return record

    def _line(self, item: Checked) -> str:
        verdict = item.verdict
        mark = (_colour(self.colour, "32", "✔ valid  ") if verdict.valid
                else _colour(self.colour, "31", "✘ invalid"))
        where = f"line {item.line}" if item.line else item.source
        if self.sources > 1 and item.line:
            where = f"{item.source}:{item.line}"
        scheme = verdict.scheme or "-"
        text = f"{mark}  {where:<9} {escape_control(item.id)}  {scheme}"
        if not verdict.valid and verdict.reason:
            text += f"  {verdict.reason.value}: {verdict.detail}"
        return text + "\n"

    def _explanation(self, item: Checked) -> str:
        verdict = item.verdict
        rows = [("provider", f"{item.provider or '-'} (scheme {verdict.scheme or '-'})")]
        if verdict.signed is not None:
            rows.append(("signed", escape_control(shorten(_text(verdict.signed) or "", 160))))
        if verdict.expected is not None:
            rows.append(("expected", f"{verdict.expected}  (secret {item.secret})"))
        rows.extend(("received", escape_control(sig)) for sig in verdict.received)
        matched = [c for c in item.causes if c.matched]
        for cause in matched:
            rows.append(("diagnosis", f"MATCHES with {cause.tried}: {cause.advice}"))
        for cause in item.causes:
            if cause.name == "unknown":
                rows.append(("diagnosis", cause.advice))
        ruled_out = list(dict.fromkeys(
            c.tried for c in item.causes if not c.matched and c.name != "unknown"))
        if ruled_out:
            rows.append(("ruled out", "; ".join(ruled_out)))
        return "".join(f"    {label:<10} {value}\n" for label, value in rows)

    def summary(self) -> None:
        """The closing line on stderr."""
        self.write()
        sys.stdout.flush()
        t = self.tally
        parts = [f"{t.valid} valid", f"{t.invalid} invalid"]
        if t.reasons:
            parts[-1] += " (" + ", ".join(f"{n} {r}" for r, n in sorted(t.reasons.items())) + ")"
        if t.unreadable:
            parts.append(f"{t.unreadable} unreadable, skipped")
        if t.incomplete:
            parts.append(f"{t.incomplete} truncated, not verified")
        say(f"{count(t.valid + t.invalid, 'delivery')}: " + ", ".join(parts))
        if not t.valid + t.invalid + t.unreadable + t.incomplete:
            warn("the input holds no deliveries")


@dataclass(frozen=True)
class _Job:
    """What a worker needs to verify and render pieces of one file as the parent would."""

    source: str
    keys: Keyring
    settings: Settings
    json_lines: bool
    explain: bool
    sources: int
    colour: bool


def _render_piece(job: _Job, piece: bytes, first_line: int) -> tuple[str, str, VerifyTally]:
    """In a worker: one piece's stdout and stderr text and its tally, as `show` makes them."""
    out, err, tally = io.StringIO(), io.StringIO(), VerifyTally()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        renderer = VerdictRenderer(Format.JSON if job.json_lines else Format.TEXT, tally,
                                   job.explain, False, job.sources)
        renderer.colour = job.colour
        for item in check_piece(piece, first_line, job.source, job.keys, job.settings):
            renderer.show(item)
        renderer.write()
    return out.getvalue(), err.getvalue(), tally


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="backslashreplace")


def verdict_lines(item: Checked, explain: bool) -> str:
    """One delivery's verdict as `verify` prints it, plain (with the `--explain` block)."""
    renderer = VerdictRenderer(Format.TEXT, VerifyTally(), explain, live=False)
    renderer.colour = False
    return renderer._line(item) + (renderer._explanation(item) if explain else "")


def verdict_record(item: Checked, explain: bool) -> dict[str, Any]:
    """One delivery's verdict as `verify --json` writes it."""
    return VerdictRenderer(Format.JSON, VerifyTally(), explain, live=False)._record(item)
