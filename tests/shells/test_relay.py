"""The relay against a real target on 127.0.0.1: byte for byte both ways, limits, captures."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.core.signing import sign, verify
from ofevents_cli.shells.relay import Delivered, RelaySettings, TargetDown, TargetUp, join_url
from tests.target import closed_port, running_relay, running_target, scripted

SVIX_SECRET = "whsec_" + base64.b64encode(b"relay-tests-signing-key-32-bytes").decode()


def captures(path: Path) -> list[Capture]:
    """The capture file's records (all must parse)."""
    records = list(read_captures(path.read_text(encoding="utf-8").splitlines()))
    assert all(isinstance(r, Capture) for r in records), records
    return [r for r in records if isinstance(r, Capture)]


@pytest.fixture
def capture_path(tmp_path: Path) -> Iterator[Path]:
    """Where the relay under test writes its capture."""
    yield tmp_path / "capture.jsonl"


def test_request_and_answer_are_relayed_byte_for_byte(capture_path: Path) -> None:
    """Non-UTF-8 body, query, repeated headers reach the target; its answer comes back whole."""
    body = bytes(range(256)) * 3
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path)) as relay:
        answer = httpx.post(f"{relay.started.local_url}/hooks/a?x=1&y=%20z", content=body,
                            headers=[("X-Rep", "one"), ("X-Rep", "two"),
                                     ("Content-Type", "application/octet-stream")], timeout=5)
        relay.wait_for(Delivered)
    [got] = target.requests
    assert (got.method, got.path, got.body) == ("POST", "/hooks/a?x=1&y=%20z", body)
    assert got.values("x-rep") == ["one", "two"]
    assert answer.status_code == 200 and answer.content == body
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    [record] = captures(capture_path)
    assert record.body == body and record.path == "/hooks/a?x=1&y=%20z"
    assert [v for k, v in record.headers if k == "x-rep"] == ["one", "two"]
    assert json.loads(capture_path.read_text())["body_base64"] is not None
    assert record.response is not None and record.response.status == 200


def test_to_path_and_path_prefix_the_relayed_path(capture_path: Path) -> None:
    """--to …/api plus --path /hooks sends /x?q=1 to /api/hooks/x?q=1 and / to /api/hooks."""
    with running_target() as target, \
            running_relay(RelaySettings(f"{target.url}/api/", capture_path,
                                        path="/hooks")) as relay:
        httpx.post(f"{relay.started.local_url}/x?q=1", content=b"1", timeout=5)
        httpx.get(f"{relay.started.local_url}/", timeout=5)
        relay.wait_for(Delivered, 2)
    assert [(r.method, r.path) for r in target.requests] == [("POST", "/api/hooks/x?q=1"),
                                                            ("GET", "/api/hooks")]


def test_join_url_keeps_the_target_origin_and_query() -> None:
    """Plain targets pass the path through; a target path is a prefix."""
    assert join_url("http://localhost:3000", "", "/a/b?c=1") == "http://localhost:3000/a/b?c=1"
    assert join_url("http://localhost:3000/", "", "/") == "http://localhost:3000/"
    assert join_url("https://h:8443/w", "/v", "/?x") == "https://h:8443/w/v?x"


def test_chunked_request_body_is_relayed_whole(capture_path: Path) -> None:
    """A chunked upload arrives at the target as the same bytes, with a Content-Length."""
    parts = [b"{\"type\":", b"\"tip.received\"", b"}"]
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path)) as relay:
        answer = httpx.post(f"{relay.started.local_url}/hook", content=iter(parts), timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 200
    [got] = target.requests
    assert got.body == b"".join(parts) and got.values("content-length") == [str(len(got.body))]
    assert [d.event for d in relay.of(Delivered)] == ["tip.received"]


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_body_gets_413_and_is_not_relayed(capture_path: Path, chunked: bool) -> None:
    """Past --max-body the caller gets 413, declared or streamed, and the target sees nothing."""
    body = b"x" * 5000
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path, max_body=1000)) as relay:
        content = iter([body[:2500], body[2500:]]) if chunked else body
        answer = httpx.post(f"{relay.started.local_url}/hook", content=content, timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 413 and target.requests == []
    [delivered] = relay.of(Delivered)
    assert delivered.status == 413
    [record] = captures(capture_path)
    assert (record.id, record.path, record.body, record.response and record.response.status) \
        == (delivered.id, "/hook", b"", 413)
    assert json.loads(capture_path.read_text(encoding="utf-8"))["truncated"] is True


def test_a_failed_capture_write_is_reported_and_the_answer_still_comes_back() -> None:
    """--capture /dev/full: the target's answer reaches the caller; the loss is a value."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, Path("/dev/full"))) as relay:
        answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}", timeout=5)
        relay.wait_for(Delivered)
    assert (answer.status_code, answer.content) == (200, b"{}")
    [delivered] = relay.of(Delivered)
    assert delivered.capture_error is not None and "/dev/full" in delivered.capture_error


def test_a_capture_file_deleted_during_the_run_stops_cleanly(capture_path: Path) -> None:
    """Removing the capture file mid-run is no error at exit."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path)) as relay:
        capture_path.unlink()
        assert relay.error is None
    assert relay.error is None and not capture_path.exists()


def test_target_down_gets_502_and_is_reported_until_it_starts(capture_path: Path) -> None:
    """Nothing listening: 502 to the caller, TargetDown at once, TargetUp once it listens."""
    port = closed_port()
    with running_relay(RelaySettings(f"http://127.0.0.1:{port}", capture_path)) as relay:
        relay.wait_for(TargetDown)
        answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}", timeout=5)
        assert answer.status_code == 502
        with running_target(port):
            relay.wait_for(TargetUp, timeout=5)
            assert httpx.post(f"{relay.started.local_url}/h", content=b"{}",
                              timeout=5).status_code == 200
        relay.wait_for(Delivered, 2)
    assert [r.response.status for r in captures(capture_path) if r.response] == [502, 200]
    assert relay.of(TargetDown)[0].target == f"127.0.0.1:{port}"


def test_slow_target_gets_504_after_the_timeout(capture_path: Path) -> None:
    """A target slower than the relay's timeout: the caller gets 504, the capture says so."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path, timeout=0.3)) as relay:
        answer = httpx.post(f"{relay.started.local_url}/slow/2", content=b"{}", timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 504
    [delivered] = relay.of(Delivered)
    assert delivered.error == "timed out"


def test_fifty_concurrent_deliveries_are_relayed_together_and_all_captured(
        capture_path: Path) -> None:
    """50 deliveries at once overlap at the target and give 50 capture lines, ids unique."""
    async def burst(url: str) -> list[int]:
        async with httpx.AsyncClient(timeout=10) as client:
            answers = await asyncio.gather(*(
                client.post(f"{url}/slow/0.2/{n}", content=f'{{"n":{n}}}'.encode())
                for n in range(50)))
        return [a.status_code for a in answers]

    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path)) as relay:
        statuses = asyncio.run(burst(relay.started.local_url))
        relay.wait_for(Delivered, 50)
    assert statuses == [200] * 50 and target.peak >= 10
    records = captures(capture_path)
    assert len(records) == 50 and len({r.id for r in records}) == 50
    assert sorted(json.loads(r.body)["n"] for r in records) == list(range(50))


def test_signatures_are_checked_live_and_agree_offline(capture_path: Path) -> None:
    """Good and bad signatures get live verdicts that verify() over the capture repeats."""
    body = b'{"type":"connection.created","data":{}}'
    import time

    now = int(time.time())
    good = sign("svix", SVIX_SECRET, body, msg_id="msg_1", timestamp=now)
    bad = sign("ofapi", "not-the-secret", body, msg_id="x", timestamp=now)
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path,
                                        secrets=(SVIX_SECRET, "ofapi-secret"))) as relay:
        for headers in (good, bad):
            httpx.post(f"{relay.started.local_url}/hook", content=body, headers=headers,
                       timeout=5)
        relay.wait_for(Delivered, 2)
    live = [(d.provider, d.valid, d.reason) for d in relay.of(Delivered)]
    assert live == [("ofauth", True, None), ("ofapi", False, "mismatch")]
    assert len(target.requests) == 2
    offline = []
    for record in captures(capture_path):
        valid = any(verify(record.body, record.headers, [secret], now=record.received_epoch).valid
                    for secret in (SVIX_SECRET, "ofapi-secret"))
        offline.append(valid)
        assert record.verification is not None and record.verification.valid == valid
    assert offline == [True, False]


def test_reject_invalid_answers_401_without_relaying(capture_path: Path) -> None:
    """--reject-invalid: a bad signature gets 401 and never reaches the target."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, capture_path, secrets=("s3cret",),
                                        reject_invalid=True)) as relay:
        answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}",
                            headers={"X-OFAPI-Signature": "sha256=" + "0" * 64}, timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 401 and target.requests == []
    [record] = captures(capture_path)
    assert record.verification is not None and record.verification.reason == "mismatch"


def test_a_target_that_hangs_up_mid_answer_is_named_as_such(capture_path: Path) -> None:
    """Half an answer, then close: 502 saying the target closed mid-answer, not unreachable."""
    partial = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"
    with scripted({b"POST": partial}) as url, \
            running_relay(RelaySettings(url, capture_path)) as relay:
        answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}", timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 502
    assert answer.text == "the target closed the connection mid-answer (ofevents relay)\n"
    assert relay.of(TargetDown) == []


def test_head_204_and_304_answers_keep_a_correct_length(capture_path: Path) -> None:
    """HEAD gets the target's Content-Length; 204 and 304 get none."""
    with scripted({b"HEAD": b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n",
                   b"POST /204": b"HTTP/1.1 204 No Content\r\n\r\n",
                   b"POST /304": b"HTTP/1.1 304 Not Modified\r\n\r\n"}) as url, \
            running_relay(RelaySettings(url, capture_path)) as relay:
        local = relay.started.local_url
        head = httpx.head(f"{local}/doc", timeout=5)
        empty = [httpx.post(f"{local}/{code}", content=b"{}", timeout=5) for code in (204, 304)]
    assert (head.status_code, head.headers.get("content-length")) == (200, "42")
    assert [(r.status_code, r.headers.get("content-length")) for r in empty] == \
        [(204, None), (304, None)]
