"""Capture records (capture-format.md v1): one delivery per JSON line, the body byte for byte.

Reading never raises on a bad line: it yields a `CaptureProblem` with the line number, so a
reader reports it and goes on with the rest of the file.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

from ofevents_cli.core.fastjson import SLOW, fast_loads
from ofevents_cli.core.strictjson import deeper_than, escaped, lone_surrogate, problem, suspect

__all__ = [
    "MAX_LINE",
    "Capture",
    "CaptureProblem",
    "CaptureResponse",
    "CaptureRoute",
    "CaptureVerification",
    "format_timestamp",
    "parse_capture",
    "parse_timestamp",
    "read_captures",
]

VERSION = 1


@dataclass(frozen=True)
class CaptureResponse:
    """What the target answered."""

    status: int
    ms: float


@dataclass(frozen=True)
class CaptureVerification:
    """The live signature verdict recorded with the delivery."""

    scheme: str | None
    valid: bool
    reason: str | None


@dataclass(frozen=True)
class CaptureRoute:
    """Where `forward` sent a delivery: the route that answered the caller, or one that got a
    copy; its last status (None: no answer), latency, attempts and error."""

    to: str
    role: str  # "answer" or "copy"
    status: int | None
    ms: float
    attempts: int = 1
    error: str | None = None


@dataclass
class Capture:
    """One captured delivery (not frozen: one is made per line `verify` reads, and a frozen
    dataclass's __init__ costs three times as much; nothing changes one in place)."""

    id: str
    received_at: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    remote: str | None = None
    response: CaptureResponse | None = None
    verification: CaptureVerification | None = None
    truncated: bool = False  # the body was not received whole (over the limit, caller hung up)
    routes: tuple[CaptureRoute, ...] | None = None  # None: no routes given; (): unrouted
    line: int = field(default=0, compare=False)
    epoch: float | None = field(default=None, compare=False, repr=False)

    def _record(self) -> dict[str, Any]:
        """The record as a JSON object (capture-format.md)."""
        try:
            text: str | None = self.body.decode("utf-8")
            b64 = None
        except UnicodeDecodeError:
            text, b64 = None, base64.b64encode(self.body).decode("ascii")
        record: dict[str, Any] = {
            "v": VERSION,
            "id": self.id,
            "received_at": self.received_at,
            "method": self.method,
            "path": self.path,
            "headers": [list(h) for h in self.headers],
            "body": text,
            "body_base64": b64,
        }
        if self.remote is not None:
            record["remote"] = self.remote
        if self.response is not None:
            record["response"] = {"status": self.response.status, "ms": self.response.ms}
        if self.verification is not None:
            v = self.verification
            record["verification"] = {"scheme": v.scheme, "valid": v.valid, "reason": v.reason}
        if self.truncated:
            record["truncated"] = True
        if self.routes is not None:
            record["routes"] = [{"to": r.to, "role": r.role, "status": r.status,
                                 "ms": r.ms, "attempts": r.attempts, "error": r.error}
                                for r in self.routes]
        return record

    def to_json(self) -> str:
        """The record as one JSON line (no newline); the body stays exactly as received."""
        return self.to_line()[:-1].decode("utf-8")

    def to_line(self) -> bytes:
        """The record as one UTF-8 JSON line with its newline, as a capture file holds it
        (orjson: written once per delivery the relay or trigger --save keeps)."""
        record = self._record()
        try:
            return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # an integer past 64 bits, text orjson will not write: the stdlib
            text = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            return text.encode("utf-8")

    @property
    def received_epoch(self) -> float:
        """`received_at` as unix seconds: the clock offline verification checks against."""
        return self.epoch if self.epoch is not None else parse_timestamp(self.received_at)


MAX_LINE = 64 * 1024 * 1024  # the longest line a reader holds: past it, a line is skipped
# the deepest nesting the stdlib decoder is given (orjson takes 1,024 but refuses what the
# stdlib must then read); far below the recursion limit, whoever calls
_NESTING = 512


@dataclass(frozen=True)
class CaptureProblem:
    """A line that could not be read, and why."""

    line: int
    message: str


def format_timestamp(epoch: float) -> str:
    """Unix seconds -> `2026-11-22T23:55:01.123456Z` (datetime's rounding: half to even)."""
    whole = math.floor(epoch)
    micro = round((epoch - whole) * 1_000_000)
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return f"{_second(whole)}.{micro:06d}Z"


@functools.lru_cache(maxsize=8)
def _second(whole: int) -> str:
    """`2026-11-22T23:55:01`: worked out once for all the deliveries of one second."""
    return datetime.fromtimestamp(whole, tz=timezone.utc).replace(tzinfo=None).isoformat()


def parse_timestamp(text: str) -> float:
    """ISO-8601 (with `Z` or an offset) -> unix seconds; ValueError if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # Python 3.10 does not read a `Z` suffix
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    if type(raw) is not list:
        raise ValueError("`headers` must be a list of [name, value] pairs")
    pairs = []
    for item in raw:  # a plain loop: this runs once per line of every capture read
        if type(item) is not list or len(item) != 2:
            raise ValueError("`headers` must be a list of [name, value] pairs")
        name, value = item
        if type(name) is not str or type(value) is not str:
            raise ValueError("header names and values must be strings")
        pairs.append((name, value))
    return tuple(pairs)


def _no_surrogates(headers: tuple[tuple[str, str], ...]) -> None:
    for name, value in headers:
        if lone_surrogate(name) or lone_surrogate(value):
            bad = value if lone_surrogate(value) else name
            raise ValueError(f"header {escaped(name)!r} holds a lone surrogate ({escaped(bad)}): "
                             "not text any request carried")


def _body(record: dict[str, Any]) -> bytes:
    text = record.get("body")
    if type(text) is str:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"`body` holds a lone surrogate ({escaped(text)}), so it is no "
                             "UTF-8 body: bytes that are not UTF-8 go in `body_base64`") from None
    b64 = record.get("body_base64")
    if isinstance(b64, str):
        try:
            return base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("`body_base64` is not valid base64") from exc
    raise ValueError("no `body` or `body_base64`")


def _ms(value: Any) -> float:
    """A duration, 0.0 when it is none (not a number, or one out of a float's range)."""
    try:
        ms = float(value) if isinstance(value, (int, float)) else 0.0
    except OverflowError:
        return 0.0
    return ms if math.isfinite(ms) else 0.0


def _label(value: Any) -> str | None:
    return value if isinstance(value, str) and not lone_surrogate(value) else None


def _optional(record: dict[str, Any]) -> tuple[CaptureResponse | None, CaptureVerification | None]:
    """The optional records, each dropped (None) when malformed, like an absent one."""
    response = verification = None
    if "response" not in record and "verification" not in record:
        return None, None
    resp = record.get("response")
    if isinstance(resp, dict) and isinstance(resp.get("status"), int):
        response = CaptureResponse(resp["status"], _ms(resp.get("ms")))
    ver = record.get("verification")
    if isinstance(ver, dict) and isinstance(ver.get("valid"), bool):
        verification = CaptureVerification(_label(ver.get("scheme")), ver["valid"],
                                           _label(ver.get("reason")))
    return response, verification


def parse_capture(text: str | bytes, line: int, *, lean: bool = False
                  ) -> Capture | CaptureProblem:
    """One line -> a Capture, or a CaptureProblem saying what is wrong with it. `lean` skips
    the optional records (`response`, `verification`): a reader that judges signatures
    needs neither."""
    # orjson first: what it reads holds no lone surrogate, no 1e999, no lost digit
    # (strictjson.fast_loads); the rest goes through the stdlib and the checks below. The
    # numbers a record holds sit at most two levels down (`response.status`), and a `lean`
    # reader uses none; headers are strings, and a number there is refused whatever its size
    record = fast_loads(text, nesting=False, floats="none" if lean else "near")
    strict = False
    if record is SLOW:
        given_text = isinstance(text, str)  # bytes decode strictly: no surrogate of their own
        try:
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            if deeper_than(text, _NESTING):  # decided by the text, not by the stack's depth
                return CaptureProblem(line, "not readable JSON (nested too deeply)")
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            return CaptureProblem(line, f"not valid JSON ({exc.msg} at column {exc.colno})")
        except UnicodeDecodeError:
            return CaptureProblem(line, "not valid UTF-8")
        except RecursionError:
            return CaptureProblem(line, "not readable JSON (nested too deeply)")
        except ValueError:  # Python reads at most 4300 digits of an integer
            return CaptureProblem(line, "not readable JSON (a number with too many digits)")
        # a `\ud…` escape (or text that held a surrogate already): look for lone surrogates
        strict = suspect(text, nesting=False) or (given_text and lone_surrogate(text))
    if type(record) is not dict:
        return CaptureProblem(line, "not a JSON object")
    kind = record.get("kind", "delivery")
    if kind != "delivery":  # an EventBus event (listen --keep) or a kind from a newer version
        return CaptureProblem(line, f"not a webhook delivery (a {str(kind)[:20]!r} record)")
    ident, method, path, remote = (record.get("id"), record.get("method"), record.get("path"),
                                   record.get("remote"))
    try:
        headers = _headers(record.get("headers"))
        body = _body(record)
        received_at = record.get("received_at")
        if type(received_at) is not str:
            raise ValueError("no `received_at` timestamp")
        if strict:
            _no_surrogates(headers)
            found = problem({"id": ident, "method": method, "path": path,
                             "received_at": received_at})
            if found is not None:
                raise ValueError(found)
            remote = _label(remote)
        epoch = parse_timestamp(received_at)
    except ValueError as exc:
        return CaptureProblem(line, str(exc))
    response, verification = (None, None) if lean else _optional(record)
    return Capture(
        ident if type(ident) is str and ident else f"line-{line}",
        received_at,
        method if type(method) is str and method else "POST",
        path if type(path) is str and path else "/",
        headers,
        body,
        remote if type(remote) is str else None,
        response,
        verification,
        record.get("truncated") is True,
        line=line,
        epoch=epoch,
    )


def read_captures(lines: Iterable[str | bytes | None], *, lean: bool = False, start: int = 1
                  ) -> Iterator[Capture | CaptureProblem]:
    """Stream records from lines of a capture file (from its line number `start`); blank lines
    are skipped silently, None stands for a line over MAX_LINE (`lean`: see `parse_capture`)."""
    for number, text in enumerate(lines, start=start):
        if text is None:
            yield CaptureProblem(number, f"longer than {MAX_LINE} bytes (skipped)")
            continue
        if number == 1:  # an editor may have saved the file with a byte-order mark
            text = (text.removeprefix(b"\xef\xbb\xbf") if isinstance(text, bytes)
                    else text.removeprefix("\ufeff"))
        if text and not text.isspace():  # blank lines skipped, without a stripped copy
            yield parse_capture(text, number, lean=lean)

