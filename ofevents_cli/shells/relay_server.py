"""Running the relay: uvicorn on 127.0.0.1, the tunnel in front, a clean stop behind.

`run_relay` yields the relay's values in order (`AgentDownloading`, `Ready`, then `Delivered`,
`TargetDown`/`TargetUp`, `Stopping`); on stop it stops accepting, finishes in-flight
deliveries, closes the tunnel, and leaves no empty capture file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Iterator

import uvicorn

from ofevents_cli.errors import InputError
from ofevents_cli.shells.history_home import open_capture
from ofevents_cli.shells.http_client import HttpSettings, session
from ofevents_cli.shells.relay import (
    AgentDownloading,
    Ready,
    Relay,
    RelayEvent,
    RelaySettings,
    Stopping,
    join_url,
)
from ofevents_cli.shells.relay_protocol import RelayProtocol
from ofevents_cli.shells.signals import stop_on_signals
from ofevents_cli.shells.tunnel import Tunnel, agent_missing, open_tunnel

__all__ = ["run_relay", "stop_on_signals"]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `run_relay` decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(port: int) -> socket.socket:
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then, and
    # without it Nagle + delayed ACK add 40 ms to every answer
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
                         "pick another --port, or --port 0 for any free port") from exc
    return sock


async def _next(queue: asyncio.Queue[RelayEvent], stop: asyncio.Event) -> RelayEvent | None:
    """The next value, or None once `stop` is set."""
    if stop.is_set():
        return None
    if not queue.empty():  # the common case under load: no futures to wait on
        return queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if getter in done:
        return getter.result()
    getter.cancel()
    return None


async def _unless_stopped(opening: Awaitable[Tunnel], stop: asyncio.Event) -> Tunnel | None:
    """The opened tunnel, or None when Ctrl+C came first (the opening is cancelled: the agent
    is killed)."""
    task = asyncio.ensure_future(opening)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def _finish(serving: asyncio.Task[None], relay: Relay, force: asyncio.Event | None,
                  seconds: float) -> None:
    """Let uvicorn finish the deliveries in flight; once `force` is set, answer them 503."""
    if force is not None:
        forcing = asyncio.ensure_future(force.wait())
        await asyncio.wait({serving, forcing}, timeout=seconds,
                           return_when=asyncio.FIRST_COMPLETED)
        forcing.cancel()
        if force.is_set():
            relay.abort()
    await asyncio.wait_for(asyncio.shield(serving), seconds)


async def _settle(relay: Relay, force: asyncio.Event | None, seconds: float) -> None:
    """After the last delivery: copies get no more retries and finish their attempt (stopped
    at once on a second Ctrl+C, or after `seconds`), their capture lines are written, then
    the Redis sinks store what they hold (up to `seconds`)."""
    loop = asyncio.get_running_loop()
    relay.router.copies.stop()
    deadline = loop.time() + seconds
    while relay.router.copying and loop.time() < deadline:
        if force is not None and force.is_set():
            relay.router.copies.abort()
        await asyncio.wait(set(relay.router.copying), timeout=0.05)
    relay.router.copies.abort()
    if relay.router.copying:
        await asyncio.wait(set(relay.router.copying), timeout=1.0)
    if relay.router.fanout is not None:
        await relay.router.fanout.drain(seconds)
        await relay.router.fanout.aclose()


async def run_relay(settings: RelaySettings, stop: asyncio.Event,
                    force: asyncio.Event | None = None) -> AsyncIterator[RelayEvent]:
    """Serve until `stop` is set; then finish in-flight deliveries (unless `force` is set
    meanwhile: they get 503) and close the tunnel."""
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
    queue: asyncio.Queue[RelayEvent] = asyncio.Queue()
    sock = _bind(settings.port)
    port = sock.getsockname()[1]
    existed = settings.capture.exists()
    try:
        capture = open_capture(settings.capture, rotate=settings.history)
    except InputError:
        sock.close()
        raise
    client = None
    fanout = None
    try:  # the relay's own deadline (--timeout) applies, not the client's
        client = session(HttpSettings(None, settings.insecure, settings.cacert), limit=200)
        if settings.sinks:
            from ofevents_cli.shells.fanout import Fanout
            from ofevents_cli.shells.redis_sink import RedisSink

            fanout = Fanout(queue.put_nowait)
            for spec in settings.sinks:
                fanout.add(None, functools.partial(RedisSink, spec))
        relay = Relay(settings, client, capture, queue, fanout)
    except InputError:
        if client is not None:
            await client.close()
        capture.close()
        sock.close()
        raise
    # llhttp for what it reads, h11 for the rest (shells/relay_protocol.py)
    config = uvicorn.Config(relay, http=RelayProtocol, lifespan="off", log_config=None,
                            access_log=False,
                            server_header=False, date_header=False, ws="none",
                            timeout_graceful_shutdown=int(settings.timeout) + 5)
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    tunnel: Tunnel | None = None
    try:
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if serving.done():
            serving.result()
        if agent_missing(settings.tunnel):
            yield AgentDownloading()
        tunnel = await _unless_stopped(open_tunnel(settings.tunnel, port), stop)
        if tunnel is None:
            return
        yield Ready(tunnel.public_url, f"http://127.0.0.1:{port}",
                    join_url(settings.target, settings.path, "/") if settings.target else None,
                    settings.capture, settings.history,
                    tuple(r.describe() for r in settings.routes),
                    tuple(spec.label for spec in settings.sinks))
        await relay.check_target()
        while (item := await _next(queue, stop)) is not None:
            yield item
        yield Stopping(relay.in_flight)
        server.should_exit = True
        await _finish(serving, relay, force, settings.timeout + 10)
        await _settle(relay, force, settings.timeout + 10)
        while not queue.empty():
            yield queue.get_nowait()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(serving), settings.timeout + 10)
        for task in relay.router.copying:
            task.cancel()
        if fanout is not None:
            await fanout.aclose()
        if relay.watch is not None:
            relay.watch.cancel()
        if tunnel is not None:
            await tunnel.close()
        relay.upstream.close()
        await client.close()
        capture.close()
        sock.close()
        with contextlib.suppress(FileNotFoundError):  # deleted during the run: nothing to tidy
            if not existed and settings.capture.stat().st_size == 0:
                settings.capture.unlink()  # a run that captured nothing leaves no empty file
