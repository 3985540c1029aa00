"""Re-sending captured deliveries in order: byte for byte, or re-signed with fresh ids and times.

Yields `Replayed` per delivery and `Skipped` per unusable line; stops with an
`UnreachableError` (exit 3) when the target cannot be reached at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Union

import httpx

from ofevents_cli.core.capture import Capture, CaptureProblem
from ofevents_cli.core.signing import SCHEMES, detect_scheme, sign
from ofevents_cli.errors import InputError, UnreachableError
from ofevents_cli.shells import clock
from ofevents_cli.shells.capture_file import read_capture_file
from ofevents_cli.shells.config import secrets_for
from ofevents_cli.shells.envelope import event_of
from ofevents_cli.shells.relay import HOP_BY_HOP, join_url
from ofevents_cli.shells.sender import send

__all__ = ["ReplaySettings", "Replayed", "Skipped", "read_replay_file", "replay"]

REPLAY_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReplaySettings:
    """Where to send, and whether to re-sign (`secrets` first) or keep the captured headers."""

    target: str
    resign: bool = False
    secrets: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    timeout: float = REPLAY_TIMEOUT


@dataclass(frozen=True)
class Replayed:
    """One capture sent again: the target's status (None when there was no answer)."""

    id: str
    line: int
    event: str | None
    method: str
    url: str
    status: int | None
    ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Skipped:
    """A capture line that was not sent, and why."""

    line: int
    message: str


ReplayEvent = Union[Replayed, Skipped]  # noqa: UP007 - a runtime alias must work on 3.10


def read_replay_file(path: str) -> Iterator[Capture | CaptureProblem]:
    """The records of a capture file (`-` is stdin); an unreadable file is an input error."""
    try:
        yield from read_capture_file(path)
    except OSError as exc:
        raise InputError(f"cannot read capture file {path}: {exc.strerror or exc}",
                         "check the CAPTURE path given to replay") from exc


def resigned(capture: Capture, secrets: tuple[str, ...]) -> list[tuple[str, str]] | str:
    """The captured headers with fresh signature headers, or why that is impossible."""
    scheme = detect_scheme(capture.headers)
    if scheme is None:
        return "no signature header to re-sign"
    provider = SCHEMES[scheme][0]
    keys = list(secrets) or secrets_for(None, provider)
    if not keys:
        return f"no secret for {provider}: pass --secret"
    names = {name.lower() for name in SCHEMES[scheme][1]}
    try:
        fresh = sign(scheme, keys[0], capture.body, msg_id=clock.new_id("msg"),
                     timestamp=int(clock.now()))
    except ValueError as exc:
        return f"cannot sign with that secret ({exc})"
    return [(k, v) for k, v in capture.headers if k.lower() not in names] + fresh


def _sendable(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


async def replay(records: Iterator[Capture | CaptureProblem], settings: ReplaySettings
                 ) -> AsyncIterator[ReplayEvent]:
    """Send each capture in file order; stop with UnreachableError if the target is down."""
    async with httpx.AsyncClient(timeout=settings.timeout, trust_env=False) as client:
        for record in records:
            if isinstance(record, CaptureProblem):
                yield Skipped(record.line, record.message)
                continue
            event = event_of(record.body)
            if settings.filters and event not in settings.filters:
                continue
            headers = resigned(record, settings.secrets) if settings.resign else record.headers
            if isinstance(headers, str):
                yield Skipped(record.line, headers)
                continue
            url = join_url(settings.target, "", record.path)
            sent = await send(client, record.method, url, _sendable(headers), record.body)
            yield Replayed(record.id, record.line, event, record.method, url, sent.status,
                           sent.ms, sent.error)
            if sent.status is None and sent.error != "timed out":
                raise UnreachableError(f"{url} is unreachable: {sent.error}",
                                       "start your server, or fix --to")
