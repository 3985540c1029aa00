"""The relay under raw-socket attack: it only ever talks to the --to origin, and never takes a
broken request for a delivery."""

from __future__ import annotations

import logging
import re
import socket
import time
from pathlib import Path

import pytest

from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.core.request_target import request_problem, target_problem
from ofevents_cli.shells.relay import Delivered, RelaySettings
from tests.target import RelayRun, running_relay, running_target


def raw_exchange(run: RelayRun, request: bytes, *, linger: float = 2.0) -> bytes:
    """Write `request` as is to the relay and read until it closes or goes quiet."""
    port = int(run.started.local_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        return read_answer(conn, linger)


def read_answer(conn: socket.socket, linger: float = 2.0) -> bytes:
    """One answer on `conn`: up to the end of its body, or until it closes or goes quiet."""
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
    b"POST /x#frag HTTP/1.1",
    b"CONNECT /m HTTP/1.1",
    b"connect /m HTTP/1.1",
])
def test_targets_that_are_not_plain_paths_get_400_and_a_capture_line(
        tmp_path: Path, line: bytes) -> None:
    """Absolute-form, authority-form (CONNECT), asterisk-form, dot segments, a fragment,
    CONNECT with a path (in any case): a 400 answer and a capture line, never a 500, a
    traceback or a request to the target."""
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
    ("/é", False), ("", False), ("/x#frag", False), ("/x?a#b", False),
    ("/\\h/x", False), ("/%2e%2e/x", False), ("/a/%2E/b", False), ("/a/.%2e", False),
    ("/a%2eb/c", True), ("/x?q=%2e%2e", True),
])
def test_only_origin_form_paths_without_dot_segments_are_relayable(
        target: str, allowed: bool) -> None:
    """The rule the relay applies to every request target."""
    assert (target_problem(target) is None) is allowed


@pytest.mark.parametrize("method", ["CONNECT", "connect", "Connect"])
def test_connect_is_never_relayable_whatever_its_target(method: str) -> None:
    """A tunnel request, even with a path: the relay's client sends methods in upper case."""
    assert request_problem(method, "/m") is not None and "proxy" in str(
        request_problem(method, "/m"))
    assert request_problem("POST", "/m") is None
    assert request_problem("POST", "@h:1/x") == target_problem("@h:1/x")


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """ERROR records any logger wrote (uvicorn's "Exception in ASGI application", …)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


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


def read_until_closed(conn: socket.socket, seconds: float = 5.0) -> bytes:
    """Everything the relay sends on `conn` until it closes the connection."""
    conn.settimeout(seconds)
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    return answer


def test_a_refused_target_on_a_kept_alive_connection_is_still_captured(tmp_path: Path) -> None:
    """A plain delivery, answered; then `@host:port/x` on the same connection: llhttp will not
    read that target, so h11 takes the connection over and the relay answers 400 and
    captures it, exactly as on a fresh connection."""
    with running_target() as other, running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            first = read_answer(conn)
            conn.sendall(f"POST @127.0.0.1:{other.port}/pwned HTTP/1.1\r\n".encode()
                         + b"Host: x\r\nContent-Length: 2\r\n\r\n{}")
            second = read_answer(conn)
        run.wait_for(Delivered, 2)
    assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 400 ")
    assert b"origin-form" in second
    assert other.requests == [] and [r.path for r in target.requests] == ["/hook"]
    assert [r.path for r in records(tmp_path / "c.jsonl")] == [
        "/hook", f"@127.0.0.1:{other.port}/pwned"]


def test_a_broken_request_pipelined_behind_one_in_flight_is_answered_after_it(
        tmp_path: Path) -> None:
    """A slow delivery and, in the same write, a request llhttp refuses: the delivery's own
    answer comes first, then a 400, then the connection closes; only the delivery is relayed."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /slow/0.3 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                         b"POST @127.0.0.1:1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            answer = read_until_closed(conn)
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert answer.count(b"HTTP/1.1 ") == 2 and b"\r\n\r\n{}HTTP/1.1 400 " in answer
    assert [r.path for r in target.requests] == ["/slow/0.3"]
    assert [r.path for r in records(tmp_path / "c.jsonl")] == ["/slow/0.3"]
    assert run.error is None


@pytest.mark.parametrize("cut", [b"zz\r\n", b"2\r\n{}xx"])
def test_a_broken_body_pipelined_behind_a_delivery_in_flight_is_answered_after_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, cut: bytes) -> None:
    """A slow delivery and, in the same write, a request whose chunked body is broken: the
    delivery's 200 first, then the 400, then the close. The broken request never runs; the
    delivery is reported and captured, and nothing fails on the way."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /slow/0.3 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                         b"POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + cut)
            answer = read_until_closed(conn)
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert answer.count(b"HTTP/1.1 ") == 2 and b"\r\n\r\n{}HTTP/1.1 400 " in answer
    assert [r.path for r in target.requests] == ["/slow/0.3"]
    assert [(d.path, d.status) for d in run.of(Delivered)] == [("/slow/0.3", 200)]
    assert [r.path for r in records(tmp_path / "c.jsonl")] == ["/slow/0.3"]
    assert errors_logged(caplog) == [] and run.error is None


def test_a_caller_that_hangs_up_with_an_answer_owed_leaves_the_relay_unharmed(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two deliveries in one write, the first slow, then the caller hangs up: the first is
    relayed, reported and captured; its answer has nowhere to go and is dropped without an
    error; the relay goes on serving."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /slow/0.3 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"
                         b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n2")
            time.sleep(0.05)
        run.wait_for(Delivered)
        after = raw_exchange(run, b"POST /after HTTP/1.1\r\nHost: x\r\nContent-Length: 1"
                                  b"\r\n\r\n3")
        run.wait_for(Delivered, 2)
    assert after.startswith(b"HTTP/1.1 200 ") and after.endswith(b"3")
    assert [(d.path, d.status) for d in run.of(Delivered)] == [("/slow/0.3", 200),
                                                                ("/after", 200)]
    assert [r.path for r in target.requests] == ["/slow/0.3", "/after"]
    assert errors_logged(caplog) == [] and run.error is None


@pytest.mark.parametrize("fold", [b"", b"X-A: a\r\n b\r\n"])
def test_a_request_framed_by_both_lengths_is_answered_then_the_connection_closed(
        tmp_path: Path, fold: bytes) -> None:
    """Transfer-Encoding and Content-Length in one request (RFC 9112 6.1: a server must close
    after answering it), read by either parser (an obs-fold sends it to h11): one answer, with
    `connection: close`, then the close; what was pipelined behind it is not relayed."""
    request = (b"POST /a HTTP/1.1\r\nHost: x\r\n" + fold + b"Transfer-Encoding: chunked\r\n"
               b"Content-Length: 3\r\n\r\n0\r\n\r\n"
               b"POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(request)
            answer = read_until_closed(conn)
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1 ") == 1, answer
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert [r.path for r in target.requests] == ["/a"]


@pytest.mark.parametrize("split", [False, True])
def test_a_request_head_past_16_kib_gets_400_and_is_not_relayed(tmp_path: Path,
                                                                  split: bool) -> None:
    """A 20 KiB header, in one write or byte by byte in pieces: the relay holds no more than
    h11's limit, answers 400, relays nothing."""
    head = b"POST /hook HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n"
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            pieces = [head[i:i + 4096] for i in range(0, len(head), 4096)] if split else [head]
            for piece in pieces:
                conn.sendall(piece)
                if split:
                    time.sleep(0.02)
            answer = read_until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert target.requests == []
    assert run.error is None


def test_a_refused_target_whose_head_and_body_come_later_is_captured_whole(
        tmp_path: Path) -> None:
    """`POST @host:port/x` alone, then its headers and body in later writes: h11 takes over at
    the refusal and reads the rest, so the capture line holds the body."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            for piece in (b"POST @127.0.0.1:1/x HTTP/1.1\r\n", b"Host: x\r\nContent-Length: 7",
                          b"\r\n\r\n{\"a\":", b"1}"):
                conn.sendall(piece)
                time.sleep(0.05)
            answer = read_answer(conn)
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"origin-form" in answer
    assert target.requests == []
    [record] = records(tmp_path / "c.jsonl")
    assert record.path == "@127.0.0.1:1/x" and record.body == b'{"a":1}'


def test_deliveries_pipelined_in_one_write_are_relayed_and_answered_in_order(
        tmp_path: Path) -> None:
    """Three deliveries in one write, the first slow: three answers in their order."""
    requests = b"".join(b"POST /%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d" % (p, n)
                        for n, p in enumerate((b"slow/0.2", b"a", b"b")))
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(requests)
            answer = b""
            while (answer.count(b"HTTP/1.1 200 ") < 3 or not answer.endswith(b"2")) and (
                    chunk := conn.recv(65536)):
                answer += chunk
        run.wait_for(Delivered, 3)
    bodies = [part.rsplit(b"\r\n\r\n", 1)[1] for part in answer.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"0", b"1", b"2"]
    assert [r.path for r in target.requests] == ["/slow/0.2", "/a", "/b"]


@pytest.mark.parametrize("head", [
    b"POST /hook HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    b"POST /hook HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 0\r\n\r\n",
    b"POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
])
def test_heads_the_fast_parser_reads_but_h11_refuses_are_refused_as_h11_does(
        tmp_path: Path, head: bytes) -> None:
    """No Host, two Hosts, a coding the relay cannot undo: h11's 400, nothing relayed."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        answer = raw_exchange(run, head)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"Invalid HTTP request" in answer and target.requests == []
    assert run.error is None


def test_a_broken_chunked_body_gets_400_and_a_truncated_capture_line(tmp_path: Path) -> None:
    """One good chunk, then a chunk size that is not hex: 400 at once, nothing relayed, and
    what came is captured as truncated (not taken for a delivery)."""
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        answer = raw_exchange(run, b"POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                   b"\r\n\r\n2\r\n{}\r\nzz\r\n")
        run.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert target.requests == []
    [record] = records(tmp_path / "c.jsonl")
    assert record.truncated and record.response is None


def test_a_delivery_pipelined_behind_a_20_kib_body_is_not_taken_for_a_large_head(
        tmp_path: Path) -> None:
    """A 20 KiB delivery and the start of a small one in one write, the rest of it later: the
    first body's bytes do not count toward the second's 16 KiB head limit."""
    big = b"x" * 20_000
    requests = (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
                + b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1")
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as run:
        port = int(run.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(requests[:-20])
            time.sleep(0.2)
            conn.sendall(requests[-20:])
            answer = b""
            while not answer.endswith(b"\r\n\r\n1") and (chunk := conn.recv(65536)):
                answer += chunk
        run.wait_for(Delivered, 2)
    assert answer.count(b"HTTP/1.1 200 ") == 2, answer[:200]
    assert [r.path for r in target.requests] == ["/a", "/b"]
