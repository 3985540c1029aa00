"""Generated history files for the history, replay and inspector tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ofevents_cli.core.capture import (
    Capture,
    CaptureResponse,
    CaptureVerification,
    format_timestamp,
)
from ofevents_cli.core.frames import Event
from ofevents_cli.core.history_record import KeptEvent
from ofevents_cli.core.signing import sign

SECRET = "ofapi-secret"


def delivery(n: int, at: float, *, event: str = "tip.received", status: int = 200,
             valid: bool | None = True, body: bytes | None = None, account: str = "crt_1",
             headers: tuple[tuple[str, str], ...] = ()) -> Capture:
    """A forward-like capture record of one ofapi delivery, signed with SECRET."""
    raw = body if body is not None else (
        b'{"id":"evt_%d","type":"%s","creatorId":"%s","data":{"n":%d}}'
        % (n, event.encode(), account.encode(), n))
    signed = tuple(sign("ofapi", SECRET, raw, msg_id="m", timestamp=int(at)))
    verification = None if valid is None else CaptureVerification("ofapi", valid,
                                                                   None if valid else "mismatch")
    return Capture(f"dlv_{n:04d}", format_timestamp(at), "POST", f"/webhooks?n={n}",
                   (("content-type", "application/json"), *signed, *headers), raw,
                   response=CaptureResponse(status, 1.5), verification=verification)


def kept(n: int, at: float, event: str = "tip", account: str = "384751629") -> KeptEvent:
    """An EventBus event as listen --keep records it."""
    return KeptEvent.kept(Event(f"ev_{n}", event, account, format_timestamp(at), {"amount": n}),
                          at)


def write(path: Path, *lines: str, mtime: float | None = None) -> Path:
    """A file of these lines (mtime set: the last write of the records' session)."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def now() -> float:
    """The wall clock the records are placed against."""
    return time.time()
