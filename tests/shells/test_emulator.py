"""The emulator against a raw `websockets` client and raw HTTP: the protocol as documented."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ofevents_cli.shells.emulator import EmulatorSettings, Running, running
from tests.eventbus_servers import KEY, TOKEN

ACCOUNT = "384751629"
OTHER = "518273946"


def run(test: Callable[[Running], Awaitable[None]], **options: Any) -> None:
    """Start an emulator on port 0, run the test body against it, 10 s at most."""
    async def main() -> None:
        settings = EmulatorSettings(**{"port": 0, "rate": 0, "api_key": KEY,
                                       "ws_token": TOKEN, **options})
        async with running(settings) as served:
            await asyncio.wait_for(test(served), 10)
    asyncio.run(main())


async def hello(ws: ClientConnection, **fields: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"op": "hello", "apiKey": KEY, "wsToken": TOKEN, **fields}))
    return dict(json.loads(await ws.recv()))


async def emit(served: Running, body: Any, key: str = KEY) -> httpx.Response:
    url = served.url.replace("ws://", "http://").replace("/v1/events", "/v1/emit")
    async with httpx.AsyncClient() as http:
        return await http.post(url, content=body if isinstance(body, bytes)
                               else json.dumps(body).encode(),
                               headers={"X-API-Key": key, "X-WS-Token": TOKEN})


def test_hello_gets_ready_and_emitted_events_arrive() -> None:
    """hello -> ready; an injected event arrives as an event frame with fixture data filled."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            ready = await hello(ws)
            assert ready["op"] == "ready" and ready["resumed"] is False
            answer = await emit(served, {"event": "tip", "accountId": ACCOUNT,
                                         "data": {"amount": 50}})
            assert answer.status_code == 202
            frame = json.loads(await ws.recv())
            assert frame["id"] == answer.json()["ids"][0]
            assert frame["event"] == "tip" and frame["accountId"] == ACCOUNT
            assert frame["data"]["amount"] == 50 and frame["data"]["userId"] == "562630475"
    run(body)


def test_subscribe_and_account_filters_apply_server_side() -> None:
    """Only tips of the filtered account reach a client that asked for them."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await hello(ws, subscribe=["tip"], filter={"accountIds": [ACCOUNT]})
            await emit(served, [{"event": "typing", "accountId": ACCOUNT},
                                {"event": "tip", "accountId": OTHER},
                                {"event": "tip", "accountId": ACCOUNT}])
            frame = json.loads(await ws.recv())
            assert (frame["event"], frame["accountId"]) == ("tip", ACCOUNT)
            assert frame["id"] == served.app.bus.id_of(3)
    run(body)


def test_resume_replays_later_events_in_order() -> None:
    """hello.resume replays exactly the events after that id, then continues live."""
    async def body(served: Running) -> None:
        ids = (await emit(served, [{"event": "tip"}] * 5)).json()["ids"]
        async with connect(served.url) as ws:
            ready = await hello(ws, resume=ids[1])
            assert ready["resumed"] is True
            got = [json.loads(await ws.recv())["id"] for _ in range(3)]
            assert got == ids[2:]
    run(body)


def test_resume_from_an_expired_id_sends_gap_first() -> None:
    """When the resume id left the buffer, a gap frame precedes the replay."""
    async def body(served: Running) -> None:
        ids = (await emit(served, [{"event": "tip"}] * 5)).json()["ids"]
        async with connect(served.url) as ws:
            await hello(ws, resume=ids[0])
            gap = json.loads(await ws.recv())
            assert gap == {"op": "gap", "after": ids[0], "reason": "expired"}
            assert [json.loads(await ws.recv())["id"] for _ in range(3)] == ids[2:]
    run(body, buffer=3)


def test_bad_credentials_close_4001() -> None:
    """A wrong token gets an unauthorized error frame and close code 4001."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await ws.send(json.dumps({"op": "hello", "apiKey": KEY, "wsToken": "nope"}))
            assert json.loads(await ws.recv())["code"] == "unauthorized"
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                assert exc.rcvd is not None and exc.rcvd.code == 4001
    run(body)


def test_foreign_account_closes_4003_and_bad_hello_4400() -> None:
    """A filter naming an unknown account gets 4003; a non-hello first frame gets 4400."""
    async def body(served: Running) -> None:
        for first, code in ((None, 4003), ('{"op":"ping"}', 4400), ("not json", 4400)):
            async with connect(served.url) as ws:
                if first is None:
                    await hello(ws, filter={"accountIds": ["999"]})
                else:
                    await ws.send(first)
                    await ws.recv()
                await ws.wait_closed()
                assert ws.close_code == code
    run(body)


def test_bad_frames_after_hello_are_answered_and_the_session_goes_on() -> None:
    """Malformed frames get an error frame; unknown ops are ignored; ping gets pong."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await hello(ws)
            await ws.send("{oops")
            assert json.loads(await ws.recv())["code"] == "bad_request"
            await ws.send('{"op":"teleport"}')
            await ws.send('{"op":"ping","t":5}')
            assert json.loads(await ws.recv()) == {"op": "pong", "t": 5}
    run(body)


def test_oversized_frames_close_the_connection_not_the_server() -> None:
    """A frame over 1 MiB closes that connection with 1009; the next client is served."""
    async def body(served: Running) -> None:
        async with connect(served.url, max_size=None) as ws:
            await hello(ws)
            await ws.send("x" * (2 << 20))
            await ws.wait_closed()
            assert ws.close_code == 1009
        async with connect(served.url) as ws:
            assert (await hello(ws))["op"] == "ready"
    run(body)


def test_update_changes_the_subscription_live() -> None:
    """update answers with ready and applies the new subscription."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await hello(ws, subscribe=["typing"])
            await ws.send('{"op":"update","subscribe":["tip"]}')
            assert json.loads(await ws.recv())["subscribe"] == ["tip"]
            await emit(served, [{"event": "typing"}, {"event": "tip"}])
            assert json.loads(await ws.recv())["event"] == "tip"
    run(body)


def test_emit_answers_202_400_401_413() -> None:
    """Good events 202 with ids; bad JSON or unknown type 400; wrong key 401; huge body 413."""
    async def body(served: Running) -> None:
        assert (await emit(served, {"event": "tip"})).status_code == 202
        bad = await emit(served, b"{nope")
        assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
        unknown = await emit(served, {"event": "tipp"})
        assert unknown.status_code == 400 and "did you mean tip" in unknown.json()["error"]
        assert (await emit(served, {"event": "tip"}, key="wrong")).status_code == 401
        assert (await emit(served, b"[" + b" " * (2 << 20) + b"]")).status_code == 413
    run(body)


def test_generated_traffic_flows_at_the_rate() -> None:
    """With --rate, the emulator produces events of its own."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await hello(ws)
            frames = [json.loads(await ws.recv()) for _ in range(5)]
            assert all(f["op"] == "event" and f["accountId"].isdigit() for f in frames)
    run(body, rate=200, seed=1)


def test_drop_every_closes_after_n_events() -> None:
    """--drop-every 2 closes each connection after its second event with 1012."""
    async def body(served: Running) -> None:
        await emit(served, [{"event": "tip"}] * 3)
        async with connect(served.url) as ws:
            ids = (await emit(served, [{"event": "tip"}])).json()["ids"]
            await hello(ws, resume=served.app.bus.id_of(2))
            assert [json.loads(await ws.recv())["id"] for _ in range(2)] == [
                served.app.bus.id_of(3), ids[0]]
            await ws.wait_closed()
            assert ws.close_code == 1012
    run(body, drop_every=2)


def test_an_event_too_large_for_one_frame_is_refused_with_413() -> None:
    """A body under 1 MiB whose event frame would pass 1 MiB: 413, nothing published."""
    async def body(served: Running) -> None:
        big = "x" * ((1 << 20) - 100)  # the body fits; the frame adds id, ts, fixture fields
        answer = await emit(served, {"event": "tip", "data": {"message": big}})
        assert answer.status_code == 413 and "at most 1048576" in answer.json()["error"]
        assert served.app.bus.last == 0
    run(body)


def test_emit_refuses_nan_deep_nesting_and_bad_account_ids_with_400() -> None:
    """NaN/Infinity, JSON nested too deeply and a non-string accountId are 400, not 202/500."""
    async def body(served: Running) -> None:
        bad = [b'{"event": "tip", "data": {"amount": NaN}}',
               b'{"event": "tip", "data": {"amount": Infinity}}',
               b"[" * 100_000 + b"]" * 100_000,
               json.dumps({"event": "tip", "accountId": {"x": 1}}).encode(),
               json.dumps({"event": "tip", "accountId": ""}).encode(),
               json.dumps({"event": "tip", "accountId": True}).encode()]
        for payload in bad:
            answer = await emit(served, payload)
            assert answer.status_code == 400, payload[:40]
        assert served.app.bus.last == 0
        assert (await emit(served, {"event": "tip", "accountId": 42})).status_code == 202
    run(body)


def test_update_naming_a_foreign_account_closes_4003() -> None:
    """`update` with an account that is not one of yours is refused like a hello: 4003."""
    async def body(served: Running) -> None:
        async with connect(served.url) as ws:
            await hello(ws)
            await ws.send(json.dumps({"op": "update", "filter": {"accountIds": ["999"]}}))
            error = json.loads(await ws.recv())
            assert error["code"] == "forbidden"
            await ws.wait_closed()
            assert ws.close_code == 4003
    run(body)
