"""The relay's own client for http:// targets (shells/upstream.py), against raw servers on
127.0.0.1: the bytes it sends, the answers it reads, the connections it keeps or drops."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from ofevents_cli.shells.relay import Delivered, RelaySettings
from tests.shells.test_relay_hostile import raw_exchange
from tests.target import RelayRun, keep_alive, running_relay, scripted

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nown"


def through_relay(tmp_path: Path, wire: bytes) -> tuple[httpx.Response, RelayRun]:
    """One delivery through a relay to a target that answers it with `wire` and closes: the
    caller's answer, and the relay's run once the delivery is reported."""
    with scripted({b"POST": wire}) as url, \
            running_relay(RelaySettings(url, tmp_path / "c.jsonl")) as relay:
        answer = httpx.post(f"{relay.started.local_url}/h", content=b"{}", timeout=5)
        relay.wait_for(Delivered)
    return answer, relay


def test_the_target_gets_the_request_as_sent_plus_host_and_length_only(tmp_path: Path) -> None:
    """Request line, headers in order and case (repeats kept), then Host and Content-Length:
    nothing else; a body-less DELETE says `Content-Length: 0`, a GET nothing (as aiohttp)."""
    sent = [b"POST /hook?a=1 HTTP/1.1\r\nHost: x\r\nX-Sig: a\r\nx-sig: b\r\n"
            b"Content-Length: 7\r\n\r\n{\"x\":1}",
            b"DELETE /gone HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /read HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"]
    with keep_alive(lambda _: (0, OK)) as target, \
            running_relay(RelaySettings(target.url + "/base", tmp_path / "c.jsonl")) as relay:
        for request in sent:
            assert raw_exchange(relay, request).endswith(b"own")
        relay.wait_for(Delivered, 3)
    host = f"Host: {target.url.removeprefix('http://')}\r\n".encode()
    assert target.requests == [
        b"POST /base/hook?a=1 HTTP/1.1\r\n" + host
        + b"x-sig: a\r\nx-sig: b\r\nContent-Length: 7\r\n\r\n{\"x\":1}",
        b"DELETE /base/gone HTTP/1.1\r\n" + host + b"Content-Length: 0\r\n\r\n",
        b"GET /base/read HTTP/1.1\r\n" + host + b"accept: */*\r\n\r\n"]


def test_one_connection_carries_one_delivery_after_another(tmp_path: Path) -> None:
    """Keep-alive: ten deliveries in a row reach the target over a single connection."""
    with keep_alive(lambda _: (0, OK)) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as relay:
        with httpx.Client(timeout=5) as client:
            answers = [client.post(f"{relay.started.local_url}/h", content=b"{}")
                       for _ in range(10)]
        relay.wait_for(Delivered, 10)
    assert [(a.status_code, a.content) for a in answers] == [(200, b"own")] * 10
    assert (len(target.requests), target.connections) == (10, 1)


def test_a_target_that_closes_after_each_answer_gets_a_new_connection_each_time(
        tmp_path: Path) -> None:
    """`Connection: close` answers: every delivery still gets its own answer."""
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye"
    with keep_alive(lambda _: (0, closing)) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as relay:
        answers = [httpx.post(f"{relay.started.local_url}/h", content=b"{}", timeout=5)
                   for _ in range(4)]
        relay.wait_for(Delivered, 4)
    assert [(a.status_code, a.content) for a in answers] == [(200, b"bye")] * 4
    assert target.connections == 4


def test_a_second_answer_to_one_request_is_never_taken_for_the_next(tmp_path: Path) -> None:
    """A target that answers one request twice: the relay drops that connection, so the next
    delivery gets the answer to itself, over a new one."""
    twice = OK + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"
    with keep_alive(lambda _: (0, twice)) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as relay:
        answers = [httpx.post(f"{relay.started.local_url}/h", content=b"{}", timeout=5)
                   for _ in range(3)]
        relay.wait_for(Delivered, 3)
    assert [a.content for a in answers] == [b"own"] * 3
    assert target.connections == 3


def test_an_answer_too_late_never_reaches_the_next_delivery(tmp_path: Path) -> None:
    """The first delivery times out (504); its late answer dies with its connection, so the
    second gets the target's answer to itself."""
    def answer(request: bytes) -> tuple[float, bytes]:
        if b"/first" in request:
            return 1.0, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"
        return 0, OK

    with keep_alive(answer) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl", timeout=0.3)) as relay:
        first = httpx.post(f"{relay.started.local_url}/first", content=b"{}", timeout=5)
        second = httpx.post(f"{relay.started.local_url}/second", content=b"{}", timeout=5)
        relay.wait_for(Delivered, 2)
    assert (first.status_code, second.status_code, second.content) == (504, 200, b"own")


@pytest.mark.parametrize(("wire", "body"), [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     b"abcde"),
    (b"HTTP/1.1 200 OK\r\nX-Till: close\r\n\r\nto the end", b"to the end"),
    (b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter", b"after"),
], ids=["chunked", "until-close", "early-hints"])
def test_answers_framed_every_http11_way_come_back_whole(tmp_path: Path, wire: bytes,
                                                         body: bytes) -> None:
    """Chunked, ended by the close, or behind a 1xx: the caller gets the body with a length."""
    answer, _ = through_relay(tmp_path, wire)
    assert (answer.status_code, answer.content) == (200, body)
    assert answer.headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in answer.headers
    [line] = (tmp_path / "c.jsonl").read_text().splitlines()
    assert json.loads(line)["response"]["status"] == 200


def test_an_answer_that_is_not_http_gets_502_naming_it(tmp_path: Path) -> None:
    """A target speaking another protocol: 502, and the capture line says why."""
    answer, relay = through_relay(tmp_path, b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    assert answer.status_code == 502
    [delivered] = relay.of(Delivered)
    assert delivered.error is not None and "not HTTP/1.1" in delivered.error
    [line] = (tmp_path / "c.jsonl").read_text().splitlines()
    assert json.loads(line)["response"]["status"] == 502


def test_an_answer_is_one_write_and_100_continue_still_comes_first(tmp_path: Path) -> None:
    """`Expect: 100-continue`: the caller gets `100 Continue` before it sends the body (the
    answer's head is held for its body, not this); then the whole answer."""
    with keep_alive(lambda _: (0, OK)) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as relay:
        port = int(relay.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"POST /h HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 2\r\n\r\n")
            assert conn.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
            conn.sendall(b"{}")
            answer = conn.recv(65536)
        relay.wait_for(Delivered)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\nown")
    assert target.requests[0].endswith(b"Content-Length: 2\r\n\r\n{}")


def test_an_endless_answer_head_is_cut_at_64_kib(tmp_path: Path) -> None:
    """A target whose answer head never ends: 502 once it passes 64 KiB, not memory without
    bound."""
    endless = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 200_000 + b"\r\n"
    answer, relay = through_relay(tmp_path, endless)
    assert answer.status_code == 502
    [delivered] = relay.of(Delivered)
    assert delivered.error == "the target's answer head is over 64 KiB"


def test_a_head_pipelined_before_a_post_is_answered_first(tmp_path: Path) -> None:
    """HEAD then POST in one write: the HEAD's answer (a head with no body) goes out first,
    then the POST's; neither is held back behind the other."""
    def answer(request: bytes) -> tuple[float, bytes]:
        if request.startswith(b"HEAD"):
            return 0, b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"
        return 0, OK

    with keep_alive(answer) as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl")) as relay:
        port = int(relay.started.local_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"HEAD /doc HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"POST /h HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            got = b""
            while not got.endswith(b"own"):
                chunk = conn.recv(65536)
                assert chunk, got
                got += chunk
        relay.wait_for(Delivered, 2)
    head, post = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 42" in head
    assert post.startswith(b"HTTP/1.1 200 OK") and post.endswith(b"\r\n\r\nown")


def test_a_large_answer_read_at_once_comes_back_whole(tmp_path: Path) -> None:
    """A 200 KB answer body (one read on loopback) is relayed, not taken for a long head."""
    big = b"x" * 200_000
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n" + big
    answer, _ = through_relay(tmp_path, wire)
    assert (answer.status_code, answer.content) == (200, big)


def test_an_interim_answer_then_a_close_is_a_cut_answer(tmp_path: Path) -> None:
    """`100 Continue` and then nothing: 502 mid-answer, never a 100 handed to the caller."""
    answer, relay = through_relay(tmp_path, b"HTTP/1.1 100 Continue\r\n\r\n")
    assert answer.status_code == 502
    assert relay.of(Delivered)[0].error == "the target closed the connection mid-answer"


def test_a_chunked_answers_trailers_are_not_relayed_as_headers(tmp_path: Path) -> None:
    """Trailers after the last chunk (a Set-Cookie among them) are dropped, as aiohttp did."""
    wire = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
            b"2\r\nok\r\n0\r\nX-T: 1\r\nSet-Cookie: evil=1\r\n\r\n")
    answer, _ = through_relay(tmp_path, wire)
    assert (answer.status_code, answer.content) == (200, b"ok")
    assert "x-t" not in answer.headers and "set-cookie" not in answer.headers


def test_a_target_path_no_request_line_can_carry_gets_502_and_a_capture_line(
        tmp_path: Path) -> None:
    """A --to path with text that is not latin-1: 502 saying it cannot be sent, captured."""
    with keep_alive(lambda _: (0, OK)) as target, \
            running_relay(RelaySettings(target.url + "/caf\u20ac", tmp_path / "c.jsonl")) as relay:
        answer = httpx.post(f"{relay.started.local_url}/h", content=b"{}", timeout=5)
        relay.wait_for(Delivered)
    assert answer.status_code == 502 and target.requests == []
    [delivered] = relay.of(Delivered)
    assert delivered.error is not None and delivered.error.startswith("cannot be sent: ")
    [line] = (tmp_path / "c.jsonl").read_text().splitlines()
    assert json.loads(line)["response"]["status"] == 502
