"""A local EventBus: one uvicorn server, one raw ASGI app for `/v1/events` and `POST /v1/emit`.

Every event enters one bounded log (the resume buffer); each connection keeps a cursor into it,
so live delivery, replay after a resume and slow consumers are the same code path.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ofevents_cli.core import frames
from ofevents_cli.core.catalogue import find
from ofevents_cli.core.traffic import Traffic, accounts
from ofevents_cli.errors import InputError, OfeventsError
from ofevents_cli.shells import clock
from ofevents_cli.shells.event_log import Bus

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_API_KEY = "demo-api-key"
DEFAULT_WS_TOKEN = "demo-ws-token"
MAX_BODY = 1 << 20
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator runs; `port=0` picks a free port."""

    host: str = "127.0.0.1"
    port: int = 8765
    rate: float = 2.0
    accounts: int = 3
    seed: int | None = None
    api_key: str = DEFAULT_API_KEY
    ws_token: str = DEFAULT_WS_TOKEN
    drop_every: int = 0
    buffer: int = 10_000


def now_iso() -> str:
    """The wall clock as the protocol's `ts` text."""
    stamp = datetime.fromtimestamp(clock.now(), timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TooLarge(OfeventsError):
    """An injected event would not fit in one frame (413)."""


class Emulator:
    """The ASGI app: `/v1/events` (WebSocket) and `POST /v1/emit` (HTTP)."""

    def __init__(self, settings: EmulatorSettings,
                 log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.log = log or (lambda line: None)
        rng = random.Random(settings.seed)
        self.creators = accounts(settings.accounts, rng)
        self.bus = Bus(settings.buffer, {a.id for a in self.creators})
        self.traffic = Traffic(rng, self.creators)
        self.sessions = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if scope["path"] != frames.PATH:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self._websocket(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    def _credentials_ok(self, api_key: str | None, ws_token: str | None) -> bool:
        """Both credentials right, compared in constant time."""
        key_ok = hmac.compare_digest((api_key or "").encode(), self.settings.api_key.encode())
        token_ok = hmac.compare_digest((ws_token or "").encode(),
                                       self.settings.ws_token.encode())
        return key_ok and token_ok

    async def generate(self) -> None:
        """Produce the emulator's own traffic at `rate` events per second, forever."""
        rng = random.Random(self.settings.seed)
        while True:
            await asyncio.sleep(rng.expovariate(self.settings.rate))
            now = now_iso()
            event, account_id, data = self.traffic.next(now)
            self.bus.publish(event, account_id, data, now)

    # -- WebSocket ------------------------------------------------------------------------

    async def _websocket(self, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        try:
            first = await asyncio.wait_for(receive(), frames.HELLO_TIMEOUT)
        except asyncio.TimeoutError:
            await self._refuse(send, frames.CLOSE_PROTOCOL, "bad_request", "no hello within 10 s")
            return
        if first["type"] != "websocket.receive":
            return
        hello = frames.decode_client(first.get("text") or first.get("bytes") or b"")
        if not isinstance(hello, frames.Hello):
            why = hello.reason if isinstance(hello, frames.Malformed) else "expected hello"
            await self._refuse(send, frames.CLOSE_PROTOCOL, "bad_request", why)
            return
        if not self._credentials_ok(hello.api_key, hello.ws_token):
            await self._refuse(send, frames.CLOSE_BAD_CREDENTIALS, "unauthorized",
                               "the API key or WS token is not valid")
            return
        foreign = [a for a in hello.accounts or () if a not in self.bus.accounts]
        if foreign:
            await self._refuse(send, frames.CLOSE_FORBIDDEN, "forbidden",
                               f"account {foreign[0]} is not one of yours")
            return
        session = _Session(hello.subscribe, hello.accounts, self.bus.last)
        resumed = False
        gap: frames.Gap | None = None
        if hello.resume is not None:
            seq = self.bus.seq_of(hello.resume)
            if seq is None or seq > self.bus.last:
                gap = frames.Gap(hello.resume, "unknown")
            else:
                resumed = True
                session.cursor = max(seq, self.bus.first - 1)
                if seq < self.bus.first - 1:
                    gap = frames.Gap(hello.resume, "expired")
        self.sessions += 1
        self.log(f"client connected: subscribe={','.join(hello.subscribe) or 'all'} "
                 f"accounts={','.join(hello.accounts or ()) or 'all'}"
                 + (f" resume={hello.resume}" if hello.resume else ""))
        await send(_text(frames.Ready(clock.new_id("ses"), hello.subscribe, hello.accounts,
                                      resumed, self.bus.id_of(session.cursor))))
        if gap:
            await send(_text(gap))
        pump = asyncio.ensure_future(self._pump(session, send))
        try:
            await self._read(session, receive, send, pump)
        finally:
            self.log(f"client left after {session.sent} event(s)")
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await pump

    async def _read(self, session: _Session, receive: Receive, send: Send,
                    pump: asyncio.Future[None]) -> None:
        """Handle frames after the hello until the client leaves or the pump ends."""
        while True:
            incoming = asyncio.ensure_future(receive())
            both: set[asyncio.Future[Any]] = {incoming, pump}
            await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
            if not incoming.done():
                incoming.cancel()
                return
            message = incoming.result()
            if message["type"] != "websocket.receive":
                return
            frame = frames.decode_client(message.get("text") or message.get("bytes") or b"")
            if isinstance(frame, frames.Ping):
                await send(_text(frames.Pong(frame.t)))
            elif isinstance(frame, frames.Update):
                foreign = [a for a in frame.accounts or () if a not in self.bus.accounts]
                if foreign:
                    await self._refuse(send, frames.CLOSE_FORBIDDEN, "forbidden",
                                       f"account {foreign[0]} is not one of yours")
                    return
                session.subscribe, session.accounts = frame.subscribe, frame.accounts
                await send(_text(frames.Ready(clock.new_id("ses"), frame.subscribe,
                                              frame.accounts, True,
                                              self.bus.id_of(session.cursor))))
            elif isinstance(frame, frames.Malformed):
                await send(_text(frames.ErrorFrame("bad_request", frame.reason)))

    async def _pump(self, session: _Session, send: Send) -> None:
        """Send every held event after the session's cursor that matches, then wait for more."""
        bus, drop_every = self.bus, self.settings.drop_every
        while True:
            waiter = bus.changed
            while session.cursor < bus.last:
                if session.cursor < bus.first - 1:
                    await send(_text(frames.Gap(bus.id_of(session.cursor), "expired")))
                    session.cursor = bus.first - 1
                item = bus.at(session.cursor + 1)
                session.cursor = item.seq
                if not frames.matches(item.event, item.account_id, session.subscribe,
                                      session.accounts):
                    continue
                await send({"type": "websocket.send", "text": item.text})
                session.sent += 1
                if drop_every and session.sent % drop_every == 0:
                    await send({"type": "websocket.close", "code": 1012,
                                "reason": "drop-every"})
                    return
                if session.sent % 256 == 0:
                    await asyncio.sleep(0)
            await waiter.wait()

    async def _refuse(self, send: Send, code: int, error: str, message: str) -> None:
        """An error frame, then the close code; one log line."""
        self.log(f"refused a client ({code}): {message}")
        await send(_text(frames.ErrorFrame(error, message)))
        await send({"type": "websocket.close", "code": code,
                    "reason": frames.close_reason(message)})

    # -- HTTP -----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/v1/emit":
            await self._answer(send, 404, {"error": "not found; POST /v1/emit"})
            return
        if scope["method"] != "POST":
            await self._answer(send, 405, {"error": "use POST"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self._credentials_ok(headers.get("x-api-key"), headers.get("x-ws-token")):
            await self._answer(send, 401, {"error": "X-API-Key or X-WS-Token is not valid"})
            return
        body = await _body(receive)
        if body is None:
            await self._answer(send, 413, {"error": f"body larger than {MAX_BODY} bytes"})
            return
        try:
            ids = self.emit(json.loads(body, parse_constant=_no_constant))
        except ValueError as exc:
            await self._answer(send, 400, {"error": f"body is not JSON: {exc}"})
            return
        except RecursionError:
            await self._answer(send, 400, {"error": "body is not JSON: nested too deeply"})
            return
        except TooLarge as exc:
            await self._answer(send, 413, {"error": exc.message})
            return
        except OfeventsError as exc:
            await self._answer(send, 400, {"error": exc.message})
            return
        await self._answer(send, 202, {"ids": ids})

    async def _answer(self, send: Send, status: int, payload: dict[str, Any]) -> None:
        """Answer a /v1/emit request; one log line."""
        if status == 202:
            self.log(f"POST /v1/emit 202: {len(payload['ids'])} event(s) injected")
        else:
            self.log(f"POST /v1/emit {status}: {payload['error']}")
        await _reply(send, status, payload)

    def emit(self, payload: Any) -> list[str]:
        """Inject one event object or a list of them; data fields missing come from fixtures."""
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > MAX_ITEMS:
            raise OfeventsError(f"at most {MAX_ITEMS} events per request")
        checked = []
        for n, item in enumerate(items):
            where = f"item {n}: " if isinstance(payload, list) else ""
            if not isinstance(item, dict) or not isinstance(item.get("event"), str):
                raise OfeventsError(f"{where}expected an object with an \"event\" name")
            data = item.get("data", {})
            if not isinstance(data, dict):
                raise OfeventsError(f"{where}\"data\" must be an object")
            try:
                fixture = find(item["event"], "eventbus")
            except OfeventsError as exc:
                hint = f" ({exc.hint})" if exc.hint else ""
                raise OfeventsError(f"{where}{exc.message}{hint}") from None
            account = _account(item.get("accountId"), where) or self.creators[0].id
            merged = {**fixture.data, **data}
            size = len(frames.encode(frames.Event(self.bus.id_of(0), fixture.name, account,
                                                  now_iso(), merged)).encode())
            if size > frames.MAX_FRAME:
                raise TooLarge(f"{where}the event frame would be {size} bytes; "
                               f"a frame is at most {frames.MAX_FRAME}")
            checked.append((fixture.name, account, merged))
        now = now_iso()
        return [self.bus.publish(name, account, data, now) for name, account, data in checked]


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: refused, so every frame stays valid JSON."""
    raise ValueError(f"{name} is not a JSON number")


def _account(value: Any, where: str) -> str | None:
    """An item's accountId (None: absent, so the first account); a non-empty string or int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise OfeventsError(f"{where}\"accountId\" must be a non-empty string or an integer")
    return str(value)


class _Session:
    """One connection's subscription and its cursor into the log."""

    def __init__(self, subscribe: tuple[str, ...], accounts: tuple[str, ...] | None,
                 cursor: int) -> None:
        self.subscribe = subscribe
        self.accounts = accounts
        self.cursor = cursor
        self.sent = 0


def _text(frame: frames.ServerFrame) -> Message:
    return {"type": "websocket.send", "text": frames.encode(frame)}


async def _body(receive: Receive) -> bytes | None:
    """The request body, or None once it passes MAX_BODY."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _reply(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True)
class Running:
    """A started emulator: where it listens and the app (to inject events in-process)."""

    url: str
    app: Emulator


def _listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; proto IPPROTO_TCP so that asyncio sets TCP_NODELAY on
    accepted connections (with proto 0 it does not, and Nagle adds ~40 ms stalls)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def running(settings: EmulatorSettings, log: Callable[[str], None] | None = None
                  ) -> AsyncIterator[Running]:
    """Serve the emulator until the block ends; InputError when the port is taken."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # Ctrl+C belongs to the command, not to the embedded server

    app = Emulator(settings, log)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, lifespan="off",
                            ws="websockets-sansio", http="h11", ws_max_size=frames.MAX_FRAME,
                            ws_per_message_deflate=False, log_level="critical",
                            access_log=False, timeout_graceful_shutdown=1)
    try:  # bind here, so a taken port is a clear error rather than uvicorn's sys.exit
        sock = _listening_socket(settings.host, settings.port)
    except OSError as exc:  # a host that is no address of this machine, or a taken port
        blame_host = isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL
        hint = ("use an address of this machine for --host (127.0.0.1, the default)"
                if blame_host else "choose another --port (0 picks a free one)")
        raise InputError(f"cannot listen on {settings.host}:{settings.port}: "
                         f"{exc.strerror or exc}", hint) from None
    server = _Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    generator = asyncio.ensure_future(app.generate()) if settings.rate > 0 else None
    try:
        yield Running(f"ws://{settings.host}:{port}{frames.PATH}", app)
    finally:
        if generator:
            generator.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
