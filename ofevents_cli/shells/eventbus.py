"""The EventBus client: connect, hello, read, reconnect with backoff and resume.

`stream()` yields domain values (states, events, gaps, problems) and never prints. An event
counts as delivered once the consumer asks for the next value, and only delivered events move
the resume point, so a reconnect neither loses nor repeats one.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from ofevents_cli import __version__
from ofevents_cli.core import frames
from ofevents_cli.errors import (
    CredentialsError,
    ExitCode,
    InputError,
    OfeventsError,
    UnreachableError,
)

DEFAULT_URL = "ws://127.0.0.1:8765/v1/events"
CLOSE_TOO_BIG = 1009  # a frame larger than frames.MAX_FRAME


@dataclass(frozen=True)
class ClientSettings:
    """Where to connect, what to ask for, and the reconnection policy (protocol doc)."""

    url: str
    api_key: str
    ws_token: str
    subscribe: tuple[str, ...] = ()
    accounts: tuple[str, ...] | None = None
    resume: str | None = None
    max_retries: int | None = None  # None = unlimited, 0 = never reconnect
    initial_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    reset_after: float = 10.0
    open_timeout: float = 10.0


@dataclass(frozen=True)
class Connecting:
    """The first connection attempt has started."""

    url: str


@dataclass(frozen=True)
class Connected:
    """The server answered the hello."""

    session: str
    resumed: bool


@dataclass(frozen=True)
class EventReceived:
    """One event, ready to be delivered."""

    event: frames.Event


@dataclass(frozen=True)
class Gap:
    """Events were lost: the resume point `after` could not be honoured."""

    after: str | None
    reason: str


@dataclass(frozen=True)
class Problem:
    """Something odd the stream survived: a malformed frame, an error frame."""

    message: str


@dataclass(frozen=True)
class Reconnecting:
    """The connection ended; the next attempt starts after `delay` seconds."""

    delay: float
    attempt: int
    reason: str


@dataclass(frozen=True)
class Disconnected:
    """The stream is over (the command ends next)."""

    reason: str


Update = Connecting | Connected | EventReceived | Gap | Problem | Reconnecting | Disconnected


def backoff(attempt: int, settings: ClientSettings, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_delay, initial_delay * factor ** (attempt - 1))],
    so the first reconnect waits at most `initial_delay`."""
    ceiling = min(settings.max_delay, settings.initial_delay * settings.factor ** (attempt - 1))
    return rng.uniform(0, ceiling)


def close_reason(code: int | None, reason: str) -> str:
    """`closed 1012 (drop-every)`, or the transport failure when there was no close."""
    if code is None:
        return reason
    return f"closed {code}" + (f" ({reason})" if reason else "")


@dataclass
class _Outcome:
    """How one connection ended."""

    code: int | None = None
    reason: str = ""
    retry_after: float | None = None


class Blocked(OfeventsError):
    """The same event is too large for a frame again after a resume: waiting cannot help."""

    exit_code = ExitCode.FAILURES


def _describe(exc: OSError) -> str:
    """A short reason for a failed connection attempt."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found (DNS)"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def _fail(outcome: _Outcome) -> CredentialsError | InputError:
    """The error a fatal close code (4001, 4003, 4400) ends the stream with."""
    what = frames.FATAL_CLOSES[outcome.code or 0]
    if outcome.code == frames.CLOSE_PROTOCOL:
        return InputError(f"{what}: {outcome.reason}", "check --event and --account")
    hint = ("check --api-key/--ws-token (or BFL_API_KEY/BFL_WS_TOKEN)"
            if outcome.code == frames.CLOSE_BAD_CREDENTIALS
            else "check --account: use ids of accounts your key manages")
    return CredentialsError(f"{what} (close code {outcome.code})", hint)


def _refused(url: str, status: int) -> CredentialsError | UnreachableError:
    """A handshake answered 4xx will be answered the same way again: fatal, not retried."""
    if status == 401:
        return CredentialsError(f"EventBus at {url} refused the connection (HTTP 401)",
                                "check --api-key/--ws-token (or BFL_API_KEY/BFL_WS_TOKEN)")
    return UnreachableError(f"no EventBus at {url} (the handshake got HTTP {status})",
                            "check --url (or OFEVENTS_EVENTBUS_URL): the path is usually "
                            "/v1/events" + ("; or the credentials" if status == 403 else ""))


async def stream(settings: ClientSettings, rng: random.Random | None = None
                 ) -> AsyncGenerator[Update, None]:
    """Tail the EventBus until a fatal close, no retries left, or the consumer stops.

    One generator (not one per connection): every event passes through a single `yield`.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import (
        ConnectionClosed,
        InvalidHandshake,
        InvalidStatus,
        InvalidURI,
    )
    from websockets.uri import parse_uri

    try:
        parse_uri(settings.url)
    except (InvalidURI, ValueError) as exc:
        raise InputError(f"not a WebSocket URL: {settings.url} ({exc})",
                         "use ws://host:port/v1/events (--url or OFEVENTS_EVENTBUS_URL)") from None
    rng = rng or random.Random()
    last_id = settings.resume  # the last *delivered* event: the resume point
    attempt = 0
    too_big_after: list[str | None] = []  # the resume point of the last 1009, if any
    yield Connecting(settings.url)
    while True:
        outcome = _Outcome()
        ready_at: float | None = None  # when the server accepted the hello
        try:
            async with connect(settings.url, max_size=frames.MAX_FRAME, compression=None,
                               open_timeout=settings.open_timeout, proxy=None,
                               user_agent_header=f"ofevents/{__version__}") as ws:
                await ws.send(frames.encode(frames.Hello(
                    settings.api_key, settings.ws_token, settings.subscribe, settings.accounts,
                    last_id, f"ofevents/{__version__}")))
                unresumed: str | None = None
                start: str | None = None  # where the server says this session starts
                async for raw in ws:
                    frame = frames.decode_server(raw)
                    if isinstance(frame, frames.Event):
                        if unresumed is not None:
                            yield Gap(unresumed, "not_resumed")
                            unresumed = None
                        start = None
                        yield EventReceived(frame)
                        last_id = frame.id  # reached only once the consumer took the event
                    elif isinstance(frame, frames.Ready):
                        ready_at = ready_at or time.monotonic()
                        yield Connected(frame.session, frame.resumed)
                        start = frame.last
                        if last_id is not None and not frame.resumed:
                            unresumed = last_id
                        elif last_id is None:
                            last_id = start  # so a drop before the first event loses none
                    elif isinstance(frame, frames.Gap):
                        unresumed = None
                        yield Gap(frame.after, frame.reason)
                        last_id = start or last_id  # the loss is reported: go on from here
                    elif isinstance(frame, frames.ErrorFrame):
                        outcome.retry_after = frame.retry_after
                        yield Problem(f"server error {frame.code}: {frame.message}")
                    elif isinstance(frame, frames.Malformed):
                        yield Problem(f"malformed frame skipped: {frame.reason}")
            outcome.code, outcome.reason = ws.close_code, ws.close_reason or ""
        except ConnectionClosed as exc:
            closed = exc.rcvd or exc.sent
            outcome.code = closed.code if closed else 1006
            outcome.reason = closed.reason if closed else "connection lost"
        except InvalidStatus as exc:
            status = exc.response.status_code
            if 400 <= status < 500 and status not in (408, 429):
                yield Disconnected(f"handshake refused: HTTP {status}")
                raise _refused(settings.url, status) from None
            outcome.reason = f"handshake failed: {exc}"
        except InvalidHandshake as exc:
            outcome.reason = f"handshake failed: {exc}"
        except (OSError, TimeoutError) as exc:
            outcome.reason = _describe(exc)
        reason = close_reason(outcome.code, outcome.reason)
        if outcome.code in frames.FATAL_CLOSES:
            yield Disconnected(reason)
            raise _fail(outcome)
        if outcome.code == CLOSE_TOO_BIG and too_big_after == [last_id]:
            yield Disconnected(reason)
            raise Blocked(f"the event after {last_id or 'the start'} is larger than "
                          f"{frames.MAX_FRAME} bytes, again after a resume: it blocks the stream",
                          "ask the server's operator to check that event; --resume a later id")
        too_big_after = [last_id] if outcome.code == CLOSE_TOO_BIG else []
        if ready_at is not None and time.monotonic() - ready_at >= settings.reset_after:
            attempt = 0
        attempt += 1
        if settings.max_retries is not None and attempt > settings.max_retries:
            yield Disconnected(reason)
            raise UnreachableError(f"EventBus at {settings.url}: {reason}, no retries left",
                                   "is the server running? (--url, OFEVENTS_EVENTBUS_URL; "
                                   "--max-retries)")
        delay = backoff(attempt, settings, rng)
        if outcome.code == frames.CLOSE_RATE_LIMITED and outcome.retry_after is not None:
            delay = max(0.0, min(outcome.retry_after, settings.max_delay))
        yield Reconnecting(delay, attempt, reason)
        await asyncio.sleep(delay)
