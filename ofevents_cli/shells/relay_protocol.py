"""The relay's HTTP/1.1 server protocol: llhttp (httptools) for the requests it reads, h11 for
the rest, so speed costs none of what the relay answers and captures.

llhttp parses a request for about a third of h11's CPU (bench/relay.py), but it refuses some
request targets outright (`@host:port/x`, `*`, raw non-ASCII) with a 400 that reaches no app,
so nothing would be captured, and it has no limit on the size of a request head. So, while
the head of a request is arriving, its bytes are kept (up to h11's limit); when llhttp
refuses it, or it grows past that limit, the connection is handed to uvicorn's h11 protocol
with those bytes, and h11 answers exactly as it did alone: the relay sees and captures what h11
accepts, h11's own 400 for the rest. The request target always reaches the relay as it came
(llhttp's URL parse would turn `http://host/x` into `/x`). The few heads llhttp reads but h11
refuses (no Host, two, a Transfer-Encoding other than `chunked`) go to h11 the same way.

A head whose first byte is not the first of a chunk (a request pipelined behind another in one
read) cannot be handed over: its bytes are no longer all kept. A refusal then gets uvicorn's
plain 400 and the connection closes, as it would under h11 for a broken request. Either answer
waits for the answers owed to the requests before it on the connection, so they keep their
order. A broken body is answered at once when its request is the one being relayed (its relay
is waiting for it, as in uvicorn); when its request is queued behind others, that request never
runs and the 400 follows their answers. An answer owed to a connection that closed meanwhile
is dropped, as asyncio's transports drop it (uvloop's would raise).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD", "RelayProtocol"]

MAX_HEAD = 16 * 1024  # h11's (and uvicorn's) limit on an incomplete request head


class _H11Refuses(Exception):
    """A head h11 would refuse: the parser's callback raises it to end llhttp's reading."""


class _OneWrite:
    """The transport an answer is written through: uvicorn writes an answer's head, then its
    body, two system calls where one will do (a loopback write is a tenth of the relay's CPU
    per delivery), so the head is held until the first body write and goes out with it. The
    `100 Continue` written before an answer starts passes at once, and so does a HEAD
    answer's head (uvicorn writes no body for it); a close sends what is held."""

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._held: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._transport.is_closing():  # the caller hung up, or a refusal closed it, while
            return  # this answer was owed: dropped, as asyncio's transports do (uvloop's raise)
        if self._held is not None:
            data, self._held = self._held + data, None
        elif self._cycle.response_started and not self._head_seen:  # the answer's head
            self._head_seen = True
            if self._cycle.scope["method"] != "HEAD":  # a HEAD answer has no body to wait for
                self._held = data
                return
        self._transport.write(data)

    def close(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, …: the socket's
        return getattr(self._transport, name)


class RelayProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, handing anything llhttp will not read to h11."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: list[bytes] | None = None  # the current head's chunks, while all are known
        self._head_size = 0  # bytes fed since the current head began
        self._in_head = False  # a head has begun and is not complete yet
        self._between = True  # the last byte fed ended a request (or none came yet)
        self._ended_in_feed = False  # a request ended earlier in the chunk being fed
        self._refused = False  # llhttp refused a request: it reads no more
        self._owed: Callable[[], None] | None = None  # the refusal's answer, when one is owed
        self._prior: Any = None  # the cycle of the request before the current one

    def data_received(self, data: bytes) -> None:
        """Feed llhttp; on a refusal or an oversized head, h11 takes the connection over."""
        if self._refused:  # the parser is spent: nothing after a refused head is read
            return
        self._unset_keepalive_if_required()
        if self._between:  # this chunk starts a request: its head's bytes can all be kept
            self._head = []
        if self._head is not None:
            self._head.append(data)  # no copy: joined only if h11 takes over
        if self._in_head or self._between:
            self._head_size += len(data)
        self._ended_in_feed = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # no WebSocket here (ws="none"): say so, as uvicorn
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            self._refuse("Invalid HTTP request received.")
            return
        if self._in_head and self._head_size > MAX_HEAD:
            self._refuse("Request head too large.")
            return
        if not self._in_head:
            self._head = None
            self._head_size = 0

    def _refuse(self, message: str) -> None:
        """A request llhttp will not read: h11 takes it when its head is all known, else
        uvicorn's 400, after the answers owed to the requests before it. The running
        request's broken body is answered at once (its relay waits for the rest)."""
        self._refused = True
        if self._in_head:
            head = None if self._head is None else b"".join(self._head)
            self._owe(functools.partial(self._answer_refused, head, message))
        elif self.pipeline:  # the body of a request queued behind answers still owed: it
            self.pipeline.popleft()  # never runs; its 400 follows those answers
            self.cycle = self._prior  # the last one that runs: the 400 waits for its answer
            self._owe(functools.partial(self.send_400_response, message))
        else:  # the running request's body: its relay is waiting for it
            self.send_400_response(message)

    def _owe(self, answer: Callable[[], None]) -> None:
        """Read no more; `answer` goes out once no earlier answer is owed."""
        self._owed = answer
        self.flow.pause_reading()
        self._pay()

    def _answer_refused(self, head: bytes | None, message: str) -> None:
        if head is not None:
            self._to_h11(head)
        else:
            self.send_400_response(message)

    def _pay(self) -> None:
        """The refused request's answer, once no earlier one is owed."""
        if self._owed is not None and not self.pipeline and (
                self.cycle is None or self.cycle.response_complete):
            owed, self._owed = self._owed, None
            owed()

    def on_response_complete(self) -> None:
        """An answer went out: a refused request behind it may be answered now."""
        super().on_response_complete()
        self._pay()

    def on_message_begin(self) -> None:
        """A request starts; its head's bytes are known only if it starts the chunk."""
        super().on_message_begin()
        if self._ended_in_feed:  # behind another request in this chunk: its start is unknown
            self._head = None
        self._in_head = True
        self._between = False

    def on_headers_complete(self) -> None:
        """The relay gets the request target exactly as it came; a head llhttp reads but h11
        refuses goes to h11 (raised here, it becomes the parser's refusal)."""
        if self._h11_refuses():
            raise _H11Refuses
        self._prior = self.cycle
        super().on_headers_complete()
        self.cycle.transport = _OneWrite(self.transport, self.cycle)  # type: ignore[assignment]
        self._in_head = False
        self._head = None
        self._head_size = 0
        path, _, query = self.url.partition(b"?")
        self.scope["raw_path"] = path
        self.scope["query_string"] = query

    def _h11_refuses(self) -> bool:
        """What llhttp reads and h11 refuses: other Host counts than one (none is allowed in
        HTTP/1.0), a Transfer-Encoding other than a single `chunked`."""
        hosts = 0
        codings: list[bytes] = []
        for name, value in self.headers:
            if name == b"host":
                hosts += 1
            elif name == b"transfer-encoding":
                codings += [coding.strip().lower() for coding in value.split(b",")]
        if hosts > 1 or (not hosts and self.parser.get_http_version() != "1.0"):
            return True
        return bool(codings) and codings != [b"chunked"]

    def on_message_complete(self) -> None:
        """A request's body ended: the next byte starts another."""
        super().on_message_complete()
        self._ended_in_feed = True
        self._between = True

    def _to_h11(self, head: bytes) -> None:
        """Hand the connection, and the head so far, to uvicorn's h11 protocol."""
        self.connections.discard(self)
        h11 = H11Protocol(config=self.config, server_state=self.server_state,
                          app_state=self.app_state)
        h11.connection_made(self.transport)
        self.transport.set_protocol(h11)
        self.flow.resume_reading()  # paused while the refusal waited: the rest is h11's now
        h11.data_received(head)
