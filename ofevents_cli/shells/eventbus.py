"""The EventBus client shell: the socket, the clock and the timers around a core `Session`.

`stream()` yields the session's values (states, events, gaps, problems) and never prints.
Every rule (the hello, the resume point, gaps, deadlines, retry or stop, backoff) is the
session's (core/session.py); this module only moves frames and time between it and the
network. By default an event counts as delivered, and moves the resume point, once the
consumer asks for the next value, so a reconnect neither loses nor repeats one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import socket
from collections.abc import AsyncGenerator
from typing import Any

from ofevents_cli import __version__
from ofevents_cli.core import frames
from ofevents_cli.core.session import (
    Blocked,
    Closed,
    Ending,
    Failed,
    Refused,
    Session,
    Stop,
    backoff,
    close_reason,
)
from ofevents_cli.core.stream import (
    ClientSettings,
    Connected,
    Connecting,
    Disconnected,
    EventReceived,
    Gap,
    Problem,
    Reconnecting,
    Update,
)
from ofevents_cli.errors import InputError

__all__ = [
    "DEFAULT_URL",
    "Blocked",
    "ClientSettings",
    "Connected",
    "Connecting",
    "Disconnected",
    "EventReceived",
    "Gap",
    "Problem",
    "Reconnecting",
    "Update",
    "backoff",
    "close_reason",
    "stream",
]

DEFAULT_URL = "ws://127.0.0.1:8765/v1/events"
CLIENT = f"ofevents/{__version__}"
# once the consumer has all it wants (`listen --max-events`): how long the close handshake
# may take. A server still streaming a backlog answers our close only after it, and
# websockets' default (10 s) would hold the exit that long; the close frame is sent anyway.
LEAVE_TIMEOUT = 0.1


def _describe(exc: OSError) -> str:
    """A short reason for a failed connection attempt."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found (DNS)"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


@functools.cache
def _connect() -> Any:
    """websockets' `connect`, except that a redirect is reported (InvalidStatus), never
    followed: the session decides what a 3xx means (core/session.py says why)."""
    from websockets.asyncio.client import connect

    class NoRedirects(connect):
        def process_redirect(self, exc: Exception) -> Exception | str:
            return exc

    return NoRedirects


class _Watch:
    """Runs the session's timers beside the reader: sends its pings, and cuts the connection
    when it gives up (no `ready` in time, a ping unanswered)."""

    def __init__(self, ws: Any, session: Session) -> None:
        self.waiting = True  # False while the consumer holds the stream
        self._ws, self._session = ws, session
        self._loop = asyncio.get_running_loop()
        self._rearm = asyncio.Event()
        self._task = self._loop.create_task(self._run())

    def rearm(self) -> None:
        """The session's deadline may have moved earlier (it became ready)."""
        self._rearm.set()

    def stop(self) -> None:
        self._task.cancel()

    async def _sleep_until(self, deadline: float | None) -> None:
        timeout = None if deadline is None else max(0.0, deadline - self._loop.time())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._rearm.wait(), timeout)
        self._rearm.clear()

    async def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed

        session = self._session
        try:
            while True:
                await self._sleep_until(session.deadline)
                ping = session.on_timer(self._loop.time(), self.waiting)
                if session.dropped:
                    self._ws.transport.abort()  # the reader sees 1006; the session knows why
                    return
                if ping is not None:
                    pong = asyncio.ensure_future(await self._ws.ping(str(ping.t)))
                    pong.add_done_callback(functools.partial(self._ponged, ping.t))
                    await self._ws.send(frames.encode(ping))
        except ConnectionClosed:
            return

    def _ponged(self, t: int, waiter: asyncio.Future[float]) -> None:
        if not waiter.cancelled() and waiter.exception() is None:
            self._session.pong(t)


def _ending(exc: Exception) -> Ending:
    """How a connection ended, from what websockets or the OS raised."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    if isinstance(exc, ConnectionClosed):
        closed = exc.rcvd or exc.sent
        return Closed(closed.code, closed.reason) if closed else Closed(1006, "connection lost")
    if isinstance(exc, InvalidStatus):
        return Refused(exc.response.status_code, exc.response.headers.get("Location"))
    if isinstance(exc, InvalidHandshake):
        return Failed(f"handshake failed: {exc}")
    if isinstance(exc, OSError):
        return Failed(_describe(exc))
    return Failed("timed out")  # asyncio.TimeoutError, not an OSError before Python 3.11


async def stream(settings: ClientSettings, rng: random.Random | None = None, *,
                 session: Session | None = None) -> AsyncGenerator[Update, None]:
    """Tail the EventBus until a fatal ending, no retries left, or the consumer stops.

    Pass a `session` built with `acknowledge_on_delivery=False` to move the resume point
    yourself (`session.acknowledge(id)` once an event is safely stored).
    """
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
    from websockets.uri import parse_uri

    try:
        parse_uri(settings.url)
    except (InvalidURI, ValueError) as exc:
        raise InputError(f"not a WebSocket URL: {settings.url} ({exc})",
                         "use ws://host:port/v1/events (--url or OFEVENTS_EVENTBUS_URL)") from None
    from ofevents_cli.shells.http_client import proxy

    via = proxy(settings.url)  # the environment's for a remote EventBus, never for loopback
    session = session or Session(settings, rng or random.Random(), CLIENT)
    loop = asyncio.get_running_loop()
    yield Connecting(settings.url)
    while True:
        try:
            async with _connect()(settings.url, max_size=frames.MAX_FRAME, compression=None,
                                  open_timeout=settings.open_timeout, ping_interval=None,
                                  proxy=via, user_agent_header=CLIENT) as ws:
                await ws.send(frames.encode(session.opened(loop.time())))
                watch = _Watch(ws, session)
                try:
                    while True:
                        watch.waiting = True
                        raw = await ws.recv()
                        watch.waiting = False
                        for value in session.receive(frames.decode_server(raw), loop.time()):
                            yield value
                            if type(value) is EventReceived:  # the consumer took it
                                session.delivered(value.event.id)
                            elif type(value) is Connected:
                                watch.rearm()
                except GeneratorExit:  # the consumer stopped: leave without waiting
                    ws.close_timeout = LEAVE_TIMEOUT
                    raise
                finally:
                    watch.stop()
        except (ConnectionClosed, InvalidHandshake, OSError, asyncio.TimeoutError) as exc:
            ending = _ending(exc)
        verdict = session.ended(ending, loop.time())
        if isinstance(verdict, Stop):
            yield Disconnected(verdict.reason)
            raise verdict.error
        yield verdict
        await asyncio.sleep(verdict.delay)
