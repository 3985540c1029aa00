"""The client against servers that misbehave: redirects, no `ready`, silence, dead sockets."""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

import pytest

from ofevents_cli.core.session import Session
from ofevents_cli.errors import UnreachableError
from ofevents_cli.shells.emulator import EmulatorSettings, running
from ofevents_cli.shells.eventbus import ClientSettings, Connected, Reconnecting, Update
from tests.eventbus_servers import (
    KEY,
    READY,
    TOKEN,
    collect,
    count_events,
    event_frame,
    events,
    scripted,
)

# short deadlines so a missed one shows within a test; fast reconnects
QUICK = {"ready_timeout": 0.3, "ping_interval": 0.1, "ping_timeout": 0.3,
         "initial_delay": 0.001, "max_delay": 0.01}


def reconnects(values: list[Update]) -> list[Reconnecting]:
    return [v for v in values if isinstance(v, Reconnecting)]


def redirecting(location: str | None, status: int = 302) -> Any:
    """`process_request` that answers every upgrade with a redirect to `location`."""
    asked: list[str] = []

    def answer(connection: Any, request: Any) -> Any:
        asked.append(request.path)
        response = connection.respond(status, "moved\n")
        if location is not None:
            response.headers["Location"] = location
        return response

    answer.asked = asked  # type: ignore[attr-defined]
    return answer


def test_a_redirect_to_another_host_is_not_followed() -> None:
    """3xx to another server: that server never sees a connection (nor the credentials)."""
    reached: list[str] = []

    async def elsewhere(ws: Any) -> None:
        reached.append(await ws.recv())

    async def main() -> None:
        async with scripted(elsewhere) as other:
            answer = redirecting(other)
            async with scripted(elsewhere, process_request=answer) as url:
                settings = ClientSettings(url, KEY, TOKEN, **QUICK)
                with pytest.raises(UnreachableError, match=re.escape(f"redirects to {other}")
                                   ) as caught:
                    await collect(settings, lambda v: False)
        assert reached == [] and answer.asked == ["/v1/events"]  # asked once: not retried
        assert "--url" in (caught.value.hint or "")
    asyncio.run(main())


@pytest.mark.parametrize("location", ["http://127.0.0.1:1/x", "/v2/events", "ws://[::1", None])
def test_any_redirect_ends_with_a_clear_error_not_a_crash(location: str | None) -> None:
    """http://, relative, broken or missing Location: an UnreachableError (exit 3), no retry."""
    async def main() -> None:
        answer = redirecting(location, 301)
        async with scripted(lambda ws: ws.wait_closed(), process_request=answer) as url:
            with pytest.raises(UnreachableError, match="HTTP 301"):
                await collect(ClientSettings(url, KEY, TOKEN, **QUICK), lambda v: False)
        assert len(answer.asked) == 1
    asyncio.run(main())


def test_no_ready_after_the_hello_is_a_drop_then_a_retry() -> None:
    """A server that reads the hello and answers nothing: dropped after ready_timeout, retried."""
    hellos: list[str] = []

    async def mute(ws: Any) -> None:
        hellos.append(await ws.recv())
        await ws.wait_closed()

    async def main() -> None:
        async with scripted(mute) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **QUICK),
                                   lambda v: len(reconnects(v)) >= 2, timeout=5)
        assert [r.reason for r in reconnects(values)] == ["no ready within 0.3 s of the hello"] * 2
        assert [r.attempt for r in reconnects(values)] == [1, 2]  # failures: the count grows
        assert len(hellos) >= 2
    asyncio.run(main())


def test_no_ready_and_no_retries_left_exits_unreachable() -> None:
    """--no-reconnect against a server that never says ready: exit 3 naming the deadline."""
    async def mute(ws: Any) -> None:
        await ws.recv()
        await ws.wait_closed()

    async def main() -> None:
        async with scripted(mute) as url:
            settings = ClientSettings(url, KEY, TOKEN, max_retries=0, **QUICK)
            with pytest.raises(UnreachableError, match=re.escape("no ready within 0.3 s")):
                await collect(settings, lambda v: False, timeout=5)
    asyncio.run(main())


def _resumes(first_connection: Any) -> tuple[Any, list[dict[str, Any]]]:
    """A server whose first connection sends ready + e1 and then runs `first_connection(ws)`;
    later connections resume normally with e2. Also returns the hellos it got."""
    hellos: list[dict[str, Any]] = []

    async def script(ws: Any) -> None:
        hellos.append(json.loads(await ws.recv()))
        if len(hellos) == 1:
            await ws.send(json.dumps(READY))
            await ws.send(json.dumps(event_frame(1)))
            await first_connection(ws)
            return
        await ws.send(json.dumps({**READY, "resumed": True}))
        await ws.send(json.dumps(event_frame(2)))
        await ws.wait_closed()

    return script, hellos


def test_a_dead_connection_no_pong_is_dropped_and_resumed() -> None:
    """After ready the server stops reading (no pongs): drop, reconnect, resume after e1."""
    async def freeze(ws: Any) -> None:
        ws.transport.pause_reading()  # like a frozen process or a dead network path
        await asyncio.sleep(1.5)
        ws.transport.abort()

    script, hellos = _resumes(freeze)

    async def main() -> None:
        async with scripted(script, close_timeout=0.1) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **QUICK), count_events(2))
        assert events(values) == ["e1", "e2"]
        [drop] = reconnects(values)
        assert drop.reason == "no pong within 0.3 s: the connection is dead"
        assert [h["resume"] for h in hellos] == [None, "e1"]
    asyncio.run(main())


def test_a_server_that_goes_silent_after_ready_is_dropped_and_resumed() -> None:
    """Pongs come (the WebSocket layer answers) but the EventBus ignores `ping`: a drop."""
    async def stuck(ws: Any) -> None:
        await asyncio.sleep(1.5)  # reads nothing, sends nothing

    script, hellos = _resumes(stuck)

    async def main() -> None:
        async with scripted(script, close_timeout=0.1) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **QUICK), count_events(2))
        assert events(values) == ["e1", "e2"]
        [drop] = reconnects(values)
        assert "its EventBus is stuck" in drop.reason
        assert drop.attempt == 1 and drop.delay <= 0.1  # e1 had flowed: back at once
        assert [h["resume"] for h in hellos] == [None, "e1"]
    asyncio.run(main())


def test_a_quiet_healthy_server_is_pinged_and_kept() -> None:
    """A server that answers `ping` keeps the connection through many quiet intervals."""
    pings: list[Any] = []

    async def quiet(ws: Any) -> None:
        await ws.recv()
        await ws.send(json.dumps(READY))
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("op") == "ping":
                pings.append(frame["t"])
                await ws.send(json.dumps({"op": "pong", "t": frame["t"]}))
                if len(pings) == 5:
                    await ws.send(json.dumps(event_frame(1)))

    async def main() -> None:
        async with scripted(quiet) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **QUICK), count_events(1))
        assert pings == [1, 2, 3, 4, 5] and reconnects(values) == []
    asyncio.run(main())


def test_the_emulator_answers_liveness_pings() -> None:
    """Our own emulator, quiet, with short ping intervals: connected, no drop, then an event."""
    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            task = asyncio.ensure_future(collect(ClientSettings(served.url, KEY, TOKEN, **QUICK),
                                                 count_events(1)))
            while served.app.sessions == 0:
                await asyncio.sleep(0.01)
            await asyncio.sleep(1.0)  # ten ping intervals, three timeouts
            served.app.emit({"event": "tip"})
            values = await task
        assert reconnects(values) == [] and isinstance(values[1], Connected)
    asyncio.run(main())


def test_drops_after_healthy_sessions_reconnect_at_once() -> None:
    """A bus that drops after every few events: each reconnect is attempt 1 within
    rejoin_delay, however large the backoff would be (initial_delay 5 s)."""
    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN,
                                            drop_every=20)) as served:
            served.app.emit([{"event": "tip"}] * 200)
            settings = ClientSettings(served.url, KEY, TOKEN, resume=served.app.bus.id_of(0),
                                      initial_delay=5.0, rejoin_delay=0.05)
            values = await collect(settings, count_events(200), timeout=10)
        assert len(reconnects(values)) >= 9
        assert all(r.attempt == 1 and r.delay <= 0.05 for r in reconnects(values))
    asyncio.run(main())


def test_a_consumer_can_move_the_resume_point_itself() -> None:
    """With acknowledge_on_delivery=False only acknowledged events count: after a drop the
    hello resumes from the last event acknowledged, even though later ones were delivered."""
    hellos: list[dict[str, Any]] = []

    async def script(ws: Any) -> None:
        hellos.append(json.loads(await ws.recv()))
        await ws.send(json.dumps(READY))
        for n in range(1, 4):
            await ws.send(json.dumps(event_frame(n)))
        await ws.close(1012)

    async def main() -> None:
        async with scripted(script) as url:
            settings = ClientSettings(url, KEY, TOKEN, **QUICK)
            session = Session(settings, random.Random(), acknowledge_on_delivery=False)

            def until(values: list[Update]) -> bool:
                if events(values)[-1:] == ["e1"]:
                    session.acknowledge("e1")  # stored; e2 and e3 are not (yet)
                return len(hellos) >= 2

            await collect(settings, until, session=session)
        assert [h["resume"] for h in hellos] == [None, "e1"]
    asyncio.run(main())
