"""`forward` with routes: which routes a delivery goes to, the headers each one gets, and the
copies sent to every matching route after the first (the first one's answer goes back to the
caller). Each copy goes out in the background as the delivery arrives, byte for byte (or
re-signed with the route's `secret`), with retries; at most `backlog` copies wait per route, so
a slow or dead route delays neither the caller's answer nor another route.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import aiohttp

from ofevents_cli.core.capture import Capture, CaptureRoute
from ofevents_cli.core.routes import Route
from ofevents_cli.core.sinks import (
    Delivered,
    Dropped,
    Failed,
    Report,
    Retrying,
    delivery_item,
)
from ofevents_cli.shells.sender import describe

if TYPE_CHECKING:
    from ofevents_cli.shells.fanout import Fanout

__all__ = ["Copies", "CopyJob", "Router", "matching_routes", "route_headers", "with_routes"]

RawHeaders = list[tuple[bytes, bytes]]
# (method, url, headers, body, timeout) -> the status; raises TimeoutError or aiohttp's errors
Exchange = Callable[[str, str, RawHeaders, bytes, float], Awaitable[int]]


def matching_routes(routes: Sequence[Route], event: str | None, account: str | None,
                    provider: str | None) -> tuple[Route, ...]:
    """The routes a delivery goes to, in order; a route with a `provider` takes only that
    provider's deliveries."""
    return tuple(r for r in routes if r.matches(event, account)
                 and (r.provider is None or r.provider == provider))


def route_headers(route: Route, capture: Capture, relayed: RawHeaders) -> RawHeaders | str:
    """The headers `route` gets: `relayed` (the end-to-end ones, as they came), or with a
    route `secret` the delivery re-signed for it (same scheme, fresh id and time); or why it
    cannot be re-signed."""
    if route.secret is None:
        return relayed
    from ofevents_cli.shells.relay import HOP_BY_HOP
    from ofevents_cli.shells.replay import resigned

    fresh = resigned(capture, (route.secret,))
    if isinstance(fresh, str):
        return fresh
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in fresh
            if k.lower() not in HOP_BY_HOP]


@dataclass(frozen=True)
class CopyJob:
    """One copy to send: the route, the full URL, the request, and what it is a copy of."""

    route: Route
    url: str
    method: str
    headers: RawHeaders
    body: bytes
    item: str
    event: str | None
    account: str | None


class Copies:
    """Sends copies and reports each attempt (as sink results named by the route's URL)."""

    def __init__(self, exchange: Exchange, report: Report, *, timeout: float,
                 attempts: int = 5, initial_delay: float = 0.5, backlog: int = 1000) -> None:
        self.exchange = exchange
        self.report = report
        self.timeout = timeout
        self.attempts, self.initial_delay, self.backlog = attempts, initial_delay, backlog
        self.waiting: dict[str, int] = {}
        self.stopping = asyncio.Event()
        self.sending: set[asyncio.Task[object]] = set()

    def stop(self) -> None:
        """No further attempts: copies waiting to retry give up now (reported dropped)."""
        self.stopping.set()

    def abort(self) -> None:
        """Stop every copy now, even mid-attempt (each is reported dropped)."""
        self.stopping.set()
        for task in self.sending:
            task.cancel()

    async def send(self, job: CopyJob) -> CaptureRoute:
        """Send one copy until it is delivered, fails for good or `forward` stops; the result
        for the capture line. Never raises (a cancelled copy is reported dropped)."""
        label = job.route.to
        if self.waiting.get(label, 0) >= self.backlog:
            reason = f"backlog of {self.backlog} copies full"
            self.report(Dropped(label, job.item, job.event, job.account, reason))
            return CaptureRoute(label, "copy", None, 0.0, 0, reason)
        self.waiting[label] = self.waiting.get(label, 0) + 1
        task = asyncio.current_task()
        if task is not None:
            self.sending.add(task)
        attempt, status, ms, error = 0, None, 0.0, None
        try:
            while True:
                attempt += 1
                status, ms, error = await self._attempt(job)
                if status is not None and 200 <= status < 300:
                    self.report(Delivered(label, job.item, job.event, job.account, status, ms,
                                          attempt))
                    return CaptureRoute(label, "copy", status, round(ms, 2), attempt)
                if attempt >= self.attempts or self.stopping.is_set():
                    self.report(Failed(label, job.item, job.event, job.account, status, ms,
                                       attempt, error))
                    return CaptureRoute(label, "copy", status, round(ms, 2), attempt, error)
                delay = self.initial_delay * 2 ** (attempt - 1)
                self.report(Retrying(label, job.item, job.event, job.account, status, ms,
                                     attempt, delay, error))
                if await self._stopped_within(delay):
                    raise asyncio.CancelledError
        except asyncio.CancelledError:
            reason = "forward stopped before this copy was delivered"
            self.report(Dropped(label, job.item, job.event, job.account, reason))
            return CaptureRoute(label, "copy", status, round(ms, 2), attempt, reason)
        finally:
            self.waiting[label] -= 1
            if task is not None:
                self.sending.discard(task)

    async def _attempt(self, job: CopyJob) -> tuple[int | None, float, str | None]:
        start = time.perf_counter()
        try:
            status = await self.exchange(job.method, job.url, job.headers, job.body,
                                         job.route.timeout or self.timeout)
        except asyncio.TimeoutError:
            return None, (time.perf_counter() - start) * 1000, "timed out"
        except (aiohttp.ClientError, OSError) as exc:
            return None, (time.perf_counter() - start) * 1000, describe(exc)
        except ValueError as exc:  # what no HTTP/1.1 request can carry (a header, a URL)
            return None, (time.perf_counter() - start) * 1000, f"cannot be sent: {exc}"
        return status, (time.perf_counter() - start) * 1000, None

    async def _stopped_within(self, delay: float) -> bool:
        """Sleep `delay` s; True when `stop` came first."""
        try:
            await asyncio.wait_for(self.stopping.wait(), delay)
        except asyncio.TimeoutError:
            return False
        return True


def with_routes(capture: Capture, answer: CaptureRoute | None,
                copies: Sequence[CaptureRoute]) -> Capture:
    """The capture line of a routed delivery: where it went (empty: unrouted)."""
    return replace(capture, routes=((answer,) if answer else ()) + tuple(copies))


async def _done(result: CaptureRoute) -> CaptureRoute:
    return result


class Router:
    """What the relay does with a delivery once its answer is known: the copies, the capture
    line (now, or once the copies finished) and the Redis sinks."""

    def __init__(self, copies: Copies, prefix: str, keep: Callable[[Capture], str | None],
                 report: Callable[[Any], None], fanout: Fanout | None = None) -> None:
        self.copies = copies
        self.prefix = prefix  # --path
        self._keep = keep  # writes a capture line: why that failed, or None
        self.report = report
        self.fanout = fanout
        self.copying: set[asyncio.Task[None]] = set()

    def keep(self, capture: Capture, answered: CaptureRoute | None, others: Sequence[Route],
             relayed: RawHeaders, routed: bool, event: str | None, account: str | None,
             provider: str | None) -> tuple[str | None, int]:
        """Capture (`routed`: with where it went) and store the delivery, and start a copy to
        each of `others`. (Why the capture line failed, or None; the number of copies.) With
        copies the line is written once they finished, and its failure reported then."""
        if self.fanout is not None:
            self.fanout.submit(delivery_item(
                capture.id, capture.received_at, capture.method, capture.path, capture.headers,
                capture.body, event, account, provider))
        if not others:
            return self._keep(with_routes(capture, answered, ()) if routed else capture), 0
        jobs: list[CopyJob | CaptureRoute] = []
        for route in others:
            headers = route_headers(route, capture, relayed)
            if isinstance(headers, str):  # cannot be re-signed: a result of its own
                jobs.append(CaptureRoute(route.to, "copy", None, 0.0, 0, headers))
                continue
            from ofevents_cli.shells.relay import join_url

            jobs.append(CopyJob(route, join_url(route.to, self.prefix, capture.path),
                                capture.method, headers, capture.body, capture.id, event,
                                account))
        task = asyncio.ensure_future(self._copy_then_keep(capture, answered, jobs))
        self.copying.add(task)
        task.add_done_callback(self.copying.discard)
        return None, len(jobs)

    async def _copy_then_keep(self, capture: Capture, answered: CaptureRoute | None,
                              jobs: list[CopyJob | CaptureRoute]) -> None:
        results = await asyncio.gather(*(
            self.copies.send(job) if isinstance(job, CopyJob) else _done(job) for job in jobs))
        lost = self._keep(with_routes(capture, answered, results))
        if lost is not None:
            from ofevents_cli.shells.relay import CaptureLost

            self.report(CaptureLost(capture.id, lost))
