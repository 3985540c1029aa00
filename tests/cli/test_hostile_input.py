"""Lone surrogates, numbers out of range and deep nesting, end to end (issue 7, item 4).

Valid JSON can hold `"\\ud800"` (a lone surrogate: not a character, so never UTF-8) and `1e999`
(infinity to Python). Each command reports the line or frame that holds one, names the field,
and goes on with the rest: nothing valid is lost, nothing crashes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import format_timestamp
from ofevents_cli.core.signing import sign
from tests.eventbus_servers import KEY, TOKEN, scripted_thread
from tests.target import running_target

SECRET = "whsec_" + base64.b64encode(b"hostile-tests-signing-key-32byte").decode()
TS = 1_790_000_000
BODY = '{"type":"tip.received","n":1}'
runner = CliRunner()


def record(ident: str, headers: list[list[str]] | None = None, body: str = BODY,
           **extra: Any) -> str:
    """A capture line written with JSON escapes (a lone surrogate becomes `\\ud800`)."""
    signed = [list(h) for h in sign("svix", SECRET, BODY.encode(), msg_id="msg_1", timestamp=TS)]
    line = {"v": 1, "id": ident, "received_at": format_timestamp(TS + 1), "method": "POST",
            "path": "/hooks", "headers": signed if headers is None else headers, "body": body,
            **extra}
    return json.dumps(line)  # ensure_ascii: a surrogate is written as its escape


def hostile_capture(tmp_path: Path) -> Path:
    """Two valid deliveries around every kind of hostile line."""
    good = [list(h) for h in sign("svix", SECRET, BODY.encode(), msg_id="msg_x", timestamp=TS)]
    with_id = [[k, v + "\ud800" if k == "svix-id" else v] for k, v in good]
    with_sig = [[k, "v1,\udfff" if k == "svix-signature" else v] for k, v in good]
    lines = [
        record("first"),
        record("id-surrogate", with_id),
        record("sig-surrogate", with_sig),
        record("ua-surrogate", [*good, ["user-agent", "\ud83d"]]),
        record("body-surrogate", body='{"text":"\udc00"}'),
        record("\ud800"),
        record("huge-numbers", response={"status": 200, "ms": "INF"}, extra="INF",
               big=10**400).replace('"INF"', "1e999"),
        '{"v":1,"deep":' + "[" * 100_000 + "]" * 100_000 + "}",
        record("last"),
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_verify_reports_each_hostile_line_and_verifies_the_rest(tmp_path: Path) -> None:
    """verify: every line that holds a lone surrogate is named with its field and skipped;
    the valid deliveries (also the one with 1e999 in fields it ignores) all verify; exit 2."""
    path = hostile_capture(tmp_path)
    for flags in (["--json"], [], ["--explain"]):
        result = runner.invoke(app, ["verify", str(path), "--secret", SECRET, *flags])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code == 2, result.stderr
        assert "3 deliveries: 3 valid, 0 invalid, 6 unreadable, skipped" in result.stderr
        assert sum("warning" in w for w in result.stderr.splitlines()) == 6
        for line, what in ((2, "header 'svix-id' holds a lone surrogate (msg_x\\ud800)"),
                           (3, "header 'svix-signature' holds a lone surrogate (v1,\\udfff)"),
                           (4, "header 'user-agent' holds a lone surrogate (\\ud83d)"),
                           (5, "`body` holds a lone surrogate"),
                           (6, "id holds a lone surrogate (\\ud800)"),
                           (8, "not readable JSON (nested too deeply)")):
            assert f"line {line}: {what}" in result.stderr, (line, result.stderr)
    records = [json.loads(x) for x in runner.invoke(
        app, ["verify", str(path), "--secret", SECRET, "--json"]).stdout.splitlines()]
    assert [(r["id"], r["valid"]) for r in records] == \
        [("first", True), ("huge-numbers", True), ("last", True)]


def test_verify_body_keeps_the_message_id_exactly_as_given(tmp_path: Path) -> None:
    """verify --body -H 'svix-id: msg_1\\xa0' does not verify msg_1's signature (only spaces
    and tabs around a value go, as over HTTP); the exact id verifies."""
    body = tmp_path / "body.json"
    body.write_bytes(BODY.encode())
    headers = dict(sign("svix", SECRET, BODY.encode(), msg_id="msg_1", timestamp=TS))

    def run(msg_id: str) -> Any:
        flags = [f"svix-id: {msg_id}", f"svix-timestamp: {headers['svix-timestamp']}",
                 f"svix-signature: {headers['svix-signature']}"]
        return runner.invoke(app, ["verify", "--body", str(body), "--now", str(TS), "--secret",
                                   SECRET, "--json", *(x for f in flags for x in ("-H", f))])
    tampered = run("msg_1\xa0")
    assert tampered.exit_code == 1, tampered.stderr
    assert json.loads(tampered.stdout)["reason"] == "mismatch"
    exact = run("msg_1  ")
    assert exact.exit_code == 0, exact.stdout
    assert json.loads(exact.stdout)["valid"] is True


def test_verify_body_with_a_header_that_is_not_text_is_an_input_error(tmp_path: Path) -> None:
    """A --header holding a lone surrogate (a command line that is not UTF-8 decodes to one)
    is a usage error naming the header, exit 2, not a traceback."""
    body = tmp_path / "body.json"
    body.write_bytes(BODY.encode())
    result = runner.invoke(app, ["verify", "--body", str(body), "--secret", SECRET,
                                 "-H", "svix-id: msg_\udcff", "-H", f"svix-timestamp: {TS}",
                                 "-H", "svix-signature: v1,x"])
    assert result.exit_code == 2, result.stderr
    assert "svix-id: msg_\\udcff" in result.stderr and "is not text" in result.stderr


def test_replay_sends_the_valid_deliveries_and_names_the_hostile_lines(tmp_path: Path) -> None:
    """replay: the valid deliveries reach the target byte for byte; every hostile line is
    reported by number on stderr, none crashes the run; the file held unreadable lines: 2."""
    path = hostile_capture(tmp_path)
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.stderr
    assert [r.body for r in target.requests] == [BODY.encode()] * 3
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == \
        ["first", "huge-numbers", "last"]
    skipped = [int(x.split(": ")[2].removeprefix("line ")) for x in result.stderr.splitlines()
               if x.startswith("ofevents: warning: line ")]
    assert skipped == [2, 3, 4, 5, 6, 8]
    assert 'line 5: skipped: `body` holds a lone surrogate ({"text":"\\udc00"})' in result.stderr


READY = {"op": "ready", "session": "s1", "subscribe": [], "resumed": False}


def _event(n: int, event: str, data: str) -> str:
    """An event frame as raw text, so the data can hold escapes and numbers Python cannot."""
    return (f'{{"op":"event","id":"e{n}","event":"{event}","accountId":"384751629",'
            f'"ts":"2026-11-22T10:30:00.000Z","data":{data}}}')


BURST = [
    json.dumps(READY),
    _event(1, "tip", '{"amount":1}'),
    _event(2, "chat_message", '{"text":"hi \\ud800","fromUser":{"name":"\\udfff"}}'),
    _event(3, "tip", '{"amount":1e999}'),
    _event(4, "custom", '{"x":' + "[" * 200 + "]" * 200 + "}"),
    _event(5, "tip", '{"amount":1' + "0" * 400 + "}"),
    _event(6, "tip", '{"amount":6}'),
]


def _listen(url: str, *flags: str) -> Any:
    return runner.invoke(app, ["listen", "--url", url, "--api-key", KEY, "--ws-token", TOKEN,
                               "--max-events", "3", "--max-retries", "0", *flags])


def test_listen_prints_every_valid_event_of_a_burst_and_warns_about_each_bad_one() -> None:
    """listen: in one burst with a lone surrogate, 1e999 and deep nesting, the valid events
    (also one with a 400-digit integer) are all printed, as JSON and as lines; each bad
    event is a warning naming its id and field; exit 0."""
    async def script(ws: Any) -> None:
        await ws.recv()
        for frame in BURST:
            await ws.send(frame)
        await ws.close(1000)

    with scripted_thread(script) as url:
        as_json = _listen(url, "--json")
        human = _listen(url)
    for result in (as_json, human):
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code == 0, result.stderr
        assert "warning: malformed frame skipped: event e2: data.text holds a lone surrogate " \
               "(hi \\ud800)" in result.stderr
        assert "event e3: data.amount is a number out of range" in result.stderr
        assert "event e4: data.x" in result.stderr and "deeper than 64 levels" in result.stderr
    events = [json.loads(x) for x in as_json.stdout.splitlines()]
    assert [e["_id"] for e in events] == ["e1", "e5", "e6"]
    assert events[1]["amount"] == 10**400
    lines = human.stdout.splitlines()
    assert len(lines) == 3 and "$1.00" in lines[0] and "$6.00" in lines[2]
    assert "$10,000,000" in lines[1]


def test_listen_forward_to_delivers_the_valid_events_of_a_hostile_burst() -> None:
    """listen --forward-to: the valid events reach the local endpoint as JSON, the bad ones
    are warned about and not forwarded."""
    async def script(ws: Any) -> None:
        await ws.recv()
        for frame in BURST:
            await ws.send(frame)
        await ws.close(1000)

    with scripted_thread(script) as url, running_target() as target:
        result = _listen(url, "--json", "--forward-to", target.url, "--secret", SECRET)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("<-- [200] POST") == 3
    assert sorted(json.loads(r.body)["_id"] for r in target.requests) == ["e1", "e5", "e6"]


def test_trigger_refuses_data_with_no_json_and_escapes_a_lone_surrogate(tmp_path: Path) -> None:
    """trigger --data: 1e999, NaN (no JSON can carry them) or nesting 500 deep is an input
    error, exit 2, nothing sent; a lone surrogate the user wrote is sent as its escape, in a
    body that parses back to the same value; a nested 1e999 in --set stays the text it was."""
    def data(text: str) -> str:
        path = tmp_path / "data.json"
        path.write_text(text, encoding="utf-8")
        return str(path)

    with running_target() as receiver:
        for text, why in (('{"amount": 1e999}', "1e999 is out of range"),
                          ('{"amount": NaN}', "NaN is not valid JSON"),
                          ('{"x": [-1e999]}', "-1e999 is out of range")):
            bad = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url,
                                      "-s", "k", "--data", data(text)])
            assert bad.exit_code == 2, bad.stderr
            assert f"is not readable JSON ({why})" in bad.stderr
        deep = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k",
                                   "--data", data('{"a":' * 500 + "1" + "}" * 500)])
        assert deep.exit_code == 2 and "nested deeper than 64 levels" in deep.stderr
        assert receiver.requests == []
        sent = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k",
                                   "--data", data('{"message": "hi \\ud800"}'),
                                   "--set", "data.x=[1e999]"])
        assert sent.exit_code == 0, sent.stderr
    [got] = receiver.requests
    assert b"hi \\ud800" in got.body
    payload = json.loads(got.body)
    assert payload["data"] == {"message": "hi \ud800", "x": "[1e999]"}
