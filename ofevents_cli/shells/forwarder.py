"""`listen --forward-to`: each event POSTed as a signed webhook, without slowing the stream.

Events wait in one bounded backlog; each account has its own worker, so one account's events
arrive in order while accounts proceed in parallel. Failures are retried with backoff.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ofevents_cli import __version__
from ofevents_cli.core import frames
from ofevents_cli.core import providers as registry
from ofevents_cli.core.signing import sign
from ofevents_cli.core.sinks import event_body
from ofevents_cli.errors import InputError
from ofevents_cli.shells import clock

if TYPE_CHECKING:
    import aiohttp


@dataclass(frozen=True)
class ForwardSettings:
    """Where to deliver, how to sign, and the retry policy."""

    url: str
    secret: str
    provider: str = "eventbus"
    attempts: int = 5
    initial_delay: float = 0.5
    backlog: int = 1000
    timeout: float = 10.0  # seconds per attempt (--forward-timeout)
    insecure: bool = False  # an https:// target with a self-signed certificate
    cacert: str | None = None

    @property
    def scheme(self) -> str:
        """The provider's signing scheme."""
        return registry.provider(self.provider).schemes[0]


@dataclass(frozen=True)
class Delivered:
    """One delivery attempt: its answer (`status`) or transport `error`."""

    event: frames.Event
    url: str
    status: int | None
    ms: float
    attempt: int
    error: str | None = None
    retry_in: float | None = None  # None: no further attempt
    dropped: bool = False  # the backlog was full; never sent

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """This event will not be delivered."""
        return not self.ok and self.retry_in is None


def webhook_headers(scheme: str, secret: str, body: bytes, msg_id: str,
                    agent: str = f"ofevents/{__version__}") -> list[tuple[str, str]]:
    """The headers of a signed webhook POST of `body`, signed now (also the worker's)."""
    return [("content-type", "application/json"), ("user-agent", agent),
            *sign(scheme, secret, body, msg_id=msg_id, timestamp=int(clock.now()))]


def check(settings: ForwardSettings) -> None:
    """InputError now rather than on the first event when the secret, the provider, the
    --cacert file or the proxy is unusable."""
    from ofevents_cli.shells.http_client import HttpSettings, proxy, tls

    tls(HttpSettings(settings.timeout, settings.insecure, settings.cacert))
    proxy(settings.url)
    scheme = registry.scheme(registry.provider(settings.provider).schemes[0])
    try:
        sign(scheme.name, settings.secret, b"{}", msg_id="evt_check", timestamp=0)
    except ValueError as exc:
        raise InputError(f"--secret cannot sign {scheme.name}: {exc}",
                         f"{scheme.name} secrets are {scheme.secret_form}") from None


class Forwarder:
    """Deliver events in the background; `report` is called with every attempt's outcome."""

    def __init__(self, settings: ForwardSettings, report: Callable[[Delivered], None]) -> None:
        # here, not at the top: `listen` without --forward-to starts faster
        from ofevents_cli.shells.http_client import HttpSettings, proxy, session

        self.settings = settings
        self.report = report
        self.proxy = proxy(settings.url)
        self.client: aiohttp.ClientSession = session(
            HttpSettings(settings.timeout, settings.insecure, settings.cacert))
        self.pending = 0
        self.queues: dict[str, deque[frames.Event]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, event: frames.Event) -> None:
        """Queue an event without waiting; when the backlog is full it is dropped and reported."""
        if self.pending >= self.settings.backlog:
            self.report(Delivered(event, self.settings.url, None, 0.0, 0,
                                  f"backlog of {self.settings.backlog} full", dropped=True))
            return
        self.pending += 1
        self.queues.setdefault(event.account_id, deque()).append(event)
        if event.account_id not in self.workers:
            self.workers[event.account_id] = asyncio.ensure_future(self._work(event.account_id))

    async def _work(self, account: str) -> None:
        queue = self.queues[account]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
                self.pending -= 1
        finally:
            del self.workers[account]

    async def _deliver(self, event: frames.Event) -> None:
        from ofevents_cli.shells.sender import send

        s = self.settings
        body = event_body(event)
        for attempt in range(1, s.attempts + 1):
            headers = webhook_headers(s.scheme, s.secret, body, event.id)
            try:
                sent = await send(self.client, "POST", s.url, headers, body, proxy=self.proxy)
            except ValueError as exc:  # an id no header can carry (CR, ESC, not latin-1, …):
                self.report(Delivered(event, s.url, None, 0.0, attempt,  # not this event,
                                      f"cannot be sent: {exc}"))  # the account's next ones
                return
            retry = s.initial_delay * 2 ** (attempt - 1) if attempt < s.attempts else None
            done = Delivered(event, s.url, sent.status, sent.ms, attempt, sent.error,
                             None if sent.ok else retry)
            self.report(done)
            if done.ok or retry is None:
                return
            await asyncio.sleep(retry)

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s) for queued deliveries to finish."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.workers and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(list(self.workers.values()), timeout=0.1)

    async def aclose(self) -> None:
        """Stop the workers, report every event still queued or in flight as not forwarded
        (the command then exits 1), and close the HTTP client."""
        for task in list(self.workers.values()):
            task.cancel()
        await asyncio.gather(*self.workers.values(), return_exceptions=True)
        for queue in self.queues.values():
            while queue:
                self.report(Delivered(queue.popleft(), self.settings.url, None, 0.0, 0,
                                      "listen ended before it was delivered", dropped=True))
                self.pending -= 1
        await self.client.close()
