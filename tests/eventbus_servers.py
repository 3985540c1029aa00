"""Real servers for the EventBus tests: the emulator in a thread, a scripted WebSocket server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from ofevents_cli.shells.emulator import EmulatorSettings, Running, running
from ofevents_cli.shells.eventbus import ClientSettings, EventReceived, Update, stream

KEY, TOKEN = "test-key", "test-token"
READY = {"op": "ready", "session": "s1", "subscribe": [], "resumed": False}


def event_frame(n: int) -> dict[str, Any]:
    """The wire form of event `e<n>` (a tip of n dollars)."""
    return {"op": "event", "id": f"e{n}", "event": "tip", "accountId": "1",
            "ts": "2026-11-22T10:30:00.000Z", "data": {"amount": n}}


async def collect(settings: ClientSettings, until: Callable[[list[Update]], bool],
                  timeout: float = 10, **options: Any) -> list[Update]:
    """Values from the client until `until(values)` holds (`options` go to `stream`)."""
    seen: list[Update] = []
    updates = stream(settings, **options)

    async def go() -> None:
        async for value in updates:
            seen.append(value)
            if until(seen):
                return

    try:
        await asyncio.wait_for(go(), timeout)
    finally:
        await updates.aclose()
    return seen


def events(values: list[Update]) -> list[str]:
    """The ids of the events among the values, in order."""
    return [v.event.id for v in values if isinstance(v, EventReceived)]


def count_events(n: int) -> Callable[[list[Update]], bool]:
    """`until` for collect: at least n events."""
    return lambda values: len(events(values)) >= n


@contextlib.contextmanager
def emulator_thread(**options: Any) -> Iterator[tuple[Running, asyncio.AbstractEventLoop]]:
    """Run an emulator on 127.0.0.1:0 in its own thread and loop (for CLI tests)."""
    settings = EmulatorSettings(**{"port": 0, "rate": 0, "api_key": KEY, "ws_token": TOKEN,
                                   **options})
    loop = asyncio.new_event_loop()
    ready: list[Running] = []
    started, stop = threading.Event(), asyncio.Event()

    async def main() -> None:
        async with running(settings) as served:
            ready.append(served)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10), "emulator did not start"
    try:
        yield ready[0], loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def publish(served: Running, loop: asyncio.AbstractEventLoop, event: str, account: str,
            data: dict[str, Any]) -> str:
    """Inject one event into a threaded emulator; its id."""
    async def go() -> str:
        return served.app.emit({"event": event, "accountId": account, "data": data})[0]
    return asyncio.run_coroutine_threadsafe(go(), loop).result(5)


Script = Callable[[Any], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted(script: Script, **options: Any) -> Any:
    """A real `websockets` server on 127.0.0.1:0 that runs `script(connection)` per client
    (`options` go to `serve`, e.g. `process_request`, `close_timeout`)."""
    from websockets.asyncio.server import serve

    async with serve(script, "127.0.0.1", 0, **options) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/events"


@contextlib.contextmanager
def scripted_thread(script: Script, **options: Any) -> Iterator[str]:
    """`scripted`, in its own thread and loop (for CLI tests, which run their own loop)."""
    loop = asyncio.new_event_loop()
    ready: list[str] = []
    started, stop = threading.Event(), asyncio.Event()

    async def main() -> None:
        async with scripted(script, **options) as url:
            ready.append(url)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10), "scripted server did not start"
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
