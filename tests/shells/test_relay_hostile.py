"""The relay under raw-socket attack: it only ever talks to the --to origin, and never takes a
broken request for a delivery."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.core.request_target import target_problem
from ofevents_cli.shells.relay import Delivered, RelaySettings
from tests.target import RelayRun, running_relay, running_target


def raw_exchange(run: RelayRun, request: bytes, *, linger: float = 2.0) -> bytes:
    """Write `request` as is to the relay and read until it closes or goes quiet."""
    port = int(run.started.local_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        conn.settimeout(linger)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                head, _, body = answer.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                if length and len(body) >= int(length.group(1)):
                    break
        except TimeoutError:
            pass
    return answer


def records(path: Path) -> list[Capture]:
    """The capture file's records (all must parse)."""
    read = list(read_captures(path.read_bytes().splitlines()))
    assert all(isinstance(r, Capture) for r in read), read
    return [r for r in read if isinstance(r, Capture)]


def test_userinfo_in_the_request_target_cannot_reach_another_port(tmp_path: Path) -> None:
    """`POST @127.0.0.1:OTHER/pwned` with a path-less --to: 400, captured; OTHER sees nothing."""
    with running_target() as other, running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        line = f"POST @127.0.0.1:{other.port}/pwned HTTP/1.1\r\n".encode()
        answer = raw_exchange(run, line + b"Host: x\r\nContent-Length: 2\r\n\r\n{}")
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"origin-form" in answer
    assert other.requests == [] and target.requests == []
    [record] = records(tmp_path / "c.jsonl")
    assert record.path == f"@127.0.0.1:{other.port}/pwned" and record.body == b"{}"
    assert record.response is not None and record.response.status == 400
    [delivered] = run.of(Delivered)
    assert delivered.status == 400 and delivered.error is not None


@pytest.mark.parametrize("line", [
    b"POST http://evil.example/x HTTP/1.1",
    b"GET http://127.0.0.1:1/ HTTP/1.1",
    b"CONNECT evil.example:443 HTTP/1.1",
    b"OPTIONS * HTTP/1.1",
    b"POST /hooks/../../admin HTTP/1.1",
    b"POST /./x HTTP/1.1",
])
def test_targets_that_are_not_plain_paths_get_400_and_a_capture_line(
        tmp_path: Path, line: bytes) -> None:
    """Absolute-form, authority-form (CONNECT), asterisk-form, dot segments: a 400 answer and
    a capture line, never a 500, a traceback or a request to the target."""
    with running_target() as target, \
            running_relay(RelaySettings(f"{target.url}/hooks", tmp_path / "c.jsonl")) as run:
        answer = raw_exchange(run, line + b"\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert target.requests == []
    [record] = records(tmp_path / "c.jsonl")
    assert record.response is not None and record.response.status == 400
    assert record.method == line.split()[0].decode()
    assert run.error is None


def test_a_body_cut_short_is_neither_relayed_nor_taken_for_a_delivery(tmp_path: Path) -> None:
    """Content-Length 100, 40 bytes, hang-up: nothing reaches the target; the capture line is
    marked truncated and the delivery is reported as unanswered."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                         + b"a" * 40)
            time.sleep(0.2)
        run.wait_for(Delivered)
    assert target.requests == []
    [record] = records(tmp_path / "c.jsonl")
    assert record.truncated and record.body == b"a" * 40 and record.response is None
    [delivered] = run.of(Delivered)
    assert delivered.status is None
    assert delivered.error is not None and "40 of 100" in delivered.error


@pytest.mark.parametrize(("target", "allowed"), [
    ("/", True), ("/webhooks/ofapi?x=1&y=/../", True), ("/.well-known/x", True),
    ("/a..b/c.", True), ("@h:1/x", False), ("http://h/x", False), ("h:443", False),
    ("*", False), ("/a/../b", False), ("/a/.", False), ("/a b", False), ("/\x7f", False),
    ("/é", False), ("", False),
])
def test_only_origin_form_paths_without_dot_segments_are_relayable(
        target: str, allowed: bool) -> None:
    """The rule the relay applies to every request target."""
    assert (target_problem(target) is None) is allowed


def test_a_body_nested_past_any_parser_is_relayed_as_bytes(tmp_path: Path) -> None:
    """200,000 `[`: too deep for orjson and for Python's json (RecursionError); the relay
    still relays, captures and answers it, with no event type."""
    body = b"[" * 200_000
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        request = (b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
        answer = raw_exchange(run, request + body)
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert [r.body for r in target.requests] == [body]
    [delivered] = run.of(Delivered)
    assert delivered.event is None and delivered.status == 200
    assert records(tmp_path / "c.jsonl")[0].body == body
