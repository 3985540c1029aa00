"""The relay's own HTTP/1.1 client for plain `http://` targets: keep-alive connections over
asyncio protocols, answers parsed by llhttp (httptools).

Why not aiohttp here: on the relay's hot path its client was a third of the relay's CPU per
delivery (py-spy under bench/relay.py's load); this one writes the request in one go and
parses the answer in C, and the relay's CPU per delivery went from ~0.29 to ~0.19 ms.
It sends what aiohttp sends (shells/http_client.py's rules): the headers given, byte for byte
and in order, plus `Host` and `Content-Length`, and nothing else. The relay keeps aiohttp for
what this does not do: TLS, proxies, HEAD (llhttp cannot be told that a HEAD answer has no
body) and bodies past `http_client.LARGE_BODY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from typing import cast
from urllib.parse import urlsplit

import httptools

__all__ = ["ConnectFailed", "Hangup", "Upstream", "handles"]

RawHeaders = list[tuple[bytes, bytes]]
MAX_HEAD = 64 * 1024  # an answer's status line and headers, at most (llhttp sets no limit)
KEEP_IDLE = 15.0  # seconds an unused connection is kept (aiohttp's keep-alive timeout)
# aiohttp's rule: these methods get no `Content-Length: 0` when they carry no body
_NO_EMPTY_LENGTH = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})


class ConnectFailed(OSError):
    """Nothing accepted the connection (the OS's reason is the cause)."""


class Hangup(OSError):
    """The target closed the connection, or answered what is not HTTP, before a whole answer."""


def handles(method: str, url: str, proxy: str | None, size: int, large: int) -> bool:
    """Whether this client takes the request (else aiohttp does): plain http, no proxy, not
    HEAD, not too large, an ASCII URL without userinfo."""
    return (url.startswith("http://") and proxy is None and method != "HEAD" and size <= large
            and url.isascii() and _authority(url[7:].partition("/")[0]) is not None)


class _Answer(asyncio.Protocol):
    """One connection: sends a request, collects one answer at a time."""

    def __init__(self, pool: Upstream, key: tuple[str, int]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, RawHeaders, bytes]] | None = None
        self.headers: RawHeaders = []
        self.chunks: list[bytes] = []
        self.framed: bool | None = None  # None until the head is in; then whether the body
        # ends by Content-Length or chunks (else at the close, RFC 9112 6.3)
        self.head_size = 0  # bytes read while no answer's head was complete
        self.idle_since = 0.0
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not an asyncio.Transport subclass)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: this connection cannot be trusted
            self.close()
            return
        if self.framed is None:
            self.head_size += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(Hangup("the target switched protocols"))
            return
        except httptools.HttpParserError as exc:
            self._fail(Hangup(f"the target's answer is not HTTP/1.1 ({exc})"))
            return
        if self.framed is None and self.head_size > MAX_HEAD:  # still no end of the head
            self._fail(Hangup(f"the target's answer head is over {MAX_HEAD // 1024} KiB"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.framed is False:
                self._done()  # an answer whose body runs to the close
            else:
                waiter.set_exception(Hangup("the target closed the connection mid-answer"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.waiter is None:  # an answer to nothing asked (a second one in the same read):
            self.close()  # what else it sent cannot be told from the next answer either
        self.headers = []
        self.chunks = []
        self.framed = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.framed is None:  # after the head: a chunked body's trailers, dropped as aiohttp
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.head_size = 0
        self.framed = any(k.lower() == b"content-length" or (
            k.lower() == b"transfer-encoding" and b"chunked" in v.lower())
            for k, v in self.headers)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # informational (103 Early Hints, …): the answer follows
            self.framed = None  # a close now is mid-answer
            self.head_size = 0
            return
        if self._done() and self.parser.should_keep_alive():
            self.pool.release(self)
        else:  # an answer nobody waits for any more (late), or the target ends the connection
            self.close()

    # internals
    def _done(self) -> bool:
        """Hand the answer to its waiter; False when none waits for it (any more)."""
        waiter, self.waiter = self.waiter, None
        if waiter is None or waiter.done():
            return False
        waiter.set_result((self.parser.get_status_code(), self.headers, b"".join(self.chunks)))
        return True

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.transport is not None:
            self.transport.close()

    def send(self, request: bytes) -> asyncio.Future[tuple[int, RawHeaders, bytes]]:
        """Write `request`; the future of its answer."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter


class Upstream:
    """Keep-alive connections per target (host, port), at most `limit` open at once."""

    def __init__(self, limit: int = 200) -> None:
        self.idle: defaultdict[tuple[str, int], list[_Answer]] = defaultdict(list)
        self.slots = asyncio.Semaphore(limit)
        self.open: set[_Answer] = set()

    async def exchange(self, method: str, url: str, headers: RawHeaders, body: bytes,
                       timeout: float) -> tuple[int, RawHeaders, bytes]:
        """Send one request to an `http://` URL; (status, raw headers, body) within `timeout`
        seconds, or asyncio.TimeoutError. ValueError for a header no request can carry;
        ConnectFailed / Hangup as their names say."""
        host, port, host_header, target = _split(url)
        request = _request(method.upper(), target, host_header, headers, body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self.slots.locked():  # past the limit: wait for a slot, within the deadline
            await asyncio.wait_for(self.slots.acquire(), timeout)
        else:
            await self.slots.acquire()
        try:
            connection = await self._connection(host, port, deadline - loop.time())
            answer = connection.send(request)
            # one timer on the answer: asyncio.timeout() costs more, per delivery
            expiry = loop.call_at(deadline, _expire, connection, answer)
            try:
                return await answer
            except BaseException:  # cancelled or cut short: the stream is not reusable
                if connection.waiter is answer:
                    connection.close()
                raise
            finally:
                expiry.cancel()
        finally:
            self.slots.release()

    async def _connection(self, host: str, port: int, timeout: float) -> _Answer:
        loop = asyncio.get_running_loop()
        idle = self.idle[(host, port)]
        while idle:
            connection = idle.pop()
            if connection.closed or connection.transport is None or \
                    connection.transport.is_closing():
                continue
            if loop.time() - connection.idle_since > KEEP_IDLE:  # a NAT may have dropped it
                connection.close()
                continue
            return connection
        try:
            _, protocol = await asyncio.wait_for(loop.create_connection(
                lambda: _Answer(self, (host, port)), host, port), max(timeout, 0))
        except asyncio.TimeoutError:
            raise
        except OSError as exc:
            raise ConnectFailed(exc.errno, exc.strerror or str(exc)) from exc
        self.open.add(protocol)
        return protocol

    def release(self, connection: _Answer) -> None:
        """An answered connection goes back to its target's idle list."""
        if not connection.closed:
            connection.idle_since = asyncio.get_running_loop().time()
            self.idle[connection.key].append(connection)

    def forget(self, connection: _Answer) -> None:
        """A closed connection leaves the pool."""
        self.open.discard(connection)
        with contextlib.suppress(ValueError):
            self.idle[connection.key].remove(connection)

    def close(self) -> None:
        """Close every connection."""
        for connection in list(self.open):
            connection.close()


def _expire(connection: _Answer, answer: asyncio.Future[tuple[int, RawHeaders, bytes]]
            ) -> None:
    """No answer in time: TimeoutError for its waiter, and the connection closed, so a late
    answer reaches no one."""
    if not answer.done():
        answer.set_exception(asyncio.TimeoutError())
        connection.close()


def _split(url: str) -> tuple[str, int, bytes, str]:
    """(host, port, Host header, request target) of an `http://` URL, the target as written."""
    authority, slash, path = url[len("http://"):].partition("/")
    known = _authority(authority)
    if known is None:  # `handles` sends such URLs to aiohttp
        raise ValueError(f"not a URL this client takes: {url}")
    return (*known, slash + path if slash else "/")


@functools.lru_cache(maxsize=64)
def _authority(authority: str) -> tuple[str, int, bytes] | None:
    """(host, port, Host header) of an ASCII `host[:port]`, worked out once per target; None
    for what aiohttp is left to handle (userinfo, a port that is not one)."""
    if "@" in authority:
        return None
    parts = urlsplit("http://" + authority)
    try:
        port = parts.port or 80
    except ValueError:
        return None
    host = parts.hostname
    if not host:
        return None
    name = f"[{host}]" if ":" in host else host
    return host, port, (name if port == 80 else f"{name}:{port}").encode("ascii")


def _request(method: str, target: str, host: bytes, headers: RawHeaders, body: bytes) -> bytes:
    """The request's bytes: what aiohttp would write for the same call."""
    lines = [f"{method} {target} HTTP/1.1".encode("ascii"), b"Host: " + host]
    lines += [name + b": " + value for name, value in headers]
    if body or method not in _NO_EMPTY_LENGTH:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    ends = len(lines) + 1  # a CR or LF anywhere else would start a header of its own
    if head.count(b"\n") != ends or head.count(b"\r") != ends or b"\x00" in head:
        raise ValueError("a header holds a control character (CR, LF or NUL)")
    return head + body
