"""The client shell against the real emulator and against scripted `websockets` servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ofevents_cli.errors import CredentialsError, InputError, UnreachableError
from ofevents_cli.shells.emulator import EmulatorSettings, running
from ofevents_cli.shells.eventbus import (
    ClientSettings,
    Connected,
    EventReceived,
    Gap,
    Problem,
    Reconnecting,
    Update,
    stream,
)
from tests.eventbus_servers import (
    KEY,
    READY,
    TOKEN,
    collect,
    count_events,
    events,
    scripted,
)
from tests.eventbus_servers import event_frame as _event

FAST = {"initial_delay": 0.001, "max_delay": 0.01}


def test_filters_reach_the_emulator() -> None:
    """-e/-a become the hello's subscribe/filter: only matching events arrive."""
    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=400, seed=2, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            settings = ClientSettings(served.url, KEY, TOKEN, ("typing", "online"),
                                      ("384751629",))
            values = await collect(settings, count_events(10))
            got = [v.event for v in values if isinstance(v, EventReceived)]
            assert {e.event for e in got} <= {"typing", "online"}
            assert {e.account_id for e in got} == {"384751629"}
    asyncio.run(main())


def test_chaos_every_event_exactly_once_in_order() -> None:
    """--drop-every forces 100 disconnects over 5,000 events; each arrives once, in order."""
    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN,
                                            drop_every=50)) as served:
            settings = ClientSettings(served.url, KEY, TOKEN, **FAST)
            task = asyncio.ensure_future(collect(settings, count_events(5000), timeout=40))
            while served.app.sessions == 0:
                await asyncio.sleep(0.01)
            sent = []
            for _ in range(50):
                sent += served.app.emit([{"event": "tip"}] * 100)
                await asyncio.sleep(0.005)
            values = await task
            assert events(values) == sent
            assert sum(isinstance(v, Reconnecting) for v in values) >= 99
            assert not any(isinstance(v, Gap) for v in values)
    asyncio.run(main())


def _server(*frames_then_close: Any, close: int = 1000) -> Callable[[Any], Awaitable[None]]:
    """A scripted server: wait for hello, send these frames (text), close with `close`."""
    async def script(ws: Any) -> None:
        await ws.recv()
        for frame in frames_then_close:
            await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        await ws.close(close, "scripted")
    return script


def test_drop_mid_stream_resumes_from_the_last_delivered_event() -> None:
    """After a drop the next hello carries the id of the last event delivered."""
    hellos: list[dict[str, Any]] = []

    async def script(ws: Any) -> None:
        hellos.append(json.loads(await ws.recv()))
        start = 1 if len(hellos) == 1 else 3
        await ws.send(json.dumps({**READY, "resumed": len(hellos) > 1}))
        for n in range(start, start + 2):
            await ws.send(json.dumps(_event(n)))
        await ws.close(1011 if len(hellos) == 1 else 1000)

    async def main() -> None:
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **FAST), count_events(4))
            assert events(values) == ["e1", "e2", "e3", "e4"]
            assert [h["resume"] for h in hellos] == [None, "e2"]
            assert any(isinstance(v, Reconnecting) and "1011" in v.reason for v in values)
    asyncio.run(main())


def test_gap_frames_and_unhonoured_resume_are_reported() -> None:
    """A gap frame is a Gap value; ready(resumed=false) after a resume is a Gap too."""
    async def main() -> None:
        async with scripted(_server(READY, {"op": "gap", "after": "e0", "reason": "expired"},
                                    _event(1))) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, resume="e0"),
                                   count_events(1))
            assert Gap("e0", "expired") in values
        async with scripted(_server(READY, _event(1))) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, resume="e0"),
                                   count_events(1))
            assert Gap("e0", "not_resumed") in values
    asyncio.run(main())


def test_bad_frames_are_reported_and_the_stream_goes_on() -> None:
    """Not-JSON, binary and malformed frames become Problems; unknown ops are ignored."""
    async def main() -> None:
        script = _server(READY, "{nope", {"op": "event", "id": 5}, {"op": "hologram"},
                         {"op": "error", "code": "rate_limited", "message": "slow down"},
                         _event(1))
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN), count_events(1))
            problems = [v.message for v in values if isinstance(v, Problem)]
            assert len(problems) == 3 and "not JSON" in problems[0]
            assert "rate_limited" in problems[2]
            assert isinstance(values[1], Connected) and events(values) == ["e1"]
    asyncio.run(main())


@pytest.mark.parametrize(("code", "error"), [(4001, CredentialsError), (4003, CredentialsError),
                                             (4400, InputError)])
def test_fatal_close_codes_stop_without_retry(code: int, error: type[Exception]) -> None:
    """4001 and 4003 end with CredentialsError (exit 4), 4400 with InputError; no reconnect."""
    hellos: list[str] = []

    async def script(ws: Any) -> None:
        hellos.append(await ws.recv())
        await ws.close(code, "no")

    async def main() -> None:
        async with scripted(script) as url:
            with pytest.raises(error):
                await collect(ClientSettings(url, KEY, TOKEN, **FAST), lambda v: False)
        assert len(hellos) == 1
    asyncio.run(main())


@pytest.mark.parametrize("code", [1000, 1001, 1011, 1012, 1013, 4008])
def test_retryable_close_codes_reconnect(code: int) -> None:
    """Normal, going-away, server-error, restart, try-later and rate-limit closes reconnect."""
    async def main() -> None:
        async with scripted(_server(READY, close=code)) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **FAST),
                                   lambda v: isinstance(v[-1], Reconnecting) and
                                   v[-1].attempt == 2)
            assert f"closed {code}" in values[-1].reason  # type: ignore[union-attr]
    asyncio.run(main())


@pytest.mark.parametrize(("retry_after", "max_delay", "waited"),
                         [(0.05, 30.0, 0.05), (3600, 0.02, 0.02)])
def test_rate_limit_waits_retry_after_capped_at_max_delay(retry_after: float, max_delay: float,
                                                          waited: float) -> None:
    """4008 with retryAfter reconnects after that delay, but never later than max_delay."""
    async def main() -> None:
        script = _server(READY, {"op": "error", "code": "rate_limited", "message": "x",
                                 "retryAfter": retry_after}, close=4008)
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, max_delay=max_delay),
                                   lambda v: isinstance(v[-1], Reconnecting))
            assert values[-1] == Reconnecting(waited, 1, "closed 4008 (scripted)")
    asyncio.run(main())


def test_unreachable_with_no_retries_left_raises_unreachable() -> None:
    """Connection refused and --max-retries 2: two Reconnecting values, then exit 3."""
    async def main() -> None:
        seen: list[Update] = []
        with pytest.raises(UnreachableError):
            async for value in stream(ClientSettings("ws://127.0.0.1:9/v1/events", KEY, TOKEN,
                                                     max_retries=2, **FAST)):
                seen.append(value)
        assert [v.attempt for v in seen if isinstance(v, Reconnecting)] == [1, 2]
    asyncio.run(main())


def test_backoff_is_full_jitter_under_the_exponential_ceiling() -> None:
    """The wait before attempt n is within [0, min(max, initial * factor**(n-1))]."""
    import random

    from ofevents_cli.shells.eventbus import backoff

    settings = ClientSettings("ws://x", KEY, TOKEN)
    rng = random.Random(0)
    for attempt in range(1, 12):
        waits = [backoff(attempt, settings, rng) for _ in range(200)]
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.8  # the whole range is used


@pytest.mark.parametrize(("ready", "attempts"), [(True, [1, 1, 1]), (False, [1, 2, 3])])
def test_attempts_reset_after_a_connection_stayed_up_after_ready(ready: bool,
                                                                 attempts: list[int]) -> None:
    """Up longer than reset_after after `ready`: the count restarts at 1; without ready: not."""
    async def script(ws: Any) -> None:
        await ws.recv()
        if ready:
            await ws.send(json.dumps(READY))
        await asyncio.sleep(0.06)
        await ws.close(1012)

    async def main() -> None:
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, reset_after=0.05, **FAST),
                                   lambda v: sum(isinstance(x, Reconnecting) for x in v) >= 3)
            assert [v.attempt for v in values if isinstance(v, Reconnecting)] == attempts
    asyncio.run(main())


def test_abnormal_close_1006_reconnects_and_resumes() -> None:
    """A connection cut without a close frame (1006) is retried with the resume point."""
    hellos: list[dict[str, Any]] = []

    async def script(ws: Any) -> None:
        hellos.append(json.loads(await ws.recv()))
        await ws.send(json.dumps(READY))
        await ws.send(json.dumps(_event(len(hellos))))
        ws.transport.abort()

    async def main() -> None:
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **FAST), count_events(2))
            reconnect = next(v for v in values if isinstance(v, Reconnecting))
            assert "1006" in reconnect.reason
            assert [h["resume"] for h in hellos[:2]] == [None, "e1"]
    asyncio.run(main())


def test_an_id_from_an_earlier_emulator_run_is_a_gap_not_a_silent_resume() -> None:
    """A restarted emulator with as many events refuses the old run's id: gap `unknown`."""
    async def main() -> None:
        settings = EmulatorSettings(port=0, rate=0, api_key=KEY, ws_token=TOKEN)
        async with running(settings) as first:
            old = first.app.emit([{"event": "tip"}] * 2)[0]
        async with running(settings) as second:
            second.app.emit([{"event": "tip"}] * 3)
            values = await collect(ClientSettings(second.url, KEY, TOKEN, resume=old),
                                   lambda v: any(isinstance(x, Gap) for x in v))
            assert Gap(old, "unknown") in values
            assert not any(isinstance(v, Connected) and v.resumed for v in values)
    asyncio.run(main())


def test_a_drop_before_the_first_event_resumes_from_ready_last() -> None:
    """With no resume point, the next hello resumes from the ready's `last`: nothing is lost."""
    hellos: list[dict[str, Any]] = []

    async def script(ws: Any) -> None:
        hellos.append(json.loads(await ws.recv()))
        if len(hellos) == 1:
            await ws.send(json.dumps({**READY, "last": "e0"}))
            await ws.close(1012)  # dropped before any event
            return
        await ws.send(json.dumps({**READY, "resumed": True, "last": "e0"}))
        await ws.send(json.dumps(_event(1)))

    async def main() -> None:
        async with scripted(script) as url:
            values = await collect(ClientSettings(url, KEY, TOKEN, **FAST), count_events(1))
            assert [h["resume"] for h in hellos] == [None, "e0"]
            assert not any(isinstance(v, Gap) for v in values)
    asyncio.run(main())


def test_an_event_too_large_twice_at_the_same_point_ends_with_exit_1() -> None:
    """1009 again at the same resume point: Blocked (exit 1) instead of looping forever."""
    hellos: list[str] = []

    async def script(ws: Any) -> None:
        hellos.append(await ws.recv())
        await ws.send(json.dumps(READY))
        await ws.send(json.dumps({**_event(1), "data": {"x": "y" * (1 << 20)}}))
        await ws.wait_closed()

    async def main() -> None:
        from ofevents_cli.shells.eventbus import Blocked

        async with scripted(script) as url:
            with pytest.raises(Blocked, match="larger than 1048576 bytes"):
                await collect(ClientSettings(url, KEY, TOKEN, **FAST), lambda v: False)
        assert len(hellos) == 2
    asyncio.run(main())


@pytest.mark.parametrize(("status", "error"), [(401, CredentialsError), (404, UnreachableError)])
def test_a_handshake_refused_with_4xx_is_not_retried(status: int,
                                                     error: type[Exception]) -> None:
    """HTTP 401 on the upgrade is a credentials error (exit 4), another 4xx exit 3; no retry."""
    from websockets.asyncio.server import serve

    asked: list[str] = []

    def refuse(connection: Any, request: Any) -> Any:
        asked.append(request.path)
        return connection.respond(status, "no\n")

    async def main() -> None:
        async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0,
                         process_request=refuse) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            settings = ClientSettings(f"ws://127.0.0.1:{port}/v1/events", KEY, TOKEN, **FAST)
            with pytest.raises(error, match=f"HTTP {status}"):
                await collect(settings, lambda v: False)
        assert asked == ["/v1/events"]
    asyncio.run(main())
