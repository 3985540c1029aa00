"""`ofevents replay` against a real target: byte-for-byte re-sends, re-signing, filters, exits."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.signing import sign, verify
from ofevents_cli.shells.relay import Delivered, RelaySettings
from tests.target import closed_port, running_relay, running_target, scripted

SECRET = "ofapi-secret"
runner = CliRunner()


def capture_line(n: int, body: bytes, path: str = "/webhooks", *,
                 headers: tuple[tuple[str, str], ...] = (), at: float | None = None) -> str:
    """One capture record, as forward writes it."""
    base = (("Host", "abc.ngrok.app"), ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))), ("Connection", "keep-alive"))
    return Capture(id=f"dlv_{n}", received_at=format_timestamp(at or time.time()),
                   method="POST", path=path, headers=base + headers, body=body).to_json()


def write(tmp_path: Path, *lines: str) -> Path:
    """A capture file made of these lines."""
    path = tmp_path / "capture.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_forward_capture_replays_byte_for_byte_in_order(tmp_path: Path) -> None:
    """Deliveries captured by the relay reach the target again: same method, path, body."""
    import httpx

    capture = tmp_path / "forward.jsonl"
    bodies = [b'{"type":"tip.received","n":1}', bytes(range(200)), b'{"event":"users.typing"}']
    with running_target() as first, \
            running_relay(RelaySettings(first.url, capture)) as relay:
        for n, body in enumerate(bodies):
            httpx.post(f"{relay.started.local_url}/hooks/{n}?q={n}", content=body,
                       headers=[("X-Rep", "a"), ("X-Rep", "b")], timeout=5)
        relay.wait_for(Delivered, 3)
    with running_target() as second:
        result = runner.invoke(app, ["replay", str(capture), "--to", second.url, "--json"])
    assert result.exit_code == 0, result.stderr
    assert [(r.method, r.path, r.body) for r in second.requests] == \
        [(r.method, r.path, r.body) for r in first.requests]
    assert all(r.values("x-rep") == ["a", "b"] for r in second.requests)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in records] == [{"id", "line", "event", "status", "ms", "error"}] * 3
    assert [r["event"] for r in records] == ["tip.received", None, "users.typing"]


def test_headers_minus_hop_by_hop_and_paths_under_the_to_base(tmp_path: Path) -> None:
    """Host and Content-Length are the new request's own; the path is appended to --to."""
    path = write(tmp_path, capture_line(1, b"{}", "/w?x=1", headers=(("X-Id", "7"),)))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", f"{target.url}/base"])
    assert result.exit_code == 0, result.stderr
    [got] = target.requests
    assert got.path == "/base/w?x=1" and got.values("x-id") == ["7"]
    assert got.values("host") == [f"127.0.0.1:{target.port}"]
    assert got.values("content-length") == ["2"]
    assert "[200] POST" in result.stdout


def test_resign_replaces_the_signature_with_a_fresh_one(tmp_path: Path) -> None:
    """--resign: an hour-old ofauth-signature delivery arrives with a new, valid signature."""
    body = b'{"type":"connection.created"}'
    old = time.time() - 3600
    stale = tuple(sign("ofauth-signature", SECRET, body, msg_id="m", timestamp=int(old)))
    path = write(tmp_path, capture_line(1, body, headers=stale, at=old))
    with running_target() as target:
        plain = runner.invoke(app, ["replay", str(path), "--to", target.url])
        fresh = runner.invoke(app, ["replay", str(path), "--to", target.url, "--resign",
                                    "--secret", SECRET])
    assert plain.exit_code == 0 and fresh.exit_code == 0, fresh.stderr
    as_captured, resigned = target.requests
    now = time.time()
    assert verify(body, as_captured.headers, [SECRET], now=now).reason == \
        "timestamp_outside_tolerance"
    assert verify(body, resigned.headers, [SECRET], now=now).valid
    assert len(resigned.values("ofauth-signature")) == 1


def test_filter_keeps_only_the_named_events(tmp_path: Path) -> None:
    """--filter EVENT (repeatable) sends only those event types."""
    path = write(tmp_path, capture_line(1, b'{"type":"a.b"}'), capture_line(2, b'{"type":"c"}'),
                 capture_line(3, b'{"eventType":"d"}'))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url,
                                     "--filter", "a.b", "--filter", "d"])
    assert result.exit_code == 0, result.stderr
    assert [r.body for r in target.requests] == [b'{"type":"a.b"}', b'{"eventType":"d"}']


def test_malformed_line_is_reported_and_skipped(tmp_path: Path) -> None:
    """A broken line is named by number on stderr; the lines around it are still sent; the
    file held input that could not be read: exit 2, as verify says."""
    path = write(tmp_path, capture_line(1, b"1"), "{not json", capture_line(3, b"3"))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url])
    assert result.exit_code == 2
    assert [r.body for r in target.requests] == [b"1", b"3"]
    assert result.stderr.startswith("ofevents: warning: line 2: skipped: not valid JSON")
    assert "2 deliveries: 2 2xx" in result.stderr and "skipped: 1 unreadable" in result.stderr


def test_non_2xx_answer_exits_1(tmp_path: Path) -> None:
    """Any non-2xx answer: every delivery still sent, then exit 1."""
    path = write(tmp_path, capture_line(1, b"1", "/status/500"), capture_line(2, b"2"))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url, "--json"])
    assert result.exit_code == 1
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == [500, 200]
    assert len(target.requests) == 2


def test_unreachable_target_exits_3(tmp_path: Path) -> None:
    """Nothing listening at --to: exit 3 with a hint, no traceback."""
    path = write(tmp_path, capture_line(1, b"1"), capture_line(2, b"2"))
    result = runner.invoke(app, ["replay", str(path), "--to", str(closed_port())])
    assert result.exit_code == 3
    assert "unreachable" in result.stderr and "hint: " in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_missing_capture_file_exits_2(tmp_path: Path) -> None:
    """An unreadable CAPTURE: exit 2, one error line and a hint."""
    result = runner.invoke(app, ["replay", str(tmp_path / "nope.jsonl"), "--to", "3000"])
    assert result.exit_code == 2
    assert result.stderr.startswith("ofevents: error: cannot read capture file")


def test_capture_from_stdin(tmp_path: Path) -> None:
    """CAPTURE `-` reads the capture from stdin."""
    with running_target() as target:
        result = runner.invoke(app, ["replay", "-", "--to", target.url],
                               input=capture_line(1, b'{"type":"x"}') + "\n")
    assert result.exit_code == 0, result.stderr
    assert [r.body for r in target.requests] == [b'{"type":"x"}']


SVIX = "whsec_" + base64.b64encode(b"replay-tests-signing-key-32-byte").decode()


def test_the_target_gets_exactly_the_captured_headers(tmp_path: Path) -> None:
    """No httpx defaults, no Cookie from the target's earlier Set-Cookie answers, and a
    non-ASCII (latin-1) header value goes out byte for byte."""
    path = write(tmp_path, *(capture_line(n, b"{}", headers=(("X-Id", f"{n} caf\u00e9"),))
                             for n in (1, 2, 3)))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url])
    assert result.exit_code == 0, result.stderr
    got = [sorted((k.lower(), v) for k, v in r.headers) for r in target.requests]
    assert got == [sorted([("host", f"127.0.0.1:{target.port}"), ("content-length", "2"),
                           ("content-type", "application/json"), ("x-id", f"{n} caf\u00e9")])
                   for n in (1, 2, 3)]


def test_resign_picks_a_secret_that_fits_each_scheme(tmp_path: Path) -> None:
    """Two --secret: the svix line gets the whsec_ one, the ofapi line the other (not the first)."""
    svix_body, ofapi_body = b'{"type":"a"}', b'{"type":"b"}'
    old = int(time.time()) - 3600
    path = write(tmp_path,
                 capture_line(1, svix_body, headers=tuple(sign("svix", SVIX, svix_body,
                                                               msg_id="m", timestamp=old))),
                 capture_line(2, ofapi_body, headers=tuple(sign("ofapi", "stale", ofapi_body,
                                                                msg_id="m", timestamp=old))))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url, "--resign",
                                     "--secret", SVIX, "--secret", SECRET])
    assert result.exit_code == 0, result.stderr
    svix, ofapi = target.requests
    assert verify(svix_body, svix.headers, [SVIX], now=time.time()).valid
    assert verify(ofapi_body, ofapi.headers, [SECRET], now=time.time()).valid


def test_resign_without_a_usable_secret_fails(tmp_path: Path) -> None:
    """No secret at all: exit 2 before sending; no secret that fits a line: that line fails."""
    body = b'{"type":"a"}'
    path = write(tmp_path, capture_line(1, body, headers=tuple(
        sign("svix", SVIX, body, msg_id="m", timestamp=int(time.time())))))
    with running_target() as target:
        none = runner.invoke(app, ["replay", str(path), "--to", target.url, "--resign"])
        unfit = runner.invoke(app, ["replay", str(path), "--to", target.url, "--resign",
                                    "--secret", SECRET])
    assert target.requests == []
    empty = runner.invoke(app, ["replay", str(path), "--to", "3000", "--resign", "--secret", ""])
    assert none.exit_code == 2 and empty.exit_code == 2 and "--secret is empty" in empty.stderr
    assert "--secret" in none.stderr and "OFAPI_WEBHOOK_SECRET" in none.stderr
    assert unfit.exit_code == 1 and "line 1: skipped: cannot re-sign (svix)" in unfit.stderr


def test_a_target_that_hangs_up_is_a_failed_delivery_not_unreachable(tmp_path: Path) -> None:
    """Peer closed mid-answer: each line fails (exit 1), all are sent; not exit 3."""
    path = write(tmp_path, capture_line(1, b"1"), capture_line(2, b"2"))
    with scripted({}) as url:  # reads each request, answers nothing, closes
        result = runner.invoke(app, ["replay", str(path), "--to", url, "--json"])
    assert result.exit_code == 1, result.stderr
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    assert errors == ["the target closed the connection mid-answer"] * 2


def test_a_request_that_cannot_be_built_is_skipped(tmp_path: Path) -> None:
    """Bad header name, bad method, a path without `/`: skipped with a message, exit 1."""
    good = capture_line(9, b"ok")
    bad_method = json.loads(capture_line(3, b"3"))
    bad_method["method"] = "GE T"
    lines = [capture_line(1, b"1", headers=(("Bad Name", "x"),)),
             capture_line(2, b"2", path="webhooks"), json.dumps(bad_method), good]
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(write(tmp_path, *lines)), "--to", target.url])
    assert result.exit_code == 1
    assert [r.body for r in target.requests] == [b"ok"]
    skipped = [line for line in result.stderr.splitlines() if ": skipped: " in line]
    assert [line.split(": ")[2] for line in skipped] == ["line 1", "line 2", "line 3"]
    assert "not a path" in skipped[1] and "Traceback" not in result.stderr


def test_control_characters_from_a_capture_are_escaped_in_the_live_line(
        tmp_path: Path) -> None:
    """An escape sequence in a captured id is printed as text, never sent to the terminal."""
    record = json.loads(capture_line(1, b"1"))
    record["id"] = "\x1b[2J\x1b]0;pwned\x07\x9b"
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(write(tmp_path, json.dumps(record))),
                                     "--to", target.url])
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout
    assert "\\x1b[2J" in result.stdout


def test_a_header_value_with_a_control_character_is_not_sent(tmp_path: Path) -> None:
    """ESC or DEL in a captured header value (only tab is allowed): skipped as unsendable,
    exit 1; the rest is sent."""
    lines = [capture_line(1, b"1", headers=(("X-C", "a\x1b[31mred"),)),
             capture_line(2, b"2", headers=(("X-D", "a\x7f"),)),
             capture_line(3, b"ok", headers=(("X-T", "a\tb"),))]
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(write(tmp_path, *lines)), "--to", target.url])
    assert result.exit_code == 1, result.stderr
    assert [r.body for r in target.requests] == [b"ok"]
    assert result.stderr.count("holds a control character") == 2


def test_a_hostile_capture_path_cannot_choose_the_host(tmp_path: Path) -> None:
    """A captured path `@127.0.0.1:OTHER/x` (or absolute, or with `..` or a fragment), or a
    captured CONNECT, is skipped, exit 1: replay only ever sends requests to the --to origin."""
    tunnel = json.loads(capture_line(5, b"5", path="/m"))
    tunnel["method"] = "CONNECT"
    with running_target() as other, running_target() as target:
        lines = [capture_line(1, b"1", path=f"@127.0.0.1:{other.port}/x"),
                 capture_line(2, b"2", path=f"http://127.0.0.1:{other.port}/x"),
                 capture_line(3, b"3", path="/a/../../x"), capture_line(4, b"ok"),
                 json.dumps(tunnel), capture_line(6, b"6", path="/x#frag"),
                 capture_line(7, b"7", path=f"/\\127.0.0.1:{other.port}/x"),
                 capture_line(8, b"8", path="/%2e%2e/x")]
        result = runner.invoke(app, ["replay", str(write(tmp_path, *lines)), "--to",
                                     str(target.port)])
    assert result.exit_code == 1, result.stderr
    assert other.requests == [] and [r.body for r in target.requests] == [b"ok"]
    assert result.stderr.count(": skipped: ") == 7
    assert "not a proxy" in result.stderr and "fragment" in result.stderr


def test_truncated_captures_are_skipped_not_resent(tmp_path: Path) -> None:
    """A delivery captured with `truncated` (over the limit, caller hung up) is not re-sent:
    its body is not what was meant; the rest is, exit 0."""
    cut = json.loads(capture_line(1, b"a" * 40))
    cut["truncated"] = True
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(write(tmp_path, json.dumps(cut),
                                                         capture_line(2, b"ok"))),
                                     "--to", target.url])
    assert result.exit_code == 0, result.stderr
    assert [r.body for r in target.requests] == [b"ok"]
    assert "line 1: skipped: its body was not received whole" in result.stderr


def test_to_port_slash_path_prefixes_each_captured_path_on_localhost(tmp_path: Path) -> None:
    """`replay --to PORT/api` sends /webhooks as /api/webhooks to localhost:PORT."""
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(write(tmp_path, capture_line(1, b"1"))),
                                     "--to", f"{target.port}/api"])
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in target.requests] == ["/api/webhooks"]
