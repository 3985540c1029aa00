"""`ofevents listen` end to end: optional embedded emulator, the client, the forwarder.

Everything worth showing goes to `show` (the renderer); this module prints nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ofevents_cli.core.masking import mask
from ofevents_cli.core.sinks import event_item
from ofevents_cli.shells import event_loop
from ofevents_cli.shells.eventbus import (
    CLIENT,
    ClientSettings,
    Disconnected,
    EventReceived,
    stream,
)

if TYPE_CHECKING:  # imported where used: a plain `listen` needs none of them
    from ofevents_cli.core.session import Session
    from ofevents_cli.shells.emulator import EmulatorSettings
    from ofevents_cli.shells.fanout import Fanout, Plan
    from ofevents_cli.shells.forwarder import ForwardSettings

DRAIN_TIMEOUT = 30.0
# Ctrl+C with --forward-to, routes or sinks: how long what they still hold may take.
STOP_DRAIN = 5.0


@dataclass(frozen=True)
class Note:
    """A line for the user that is not a state change (demo started, forwarding to …)."""

    text: str

    def __str__(self) -> str:
        return self.text


async def listen(client: ClientSettings, show: Callable[[object], None], *,
                 flush: Callable[[], None] | None = None, max_events: int | None = None,
                 forward: ForwardSettings | None = None,
                 demo: EmulatorSettings | None = None, plan: Plan | None = None,
                 drain: float = DRAIN_TIMEOUT) -> None:
    """Tail the EventBus until `max_events`, a fatal error, or cancellation (Ctrl+C).

    With a `plan` (routes, sinks) each event is fanned out (shells/fanout.py) and the resume
    point is the last event every route and sink has finished. At the end, what they (or the
    forwarder) still hold gets `drain` seconds.

    `flush` (the renderer's) is called once the events already received are shown, before
    the client waits for more: one write per burst instead of one per event, same latency.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    flushing = False
    reader_gone = False
    streaming = False  # cancelling is only safe while waiting for the next update

    def flush_now() -> None:
        """Flush; when stdout's reader went away (`| head`), stop the stream quietly."""
        nonlocal flushing, reader_gone
        flushing = False
        if flush is None or reader_gone:
            return
        try:
            flush()
        except BrokenPipeError:
            reader_gone = True
            if task is not None and streaming:
                task.cancel()

    async with contextlib.AsyncExitStack() as stack:
        if demo is not None:
            from ofevents_cli.shells.emulator import running

            served = await stack.enter_async_context(running(demo))
            client = dataclasses.replace(client, url=served.url, api_key=demo.api_key,
                                         ws_token=demo.ws_token)
            show(Note(f"demo: emulator with {demo.accounts} accounts at {served.url}"))
        forwarder = None
        if forward is not None:
            from ofevents_cli.shells.forwarder import Forwarder

            forwarder = Forwarder(forward, show)
            stack.push_async_callback(forwarder.aclose)
            show(Note(f"forwarding to {forward.url} ({forward.scheme}, "
                      f"secret {mask(forward.secret)})"))
        fanout: Fanout | None = None
        session: Session | None = None
        if plan is not None:
            from ofevents_cli.shells.fanout import start

            fanout, client, session = await start(plan, client, show, stack, CLIENT)
        count = 0
        updates = stream(client, session=session)
        streaming = True
        try:
            async for update in updates:
                if reader_gone:
                    break
                if (fanout is not None and isinstance(update, EventReceived)
                        and fanout.replayed(update.event)):
                    continue  # replayed after a reconnect, already taken
                show(update)
                if not flushing:
                    flushing = True
                    loop.call_soon(flush_now)
                if isinstance(update, EventReceived):
                    if forwarder is not None:
                        forwarder.submit(update.event)
                    if fanout is not None:
                        fanout.submit(event_item(update.event))
                        if fanout.pressing:  # a Redis sink catching up: read on after it
                            await fanout.room()
                    count += 1
                    if max_events is not None and count >= max_events:
                        show(Disconnected(f"{max_events} event(s) received (--max-events)"))
                        break
        except asyncio.CancelledError:
            if not reader_gone or task is None:
                # Ctrl+C: what the forwarder, routes and sinks hold may still go
                if forwarder is not None:
                    await forwarder.drain(min(drain, STOP_DRAIN))
                if fanout is not None:
                    await fanout.drain(min(drain, STOP_DRAIN))
                raise
            event_loop.uncancel()  # the reader went away: end quietly
        finally:
            streaming = False
            await updates.aclose()
            flush_now()
        if reader_gone:
            show(Disconnected("output closed"))
        if forwarder is not None:
            await forwarder.drain(drain)
        if fanout is not None:
            await fanout.drain(drain)
