"""Real servers for the EventBus tests: the emulator in a thread, a scripted WebSocket server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from ofevents_cli.shells.emulator import EmulatorSettings, Running, running

KEY, TOKEN = "test-key", "test-token"


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
async def scripted(script: Script) -> Any:
    """A real `websockets` server on 127.0.0.1:0 that runs `script(connection)` per client."""
    from websockets.asyncio.server import serve

    async with serve(script, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/events"


@contextlib.contextmanager
def scripted_thread(script: Script) -> Iterator[str]:
    """`scripted` in its own thread and loop, for CLI tests (the runner blocks the caller)."""
    loop = asyncio.new_event_loop()
    urls: list[str] = []
    started, stop = threading.Event(), asyncio.Event()

    async def main() -> None:
        async with scripted(script) as url:
            urls.append(url)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10), "scripted server did not start"
    try:
        yield urls[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
