"""Real servers for the forward/replay tests: a target app on 127.0.0.1 and the relay itself.

The target records every request and answers by path: `/status/<code>` with that status,
`/slow/<seconds>/…` after sleeping; it echoes the body and sends two `Set-Cookie` headers.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from ofevents_cli.shells import event_loop
from ofevents_cli.shells.relay import Ready, RelayEvent, RelaySettings
from ofevents_cli.shells.relay_server import run_relay

T = TypeVar("T")
FAKE_AGENT = Path(__file__).with_name("fake_ngrok.py")


@dataclass(frozen=True)
class Request:
    """One request as the target saw it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        """Every value of a header, case-insensitive, in order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass
class Target:
    """The running target: its URL and what it got."""

    url: str
    port: int
    requests: list[Request] = field(default_factory=list)
    active: int = 0
    peak: int = 0


def _handler(state: Target, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                state.requests.append(Request(self.command, self.path,
                                              list(self.headers.items()), body))
                state.active += 1
                state.peak = max(state.peak, state.active)
            parts = self.path.split("?")[0].split("/")
            status = 200
            if len(parts) > 2 and parts[1] == "slow":
                time.sleep(float(parts[2]))
            if len(parts) > 2 and parts[1] == "status":
                status = int(parts[2])
            with lock:
                state.active -= 1
            self.send_response(status)
            self.send_header("Set-Cookie", "a=1")
            self.send_header("Set-Cookie", "b=2")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = answer

        def log_message(self, format: str, *args: object) -> None:
            """Silence the default stderr log."""

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 50 concurrent connects must not overflow the backlog
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A caller that hung up (the relay's timeout) is expected here: stay quiet."""


@contextmanager
def running_target(port: int = 0, tls: ssl.SSLContext | None = None) -> Iterator[Target]:
    """Start the target in a thread (HTTPS with `tls`); stop it on exit."""
    state = Target(url="", port=0)
    server = _Server(("127.0.0.1", port), _handler(state, threading.Lock()))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    state.url = f"{'https' if tls else 'http'}://127.0.0.1:{state.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def scripted(answers: dict[bytes, bytes]) -> Iterator[str]:
    """A raw HTTP server: for a request line starting with a key it writes that value as is,
    then closes the connection. Its base URL."""
    def answer(conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(65536)
            if not chunk:
                break
            request += chunk
        conn.sendall(next((v for k, v in answers.items() if request.startswith(k)), b""))

    with accepting(answer, each_in_thread=False) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def accepting(handle: Callable[[socket.socket], None], *, each_in_thread: bool = True
              ) -> Iterator[int]:
    """A socket listening on 127.0.0.1 (port 0) whose connections go to `handle`, each in a
    thread of its own or one after another, until the block ends; its port. A connection
    handled in turn is closed after `handle`."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            if each_in_thread:
                threading.Thread(target=handle, args=(conn,), daemon=True).start()
            else:
                with conn:
                    handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()


@dataclass
class RawTarget:
    """A keep-alive raw server's URL, the connections that carried a request (not a bare
    connect, as the relay's check that the target listens) and the requests' bytes."""

    url: str
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


@contextmanager
def keep_alive(answer: Callable[[bytes], tuple[float, bytes]]) -> Iterator[RawTarget]:
    """A raw HTTP/1.1 server that keeps connections open: each request (head, then a body of
    its Content-Length) is recorded as its bytes and answered with `answer(request)`, a delay
    in seconds and the bytes to write as they are; an answer saying `Connection: close`
    closes the connection after it."""
    state = RawTarget("")

    def one(conn: socket.socket) -> None:  # a daemon thread: it ends with its connection
        buffer = b""
        first = True
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)", head)
                size = int(length.group(1)) if length else 0
                while len(rest) < size:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    rest += chunk
                request, buffer = head + b"\r\n\r\n" + rest[:size], rest[size:]
                state.requests.append(request)
                state.connections += first
                first = False
                delay, data = answer(request)
                time.sleep(delay)
                try:
                    conn.sendall(data)
                except OSError:
                    return
                if b"connection: close" in data.lower():
                    return

    with accepting(one) as port:
        state.url = f"http://127.0.0.1:{port}"
        yield state


def closed_port() -> int:
    """A loopback port nothing listens on (just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RelayRun:
    """A relay running in its own thread and event loop: what it yielded so far."""

    events: list[RelayEvent] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = None

    @property
    def started(self) -> Ready:
        """The Ready value (the relay's URLs)."""
        return next(e for e in self.events if isinstance(e, Ready))

    def of(self, kind: type[T]) -> list[T]:
        """The yielded values of one kind."""
        return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type[Any], count: int = 1, timeout: float = 10) -> None:
        """Block until `count` values of `kind` were yielded."""
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count:
            assert time.monotonic() < deadline, f"no {count} {kind.__name__} in {timeout} s"
            time.sleep(0.01)


@contextmanager
def running_relay(settings: RelaySettings) -> Iterator[RelayRun]:
    """Run `run_relay` in a thread, on the loop the command uses, until the block ends, then
    stop it cleanly."""
    run = RelayRun()

    async def main() -> None:
        run.loop = asyncio.get_running_loop()
        run.stop = asyncio.Event()
        async for event in run_relay(settings, run.stop):
            run.events.append(event)
            if isinstance(event, Ready):
                run.ready.set()

    def thread_main() -> None:
        try:
            event_loop.run(main())  # the loop `ofevents forward` runs on (uvloop, as a rule)
        except BaseException as exc:  # handed to the test
            run.error = exc
        finally:
            run.ready.set()

    thread = threading.Thread(target=thread_main, daemon=True)
    thread.start()
    assert run.ready.wait(20), "the relay did not start"
    if run.error is not None:
        raise run.error
    try:
        yield run
    finally:
        assert run.loop is not None and run.stop is not None
        run.loop.call_soon_threadsafe(run.stop.set)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the relay did not stop"
    if run.error is not None:
        raise run.error


def fake_agent(tmp: Path) -> Path:
    """An executable that runs the fake ngrok agent with this interpreter (one process: exec)."""
    wrapper = tmp / "ngrok"
    wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{FAKE_AGENT}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def pid_alive(pid: int) -> bool:
    """True while a process with this id exists (and is not a zombie we reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
