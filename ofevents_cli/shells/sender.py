"""Sending one HTTP request and timing it; transport failures come back as values, not raises.

The session comes from `http_client.session`: the target gets exactly the headers given plus
`Host` and `Content-Length`, and the body byte for byte.
"""

from __future__ import annotations

import asyncio
import functools
import re
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ofevents_cli.shells.http_client import body as payload

if TYPE_CHECKING:
    import aiohttp
    from yarl import URL

# RFC 9110 5.1: a field name is a token
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # RFC 9110 5.5: CTLs but HTAB


@dataclass(frozen=True)
class Sent:
    """The outcome of one request: the answer, or why there was none (`error`)."""

    status: int | None
    ms: float
    body: bytes = b""
    error: str | None = None
    unreachable: bool = False
    timed_out: bool = False  # no answer within the deadline

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300


def describe(exc: BaseException) -> str:
    """A short reason for a transport failure (aiohttp's, httpx's, the relay's own client's
    (shells/upstream.py) or the OS's): refused, DNS, TLS, proxy, timeout, or a target that
    hung up mid-answer."""
    import aiohttp

    from ofevents_cli.shells.upstream import Hangup

    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or _httpx_timeout(exc):
        return "timed out"
    if isinstance(exc, Hangup):
        return str(exc)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return f"the proxy refused the connection ({exc.status} {exc.message})"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to the proxy ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, ssl.SSLCertVerificationError)):
        return ("TLS certificate not trusted (pass --cacert FILE with its CA, or --insecure "
                "for a local test server)")
    if isinstance(exc, (aiohttp.ClientConnectorSSLError, ssl.SSLError)):
        return f"TLS handshake failed ({_reason(exc)})"
    if not isinstance(exc, aiohttp.ClientConnectorError) and _mid_answer(exc):
        return "the target closed the connection mid-answer"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found (DNS)"
        cause = getattr(cause, "os_error", None) or cause.__cause__ or cause.__context__
    return f"cannot connect ({_reason(exc)})"


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _httpx_timeout(exc: BaseException) -> bool:
    import sys

    httpx = sys.modules.get("httpx")  # only a client that is loaded can have raised
    return httpx is not None and isinstance(exc, httpx.TimeoutException)


def _mid_answer(exc: BaseException) -> bool:
    import sys

    import aiohttp

    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                        aiohttp.ClientResponseError, aiohttp.ClientOSError)):
        return True
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(
        exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))


def unreachable(exc: BaseException) -> bool:
    """Nothing accepted the connection (refused, DNS, TLS, proxy, connect timeout): the
    target is not there, as opposed to a target that answered badly."""
    import aiohttp

    from ofevents_cli.shells.upstream import ConnectFailed

    return isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError,
                            ConnectFailed))


def check_request(method: str, headers: Sequence[tuple[str, str]]) -> None:
    """ValueError for what no HTTP/1.1 request can carry: a method or header name that is not
    a token, a value with a control character other than tab (CR, LF, NUL, ESC, DEL, …),
    text that is not latin-1 (one byte a character)."""
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"method {method!r} is not an HTTP token")
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not an HTTP token")
        bad = _CONTROL.search(value)
        if bad:
            raise ValueError(f"header {name} holds a control character "
                             f"({bad.group().encode().hex(' ').upper()} hex; RFC 9110 allows "
                             "none but tab in a field value)")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"header {name} holds text that is not latin-1 (bytes on the "
                             "wire)") from None


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    proxy: str | None = None,
) -> Sent:
    """Send these headers and bytes (no redirect followed); never raises for network trouble
    (`Sent.unreachable` when nothing accepted the connection). A request that cannot be
    built (a bad header, method or URL) raises ValueError: the caller's input, not the
    network."""
    import aiohttp

    check_request(method, headers)
    target = _target(url)
    start = time.perf_counter()
    try:
        async with session.request(method, target, headers=list(headers),
                                   data=payload(body),
                                   allow_redirects=False, proxy=proxy) as response:
            answer = await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        if isinstance(exc, aiohttp.InvalidURL):
            raise ValueError(f"not a URL: {url}") from None
        return Sent(None, (time.perf_counter() - start) * 1000, error=describe(exc),
                    unreachable=unreachable(exc),
                    timed_out=isinstance(exc, (asyncio.TimeoutError, TimeoutError)))
    return Sent(response.status, (time.perf_counter() - start) * 1000, answer)


@functools.lru_cache(maxsize=256)
def _target(url: str) -> URL:
    """`url` with its path and query as given (encoded=True: yarl re-quotes nothing), parsed
    once per URL; ValueError when it is no absolute http(s) URL."""
    from yarl import URL

    try:
        target = URL(url, encoded=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a URL: {url} ({exc})") from None
    if not target.is_absolute() or target.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url}")
    return target
