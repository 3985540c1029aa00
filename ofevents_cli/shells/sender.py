"""Sending one HTTP request and timing it; transport failures come back as values, not raises."""

from __future__ import annotations

import http.cookiejar
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout)  # nothing accepted the connection


@dataclass(frozen=True)
class Sent:
    """The outcome of one request: the answer, or why there was none (`error`)."""

    status: int | None
    ms: float
    body: bytes = b""
    error: str | None = None
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300


def describe(exc: httpx.TransportError) -> str:
    """A short reason for a transport failure: refused, DNS, timeout."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "the target closed the connection mid-answer"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found (DNS)"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect ({exc or type(exc).__name__})"


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    exact: bool = False,
) -> Sent:
    """Send these headers and bytes; never raises for network trouble (`Sent.unreachable`
    when nothing accepted the connection). httpx adds its defaults (Accept, User-Agent, …)
    unless `exact`: then a bare Request goes out, and a request that cannot be built or
    written (a bad header, method or URL) raises ValueError: the caller's input, not the
    network."""
    if not exact:
        request = client.build_request(method, url, headers=list(headers), content=body)
        return await _timed(client, request, strict=False)
    try:  # latin-1: a captured header's bytes go out as they came in
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        request = httpx.Request(method, url, headers=raw, content=body)
    except (httpx.InvalidURL, UnicodeEncodeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return await _timed(client, request, strict=True)


async def _timed(client: httpx.AsyncClient, request: httpx.Request, *, strict: bool) -> Sent:
    """Send and time `request`; with `strict`, a request h11 refuses to write (bad header,
    method) raises ValueError instead of coming back as a failed send."""
    start = time.perf_counter()
    try:
        response = await client.send(request)
    except httpx.TransportError as exc:
        if strict and isinstance(exc, (httpx.LocalProtocolError, httpx.UnsupportedProtocol)):
            raise ValueError(str(exc) or type(exc).__name__) from None
        return Sent(None, (time.perf_counter() - start) * 1000, error=describe(exc),
                    unreachable=isinstance(exc, UNREACHABLE))
    return Sent(response.status_code, (time.perf_counter() - start) * 1000, response.content)


class _KeepNothing(http.cookiejar.DefaultCookiePolicy):
    """Refuses every cookie: a Set-Cookie from one answer must not ride on the next request."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def cookieless() -> http.cookiejar.CookieJar:
    """A cookie jar that stores nothing (for clients that must send exactly what they're given)."""
    return http.cookiejar.CookieJar(policy=_KeepNothing())
