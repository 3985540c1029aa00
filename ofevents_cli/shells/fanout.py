"""Fan-out: each event to every route it matches and to every sink (stripe-cli's
EndpointRoutes is the model), and the resume point held at what all of them have finished.

Every route and sink has its own bounded backlog and keeps each account's events in order,
so a slow or dead one never blocks the stream or another one. An event counts as handled
once every sink it went to reported a final outcome; the EventBus session is told so
(`Session.acknowledge`), and after a reconnect it resumes after the last event handled, with
none missing before it. The server then replays what was still in flight: those events are
known here, so they are neither shown nor handed to a sink a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from ofevents_cli.core import frames
from ofevents_cli.core.routes import Route
from ofevents_cli.core.session import Session
from ofevents_cli.core.sink_urls import RedisSpec
from ofevents_cli.core.sinks import (
    Delivered,
    Dropped,
    Failed,
    Item,
    Report,
    Retrying,
    Sink,
    SinkResult,
    SinkState,
    Stored,
    Unrouted,
)
from ofevents_cli.core.stream import ClientSettings
from ofevents_cli.shells import forwarder as http

__all__ = ["WINDOW", "Fanout", "Plan", "RouteSink", "start"]

# how far the resume point may fall behind the newest event: the server's replay buffer.
# Further back a reconnect would get a gap anyway, so an event still in a backlog then is
# acknowledged early (it stays in that backlog and is still delivered or stored).
WINDOW = 10_000
FINAL = (Delivered, Failed, Dropped, Stored)  # the outcomes that end an event's stay in a sink


@dataclass(frozen=True)
class Plan:
    """What `listen` fans out to: routes (each with its webhook settings), Redis sinks, and
    whether to resume after the newest event stored in the first sink's stream."""

    routes: tuple[tuple[Route, http.ForwardSettings], ...] = ()
    sinks: tuple[RedisSpec, ...] = ()
    resume_auto: bool = False
    retry: tuple[float, float] = (0.1, 5.0)  # Redis: first and longest wait between tries


class RouteSink:
    """A route as a sink: the `listen --forward-to` forwarder (per-account order, bounded
    backlog, retries), its outcomes reported as sink results."""

    def __init__(self, settings: http.ForwardSettings, report: Report) -> None:
        self.label = settings.url
        self._report = report
        self.forwarder = http.Forwarder(settings, self._outcome)

    def submit(self, item: Item) -> None:
        """Queue an event (a full backlog reports it dropped)."""
        assert item.source is not None, "a route takes EventBus events"
        self.forwarder.submit(item.source)

    def _outcome(self, d: http.Delivered) -> None:
        e = d.event
        result: SinkResult
        if d.dropped:
            result = Dropped(d.url, e.id, e.event, e.account_id, d.error or "not sent")
        elif d.ok:
            assert d.status is not None
            result = Delivered(d.url, e.id, e.event, e.account_id, d.status, d.ms, d.attempt)
        elif d.retry_in is not None:
            result = Retrying(d.url, e.id, e.event, e.account_id, d.status, d.ms, d.attempt,
                              d.retry_in, d.error)
        else:
            result = Failed(d.url, e.id, e.event, e.account_id, d.status, d.ms, d.attempt,
                            d.error)
        self._report(result)

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s) for queued deliveries."""
        await self.forwarder.drain(timeout)

    pressing = False  # a route never holds the stream up: a full backlog drops, by name

    async def room(self) -> None:
        """Never needed (see `pressing`)."""

    async def aclose(self) -> None:
        """Stop; what was not delivered is reported dropped."""
        await self.forwarder.aclose()


class Fanout:
    """Routes and sinks behind one `submit`; `show` gets every result and state."""

    def __init__(self, show: Report, session: Session | None = None,
                 window: int = WINDOW) -> None:
        self.show = show
        self.session = session
        self.window_size = window
        self.outlets: list[tuple[Route | None, Sink]] = []  # a route, or None: every event
        self.routed = False
        # events taken and not yet behind the resume point -> the outlets still owing them
        self.window: OrderedDict[str, set[int]] = OrderedDict()

    def add(self, route: Route | None, make: Callable[[Report], Sink]) -> Sink:
        """An outlet: `make` builds it with the reporter it must send its results to; with a
        `route` it gets the events that match, without one every event."""
        number = len(self.outlets)

        def report(value: SinkResult | SinkState) -> None:
            if isinstance(value, FINAL):
                owing = self.window.get(value.item)
                if owing is not None and number in owing:
                    owing.discard(number)
                    if not owing:
                        self._handled(value.item)
            self.show(value)

        sink = make(report)
        self.outlets.append((route, sink))
        self.routed = self.routed or route is not None
        return sink

    def replayed(self, event: frames.Event) -> bool:
        """True for an event taken before (the server replays it after a reconnect): it is
        not shown or handed out again; if it is handled already, the session hears so again."""
        owing = self.window.get(event.id)
        if owing is None:
            return False
        if not owing:
            self._handled(event.id)
        return True

    def submit(self, item: Item) -> None:
        """Hand a new event (or delivery) to every route that matches and every sink."""
        chosen = [n for n, (route, _) in enumerate(self.outlets)
                  if route is None or route.matches(item.event, item.account)]
        owing = set(chosen)
        self.window[item.id] = owing
        if self.routed and not any(self.outlets[n][0] is not None for n in chosen):
            self.show(Unrouted(item.id, item.event, item.account))
        for n in chosen:
            self.outlets[n][1].submit(item)
        if not owing:
            self._handled(item.id)
        while len(self.window) > self.window_size:
            oldest, _ = self.window.popitem(last=False)
            if self.session is not None:
                self.session.acknowledge(oldest)

    @property
    def pressing(self) -> bool:
        """An outlet is working but far behind (a Redis sink during a fast replay)."""
        return any(sink.pressing for _, sink in self.outlets)

    async def room(self) -> None:
        """Wait for every pressing outlet to catch up (the server holds the events)."""
        for _, sink in self.outlets:
            if sink.pressing:
                await sink.room()

    def _handled(self, event_id: str) -> None:
        """Every outlet is done with this event: move the resume point if it can move."""
        session = self.session
        if session is None:
            self.window.pop(event_id, None)
            return
        session.acknowledge(event_id)
        point = session.resume_point
        if point is not None and point in self.window:
            while self.window:
                if self.window.popitem(last=False)[0] == point:
                    break

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s, for all together) for what every outlet holds."""
        await asyncio.gather(*(sink.drain(timeout) for _, sink in self.outlets))

    async def aclose(self) -> None:
        """Stop every outlet; what they still hold is reported dropped."""
        for _, sink in self.outlets:
            with contextlib.suppress(Exception):
                await sink.aclose()


async def start(plan: Plan, client: ClientSettings, show: Callable[[object], None],
                stack: contextlib.AsyncExitStack, session_client: str
                ) -> tuple[Fanout, ClientSettings, Session]:
    """Build the fan-out of `plan` (closed when `stack` is); with `resume_auto`, read where
    to resume from the first sink's stream. The settings and session to stream with."""
    from ofevents_cli.core.masking import mask
    from ofevents_cli.shells.listener import Note

    if plan.resume_auto:
        client = replace(client, resume=await _stored_resume(plan.sinks[0], show))
    session = Session(client, random.Random(), session_client, acknowledge_on_delivery=False)
    fanout = Fanout(show, session)
    stack.push_async_callback(fanout.aclose)
    for route, settings in plan.routes:
        fanout.add(route, functools.partial(RouteSink, settings))
        show(Note(f"route {route.describe()} ({settings.scheme}, secret "
                  f"{mask(settings.secret)})"))
    if plan.sinks:
        from ofevents_cli.shells.redis_sink import RedisSink

        first, longest = plan.retry
        for spec in plan.sinks:
            fanout.add(None, functools.partial(RedisSink, spec, first_retry=first,
                                               max_retry=longest,
                                               resume=lambda: session.resume_point))
            show(Note(f"storing in {spec.label} (maxlen ~{spec.maxlen or 'unlimited'})"))
    return fanout, client, session


async def _stored_resume(spec: RedisSpec, show: Callable[[object], None]) -> str | None:
    """`--resume auto`: where the last listener on this stream had finished, else the
    newest event in it (exit 3 when Redis is down)."""
    from ofevents_cli.shells.listener import Note
    from ofevents_cli.shells.redis_client import connect, reachable
    from ofevents_cli.shells.redis_sink import resume_point

    client = connect(spec)
    try:
        await reachable(spec, client, "--sink")
        point = await resume_point(spec, client)
    finally:
        await client.aclose()
    show(Note(f"resuming after {point} (recorded in {spec.label})" if point else
              f"{spec.label} holds no event yet: starting from the live edge"))
    return point
