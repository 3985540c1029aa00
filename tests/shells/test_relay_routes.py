"""`forward` with routes, against real targets on 127.0.0.1: the first match answers, the
others get copies, every result is captured, unrouted deliveries are answered 202, and each
delivery can be stored in Redis byte for byte."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from ofevents_cli.core import sinks
from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.core.routes import Route
from ofevents_cli.core.signing import sign, verify
from ofevents_cli.shells.relay import UNROUTED, Delivered, RelaySettings
from tests.redis_server import RedisServer
from tests.target import closed_port, running_relay, running_target

SECRET = "ofapi-secret"
TIP = b'{"type":"tip.received","account_id":"acct_1","data":{"amount":5}}'


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _signed(body: bytes, secret: str = SECRET) -> list[tuple[str, str]]:
    return sign("ofapi", secret, body, msg_id="m", timestamp=int(time.time()))


def _wait(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_first_match_answers_and_the_others_get_copies(tmp_path: Path) -> None:
    """The caller gets the first matching route's answer; the other routes get the same
    request; the capture line lists every route with its result, once all are known."""
    capture = tmp_path / "c.jsonl"
    with running_target() as first, running_target() as second, running_target() as third:
        routes = (Route(("tip.*",), f"{first.url}/status/201"), Route(("*",), second.url),
                  Route(("subscriber.*",), third.url))
        with running_relay(RelaySettings("", capture, routes=routes)) as relay:
            answer = httpx.post(f"{relay.started.local_url}/in?x=1", content=TIP,
                                headers=_signed(TIP), timeout=5)
            relay.wait_for(sinks.Delivered)
            _wait(lambda: capture.exists() and capture.read_text())
    assert answer.status_code == 201 and answer.content == TIP
    assert [r.path for r in first.requests] == ["/status/201/in?x=1"]
    assert [(r.path, r.body) for r in second.requests] == [("/in?x=1", TIP)]
    assert second.requests[0].values("x-ofapi-signature") == [dict(_signed(TIP))[
        "X-OFAPI-Signature"]]
    assert third.requests == []
    [delivered] = relay.of(Delivered)
    assert (delivered.route, delivered.copies, delivered.unrouted) == (
        f"{first.url}/status/201", 1, False)
    [record] = _records(capture)
    assert [(r["to"], r["role"], r["status"]) for r in record["routes"]] == [
        (f"{first.url}/status/201", "answer", 201), (second.url, "copy", 200)]


def test_a_dead_copy_is_retried_captured_and_never_delays_the_answer(tmp_path: Path) -> None:
    """A copy to a route that refuses connections is tried `copy_attempts` times; the caller's
    answer came at once; the capture line records the failure and the attempts."""
    capture = tmp_path / "c.jsonl"
    dead = f"http://127.0.0.1:{closed_port()}"
    with running_target() as live:
        settings = RelaySettings(live.url, capture, routes=(Route(("*",), dead),),
                                 copy_attempts=3, copy_delay=0.05)
        with running_relay(settings) as relay:
            start = time.monotonic()
            answer = httpx.post(relay.started.local_url, content=TIP, timeout=5)
            answered_in = time.monotonic() - start
            relay.wait_for(sinks.Failed)
            _wait(lambda: capture.exists() and capture.read_text())
    assert answer.status_code == 200 and answered_in < 1
    retries = relay.of(sinks.Retrying)
    assert [r.attempt for r in retries] == [1, 2] and relay.of(sinks.Failed)[0].attempt == 3
    [record] = _records(capture)
    assert record["routes"][1] == {"to": dead, "role": "copy", "status": None,
                                   "ms": record["routes"][1]["ms"], "attempts": 3,
                                   "error": "connection refused"}


def test_an_unrouted_delivery_is_answered_202_and_captured(tmp_path: Path) -> None:
    """No route matches: nothing is relayed, the caller gets 202, the capture line has an
    empty `routes`, and the value says unrouted."""
    capture = tmp_path / "c.jsonl"
    with running_target() as target:
        settings = RelaySettings("", capture, routes=(Route(("subscriber.*",), target.url),))
        with running_relay(settings) as relay:
            answer = httpx.post(relay.started.local_url, content=TIP, timeout=5)
            relay.wait_for(Delivered)
    assert answer.status_code == UNROUTED == 202 and target.requests == []
    assert b"no route matches" in answer.content
    [delivered] = relay.of(Delivered)
    assert delivered.unrouted and delivered.route is None
    [record] = _records(capture)
    assert record["routes"] == [] and record["response"]["status"] == 202


def test_routes_match_accounts_and_providers_and_a_route_secret_re_signs(tmp_path: Path
                                                                         ) -> None:
    """`@acct_2` takes only that account; `provider` only that provider's deliveries; a
    route `secret` re-signs the delivery for that route (it verifies with that secret)."""
    capture = tmp_path / "c.jsonl"
    staging = "staging-secret"
    with running_target() as other, running_target() as ofapi, running_target() as fallback:
        routes = (Route(("*",), other.url, accounts=("acct_2",)),
                  Route(("*",), ofapi.url, provider="ofapi", secret=staging),
                  Route(("*",), fallback.url))
        with running_relay(RelaySettings("", capture, secrets=(SECRET,),
                                         routes=routes)) as relay:
            httpx.post(relay.started.local_url, content=TIP, headers=_signed(TIP), timeout=5)
            unsigned = b'{"type":"x","account_id":"acct_3"}'
            httpx.post(relay.started.local_url, content=unsigned, timeout=5)
            relay.wait_for(Delivered, 2)
            relay.wait_for(sinks.Delivered)
    assert other.requests == []
    [resigned] = ofapi.requests
    headers = [(k, v) for k, v in resigned.headers]
    assert verify(resigned.body, headers, [staging], now=time.time()).valid
    assert not verify(resigned.body, headers, [SECRET], now=time.time()).valid
    assert sorted(r.body for r in fallback.requests) == sorted([TIP, unsigned])  # a copy, then
    # the answer to the unsigned one (it is no ofapi delivery)


def test_each_delivery_is_stored_in_redis_byte_for_byte(tmp_path: Path,
                                                        redis_server: RedisServer,
                                                        redis_client: Any) -> None:
    """`--sink`: one entry per delivery with its method, path, headers and exact body."""
    from ofevents_cli.core.sink_urls import parse_redis_url

    body = b"\xff\x00 not json"
    with running_target() as target:
        settings = RelaySettings(target.url, tmp_path / "c.jsonl",
                                 sinks=(parse_redis_url(f"{redis_server.url}?stream=dl"),))
        with running_relay(settings) as relay:
            httpx.put(f"{relay.started.local_url}/p?q=1", content=body,
                      headers=[("X-Rep", "a"), ("X-Rep", "b")], timeout=5)
            relay.wait_for(sinks.Stored)
    [(_, fields)] = redis_client.xrange("dl")
    [record] = [r for r in read_captures(
        (tmp_path / "c.jsonl").read_text().splitlines()) if isinstance(r, Capture)]
    assert fields[b"id"].decode() == record.id and fields[b"body"] == body
    assert (fields[b"kind"], fields[b"method"], fields[b"path"]) == (b"delivery", b"PUT",
                                                                    b"/p?q=1")
    assert [h for h in json.loads(fields[b"headers"]) if h[0] == "x-rep"] == [
        ["x-rep", "a"], ["x-rep", "b"]]
