"""The relay behind `forward`: a small ASGI app that records, verifies and relays each
delivery byte for byte to the target, and hands the caller the target's answer.

It never prints: it reports domain values (`Delivered`, `TargetDown`, …) on a queue that
`relay_server.run_relay` yields to a renderer. Deliveries are relayed concurrently; each is
captured (appended and flushed) before its answer goes back, so an answered delivery is on disk.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import (
    Capture,
    CaptureResponse,
    CaptureRoute,
    CaptureVerification,
    format_timestamp,
)
from ofevents_cli.core.request_target import request_problem
from ofevents_cli.core.routes import Route
from ofevents_cli.core.signing import detect_scheme, scheme_key, verify
from ofevents_cli.core.sinks import SinkResult, SinkState
from ofevents_cli.shells import clock, event_loop
from ofevents_cli.shells.capture_file import CaptureFile
from ofevents_cli.shells.copies import Copies, Router, matching_routes, route_headers
from ofevents_cli.shells.envelope import event_and_account
from ofevents_cli.shells.health import listening, target_address
from ofevents_cli.shells.http_client import LARGE_BODY
from ofevents_cli.shells.http_client import body as payload
from ofevents_cli.shells.tunnel import TunnelSettings
from ofevents_cli.shells.upstream import Upstream, handles

if TYPE_CHECKING:
    from ofevents_cli.core.sink_urls import RedisSpec
    from ofevents_cli.shells.fanout import Fanout

__all__ = [
    "HOP_BY_HOP",
    "UNROUTED",
    "AgentDownloading",
    "CaptureLost",
    "Delivered",
    "Ready",
    "Relay",
    "RelayEvent",
    "RelaySettings",
    "Stopping",
    "TargetDown",
    "TargetUp",
    "join_url",
    "usable_secrets",
]

MAX_BODY = 1024 * 1024
TARGET_TIMEOUT = 10.0
HEALTH_INTERVAL = 1.0
UNROUTED = 202  # what the caller gets for a delivery no route matches: captured, not relayed
# RFC 9110 7.6.1 hop-by-hop headers, plus the ones the next hop recomputes
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length",
    "expect",  # the relay already holds the whole body: no 100-continue with the target
})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]
T = TypeVar("T")


@dataclass(frozen=True)
class RelaySettings:
    """Everything `forward` needs; `target` is a full URL whose path (if any) prefixes paths
    ("" with routes only); `routes` come after it (the first that matches answers)."""

    target: str
    capture: Path
    port: int = 0
    path: str = ""
    secrets: tuple[str, ...] = ()
    provider: str | None = None
    reject_invalid: bool = False
    max_body: int = MAX_BODY
    timeout: float = TARGET_TIMEOUT
    tunnel: TunnelSettings = field(default_factory=lambda: TunnelSettings(kind="none"))
    insecure: bool = False  # an https:// target with a self-signed certificate
    cacert: str | None = None
    history: bool = False  # `capture` starts a history session (rotated by size)
    routes: tuple[Route, ...] = ()
    sinks: tuple[RedisSpec, ...] = ()
    copy_attempts: int = 5
    copy_delay: float = 0.5  # the first wait before a copy is tried again (doubling)

    @property
    def all_routes(self) -> tuple[Route, ...]:
        """`--to` (every delivery) first, then the routes."""
        first = (Route(("*",), self.target, label="--to"),) if self.target else ()
        return first + self.routes


@dataclass(frozen=True)
class AgentDownloading:
    """The ngrok agent is being downloaded (first run): this can take a while."""


@dataclass(frozen=True)
class Ready:
    """The relay listens (and the tunnel is up): what to paste into the provider's dashboard."""

    public_url: str | None
    local_url: str
    target: str | None  # None: routes only
    capture: Path
    history: bool = False
    routes: tuple[str, ...] = ()  # each route, described
    sinks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivered:
    """One delivery handled: its verdict (None when no secret is known) and the answer."""

    id: str | None
    received_at: float
    method: str
    path: str
    event: str | None
    provider: str | None
    valid: bool | None
    reason: str | None
    status: int | None  # None: the caller hung up, nothing was answered
    ms: float
    error: str | None = None
    capture_error: str | None = None
    route: str | None = None  # with --route: the route that answered (None: none did)
    copies: int = 0  # other routes that get a copy
    unrouted: bool = False  # routes were given and none matches: answered 202, not relayed


@dataclass(frozen=True)
class CaptureLost:
    """A routed delivery's capture line (written once its copies finished) failed."""

    id: str
    error: str


@dataclass(frozen=True)
class TargetDown:
    """Nothing listens on the target: deliveries get 502 until it starts."""

    target: str


@dataclass(frozen=True)
class TargetUp:
    """The target accepts connections again."""

    target: str


@dataclass(frozen=True)
class Stopping:
    """Shutdown began: no new deliveries; `in_flight` are being finished."""

    in_flight: int


RelayEvent = Union[  # noqa: UP007 - a runtime alias must work on 3.10
    AgentDownloading, Ready, Delivered, TargetDown, TargetUp, Stopping, CaptureLost,
    SinkResult, SinkState]


def join_url(target: str, prefix: str, raw_path: str) -> str:
    """The URL a delivery goes to: target origin + target path + `--path` + the request path."""
    origin, base = _split(target, prefix)
    path, _, query = raw_path.partition("?")
    if base and path == "/":
        path = ""
    full = base + path or "/"
    return origin + full + (f"?{query}" if query else "")


@functools.lru_cache(maxsize=16)
def _split(target: str, prefix: str) -> tuple[str, str]:
    """(origin, path prefix) of a target (a URL `parse_target` made), parsed once."""
    url = urlsplit(target)
    return f"{url.scheme}://{url.netloc}", url.path.rstrip("/") + prefix.rstrip("/")


def _origin(url: str) -> str:
    """scheme://host:port of a URL (what its proxy depends on)."""
    return "/".join(url.split("/", 3)[:3])


async def _within(seconds: float, work: Awaitable[T]) -> T:
    """`work`, or TimeoutError after `seconds` (asyncio.timeout spares wait_for's extra task)."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await work
    return await asyncio.wait_for(work, seconds)  # pragma: no cover - 3.10


class Relay:
    """The ASGI app plus the target's health watch; it reports through `queue`."""

    def __init__(self, settings: RelaySettings, client: aiohttp.ClientSession,
                 capture: CaptureFile, queue: asyncio.Queue[RelayEvent],
                 fanout: Fanout | None = None) -> None:
        from ofevents_cli.shells.http_client import proxy

        self.settings = settings
        self.client = client
        self.upstream = Upstream()
        self.capture = capture
        self.queue = queue
        self.routes = settings.all_routes
        # each target's proxy, read once (None for a loopback one)
        self.proxies = {_origin(r.to): proxy(r.to) for r in self.routes}
        self.router = Router(
            Copies(self._copy_exchange, queue.put_nowait, timeout=settings.timeout,
                   attempts=settings.copy_attempts, initial_delay=settings.copy_delay),
            settings.path, self._keep, queue.put_nowait, fanout)
        self.host, self.port = target_address(settings.target) if settings.target else ("", 0)
        self.label = f"{self.host}:{self.port}"
        self.watch: asyncio.Task[None] | None = None
        self.in_flight = 0
        self.handlers: set[asyncio.Task[Any]] = set()
        self.aborting = False

    def abort(self) -> None:
        """Stop waiting for the target (a second Ctrl+C): each delivery still waiting is
        answered and captured as 503 at once."""
        self.aborting = True
        self.router.copies.abort()
        for task in self.handlers:
            task.cancel()

    async def check_target(self) -> None:
        """Say so at once when nothing listens yet, and watch until it does."""
        if self.port and not await listening(self.host, self.port):
            self.target_down()

    def target_down(self) -> None:
        """Report the target down once, then poll until it answers again."""
        if self.watch is None or self.watch.done():
            self.queue.put_nowait(TargetDown(self.label))
            self.watch = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while not await listening(self.host, self.port):
            await asyncio.sleep(HEALTH_INTERVAL)
        self.queue.put_nowait(TargetUp(self.label))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP exchange (lifespan is off; nothing else reaches here)."""
        if scope["type"] != "http":
            return
        self.in_flight += 1
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)
        try:
            await self._handle(scope, receive, send)
        finally:
            self.in_flight -= 1
            if task is not None:
                self.handlers.discard(task)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = clock.now()
        raw_headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers)
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            raw_path += "?" + scope["query_string"].decode("latin-1")
        method = scope["method"]
        record = functools.partial(  # the capture record, once its body is known
            Capture, id=clock.new_id("dlv"), received_at=format_timestamp(received),
            method=method, path=raw_path, headers=headers, remote=_remote(scope))
        body = await _read_body(receive, raw_headers, self.settings.max_body)
        if isinstance(body, _Cut):
            self._unanswered(record(body=body.body, truncated=True), received, body)
            return
        if body is None:
            capture = record(body=b"", response=CaptureResponse(413, 0.0), truncated=True)
            lost = self._keep(capture)
            await _answer(send, 413, [], b"request body over the relay's --max-body limit\n")
            self.queue.put_nowait(Delivered(capture.id, received, method, raw_path, None, None,
                                            None, None, 413, 0.0, "body too large", lost))
            return
        provider, valid, reason, scheme = self._verdict(body, headers, received)
        event, account = event_and_account(body)
        chosen = matching_routes(self.routes, event, account, provider)
        answer_headers: RawHeaders = []
        relayed_headers = _end_to_end(raw_headers)
        refused = request_problem(method, raw_path)
        relayed = False
        if refused is not None:  # never a URL to follow: the caller must not pick the host
            status, answer, ms, error = 400, f"{refused} (ofevents relay)\n".encode(), 0.0, refused
        elif self.settings.reject_invalid and valid is False:
            status, answer, ms, error = (
                401, b"invalid signature (ofevents forward --reject-invalid)\n", 0.0, None)
        elif not chosen:
            status, answer, ms, error = (UNROUTED, b"no route matches this delivery (ofevents "
                                         b"forward): captured, not relayed\n", 0.0, "unrouted")
        else:
            relayed = True
            sent = relayed_headers if chosen[0].secret is None else route_headers(
                chosen[0], record(body=body), relayed_headers)  # re-signed for the route
            status, answer_headers, answer, ms, error = await self._relay(
                method, raw_path, sent, body, chosen[0])
        verification = (CaptureVerification(scheme, valid, reason) if valid is not None
                        else None)
        capture = record(body=body, response=CaptureResponse(status, round(ms, 2)),
                         verification=verification)
        answered = CaptureRoute(chosen[0].to, "answer", status, round(ms, 2), 1, error
                                ) if relayed else None
        routed = bool(self.settings.routes) and refused is None and (relayed or not chosen)
        lost, copies = self.router.keep(capture, answered, chosen[1:] if relayed else (),
                                        relayed_headers, routed, event, account,
                                        provider)
        if _framed_twice(raw_headers):  # RFC 9112 6.1: close after answering such a request
            answer_headers = [*answer_headers, (b"connection", b"close")]
        await _answer(send, status, answer_headers, answer)
        self.queue.put_nowait(Delivered(
            capture.id, received, method, raw_path, event, provider, valid, reason, status, ms,
            error, lost, chosen[0].to if relayed and self.settings.routes else None, copies,
            bool(self.settings.routes) and not chosen))

    async def _copy_exchange(self, method: str, url: str, headers: RawHeaders, body: bytes,
                             timeout: float) -> int:
        status, _, _ = await self._exchange(method, url, headers, body, timeout)
        return status

    def _unanswered(self, capture: Capture, received: float, cut: _Cut) -> None:
        """The caller hung up before its body was complete: nothing is relayed or answered;
        what arrived (`capture`, truncated) is captured, so no reader takes it for a
        delivery."""
        lost = self._keep(capture)
        declared = f" of {cut.declared}" if cut.declared is not None else ""
        error = f"the caller hung up after {len(cut.body)}{declared} body bytes: not relayed"
        self.queue.put_nowait(Delivered(capture.id, received, capture.method, capture.path,
                                        None, None, None, None, None, 0.0, error, lost))

    def _keep(self, capture: Capture) -> str | None:
        """Append `capture`; why that failed (the delivery is still answered), or None."""
        try:
            self.capture.append(capture)
        except OSError as exc:
            return f"{self.capture.path}: {exc.strerror or exc}"
        return None

    def _verdict(self, body: bytes, headers: tuple[tuple[str, str], ...], now: float
                 ) -> tuple[str | None, bool | None, str | None, str | None]:
        """(provider, valid, reason, scheme); valid is None when no secret is known."""
        settings = self.settings
        scheme = detect_scheme(headers, settings.provider)
        provider = registry.owner(scheme).name if scheme else settings.provider
        if not settings.secrets:
            return provider, None, None, scheme
        verdict = verify(body, headers, usable_secrets(scheme, settings.secrets), now=now,
                         scheme=scheme, provider=settings.provider)
        reason = verdict.reason.value if verdict.reason else None
        return provider, verdict.valid, reason, verdict.scheme

    async def _relay(self, method: str, raw_path: str, headers: RawHeaders | str, body: bytes,
                     route: Route) -> tuple[int, RawHeaders, bytes, float, str | None]:
        """Send to the route; its answer, or 502 (down or not re-signable) / 504 (too slow)."""
        if isinstance(headers, str):
            return 502, [], f"{headers} (ofevents relay)\n".encode(), 0.0, headers
        url = join_url(route.to, self.settings.path, raw_path)
        start = time.perf_counter()
        try:
            status, answer_headers, answer = await self._exchange(
                method, url, headers, body, route.timeout or self.settings.timeout)
        except asyncio.TimeoutError:
            ms = (time.perf_counter() - start) * 1000
            return 504, [], b"the target did not answer in time (ofevents relay)\n", ms, "timed out"
        except asyncio.CancelledError:
            if not self.aborting:
                raise
            event_loop.uncancel()
            ms = (time.perf_counter() - start) * 1000
            return (503, [], b"ofevents forward stopped before the target answered\n", ms,
                    "stopped (second Ctrl+C)")
        except (aiohttp.ClientError, OSError) as exc:
            from ofevents_cli.shells.sender import describe, unreachable

            ms = (time.perf_counter() - start) * 1000
            if unreachable(exc):
                if route.to == self.settings.target and not isinstance(
                        exc, aiohttp.ClientSSLError):  # an untrusted target is up
                    self.target_down()
                what = "is unreachable"
            else:
                what = "closed the connection mid-answer"
            return (502, [], f"the target {what} (ofevents relay)\n".encode(), ms,
                    describe(exc))
        except ValueError as exc:  # what no HTTP/1.1 request can carry (a header, a URL)
            ms = (time.perf_counter() - start) * 1000
            return (502, [], b"the delivery cannot be sent to the target as it is (ofevents "
                    b"relay)\n", ms, f"cannot be sent: {exc}")
        return status, answer_headers, answer, (time.perf_counter() - start) * 1000, None

    async def _exchange(self, method: str, url: str, headers: list[tuple[bytes, bytes]],
                        body: bytes, timeout: float
                        ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The target's answer within `timeout` seconds (else asyncio.TimeoutError)."""
        proxy = self.proxies.get(_origin(url))
        if handles(method, url, proxy, len(body), LARGE_BODY):  # shells/upstream.py
            status, raw, answer = await self.upstream.exchange(method, url, headers, body,
                                                               timeout)
            return status, _end_to_end(raw), answer
        return await _within(timeout, self._aiohttp_exchange(method, url, headers, body, proxy))

    async def _aiohttp_exchange(self, method: str, url: str, headers: RawHeaders, body: bytes,
                                proxy: str | None) -> tuple[int, RawHeaders, bytes]:
        # latin-1 both ways: each header byte goes out as it came (shells/http_client.py)
        sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        async with self.client.request(method, URL(url, encoded=True), headers=sent,
                                       data=payload(body), allow_redirects=False,
                                       proxy=proxy) as response:
            answer = await response.read()
            raw = list(response.raw_headers)
        kept = _end_to_end(raw)
        if method == "HEAD":  # no body to count: the target's length is the answer's
            kept += [(k, v) for k, v in raw if k.lower() == b"content-length"]
        return response.status, kept, answer


def usable_secrets(scheme: str | None, secrets: tuple[str, ...]) -> tuple[str, ...]:
    """The secrets that can key `scheme` (a mix of providers' secrets is normal with `auto`);
    all of them when none can, so the verdict still says `bad_secret`."""
    usable = []
    for secret in secrets:
        try:
            scheme_key(scheme or "", secret)
        except ValueError:
            continue
        usable.append(secret)
    return tuple(usable) or secrets


_HOP_BY_HOP = frozenset(name.encode() for name in HOP_BY_HOP)


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Headers minus hop-by-hop ones (and those the Connection header names); repeats kept."""
    drop: frozenset[bytes] | set[bytes] = _HOP_BY_HOP
    for name, value in headers:
        if name.lower() == b"connection":
            drop = {*drop, *(token.strip().lower() for token in value.split(b","))}
    return [(k, v) for k, v in headers if k.lower() not in drop]


def _framed_twice(headers: list[tuple[bytes, bytes]]) -> bool:
    """Content-Length and Transfer-Encoding both: a request smuggling attempt, as a rule (the
    relay read it by Transfer-Encoding and sends it on framed once)."""
    names = {name.lower() for name, _ in headers}
    return b"content-length" in names and b"transfer-encoding" in names


@dataclass(frozen=True)
class _Cut:
    """A body the caller stopped sending: the bytes that came, and the length it declared."""

    body: bytes
    declared: int | None


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length" and value.isdigit():
            return int(value)
    return None


async def _read_body(receive: Receive, headers: list[tuple[bytes, bytes]], limit: int
                     ) -> bytes | _Cut | None:
    """The whole request body; None once it passes `limit` (declared or streamed); `_Cut`
    when the caller disconnected before the end of the body."""
    declared = _declared_length(headers)
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: the caller went away
            return _Cut(b"".join(chunks), declared)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
                  ) -> None:
    """Send the answer; its length is the body's unless a HEAD answer carries the target's,
    and a 204 / 304 has none (RFC 9110 8.6)."""
    has_length = any(k.lower() == b"content-length" for k, _ in headers)
    if status not in (204, 304) and not has_length:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _remote(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None
