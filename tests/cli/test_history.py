"""`ofevents history` and `history show` over generated history files, bad lines included."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from tests.history_data import SECRET, delivery, kept, now, write

runner = CliRunner()
KEYS = {"id", "kind", "received_at", "event", "provider", "account", "method", "path", "status",
        "ms", "valid", "reason", "truncated", "source", "line"}


def _home() -> Path:
    return Path(os.environ["OFEVENTS_HISTORY_DIR"])


def _ids(args: list[str]) -> list[str]:
    result = runner.invoke(app, ["history", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def _sessions(start: float) -> None:
    """Two overlapping forward sessions and a listen session in the history home."""
    write(_home() / "forward-a.jsonl",
          *(delivery(n, start + n).to_json() for n in (0, 2, 4)), mtime=start + 4)
    write(_home() / "forward-b.jsonl",
          delivery(1, start + 1, event="subscriber.new", status=503, account="crt_2").to_json(),
          delivery(3, start + 3, valid=False, headers=(("x-trace", "Needle-42"),)).to_json(),
          mtime=start + 3)
    write(_home() / "listen-c.jsonl", kept(5, start + 5).to_json(), mtime=start + 5)


def test_lists_everything_newest_first_across_sessions() -> None:
    """Records of concurrent sessions interleave by received_at, newest first."""
    _sessions(now() - 600)
    assert _ids([]) == ["ev_5", "dlv_0004", "dlv_0003", "dlv_0002", "dlv_0001", "dlv_0000"]
    text = runner.invoke(app, ["history"])
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert len(lines) == 6 and "ev_5" in lines[0] and "eventbus" in lines[0]
    assert "dlv_0001" in lines[4] and "503" in lines[4] and "subscriber.new" in lines[4]
    assert "INVALID mismatch" in lines[2]


def test_json_lines_carry_the_documented_keys() -> None:
    """--json and --format json: one object per record with the keys docs/history.md names."""
    _sessions(now() - 600)
    for flag in (["--json"], ["--format", "json"]):
        result = runner.invoke(app, ["history", *flag])
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert all(set(r) == KEYS for r in records)
    event, newest = records[0], records[1]
    assert event["kind"] == "event" and event["status"] is None and event["event"] == "tip"
    assert newest == {**newest, "kind": "delivery", "provider": "ofapi", "status": 200,
                      "valid": True, "account": "crt_1", "method": "POST", "line": 3,
                      "path": "/webhooks?n=4", "event": "tip.received"}


def test_each_filter_narrows_the_list() -> None:
    """--event (glob), --provider, --account, --status, --invalid, --grep, --last, --since."""
    start = now() - 600
    _sessions(start)
    assert _ids(["--event", "subscriber.*"]) == ["dlv_0001"]
    assert _ids(["--provider", "eventbus"]) == ["ev_5"]
    assert _ids(["--account", "crt_2"]) == ["dlv_0001"]
    assert _ids(["--status", "5xx"]) == ["dlv_0001"]
    assert _ids(["--status", "200", "--status", "503"]) == [f"dlv_000{n}" for n in (4, 3, 2, 1, 0)]
    assert _ids(["--invalid"]) == ["dlv_0003"]
    assert _ids(["--grep", "needle-42"]) == ["dlv_0003"]  # a header value, any case
    assert _ids(["--grep", '"n":2']) == ["dlv_0002"]  # the body
    assert _ids(["--last", "2"]) == ["ev_5", "dlv_0004"]
    assert _ids(["--since", "1h"]) == _ids([])
    assert _ids(["--since", "597s"]) == ["ev_5", "dlv_0004"]
    assert _ids(["--until", str(start + 1.5)]) == ["dlv_0001", "dlv_0000"]
    assert _ids(["--provider", "ofapi", "--status", "2xx", "--last", "1"]) == ["dlv_0004"]


def test_bad_flag_values_exit_2_naming_the_flag() -> None:
    """An unknown moment, status pattern or provider is exit 2 with a hint."""
    for args, flag in ((["--since", "yesterday-ish"], "--since"), (["--status", "6xx"], "--status"),
                       (["--provider", "stripe"], "--provider")):
        result = runner.invoke(app, ["history", *args])
        assert result.exit_code == 2 and flag in result.stderr and "hint:" in result.stderr


def test_malformed_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    """Bad lines are named on stderr with file and line; every good record is still listed."""
    start = now() - 60
    path = write(tmp_path / "c.jsonl", delivery(1, start).to_json(), "{not json", "",
                 '{"v":1,"id":"x"}', '{"kind":"event","id":"e"}', "[1,2]",
                 delivery(2, start + 1).to_json())
    result = runner.invoke(app, ["history", str(path)])
    assert result.exit_code == 0
    assert [line.split()[2] for line in result.stdout.splitlines()] == ["dlv_0002", "dlv_0001"]
    for number in (2, 4, 5, 6):
        assert f"{path} line {number}:" in result.stderr
    assert "line 3" not in result.stderr  # a blank line is no problem
    assert "4 bad line(s) skipped" in result.stderr


def test_given_files_and_directories_are_read_instead_of_the_history(tmp_path: Path) -> None:
    """CAPTURES… replace the history; a directory stands for its .jsonl files."""
    _sessions(now() - 600)
    folder = tmp_path / "old"
    folder.mkdir()
    write(folder / "one.jsonl", delivery(8, now() - 5).to_json())
    write(tmp_path / "two.jsonl", delivery(9, now() - 4).to_json())
    assert _ids([str(folder), str(tmp_path / "two.jsonl")]) == ["dlv_0009", "dlv_0008"]
    missing = runner.invoke(app, ["history", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read capture file" in missing.stderr
    stdin = runner.invoke(app, ["history", "-"])
    assert stdin.exit_code == 2 and "standard input" in stdin.stderr


def test_an_empty_history_says_so() -> None:
    """No history yet: nothing on stdout, stderr says where it looked, exit 0."""
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 0 and result.stdout == ""
    assert f"nothing matches in the history ({_home()})" in result.stderr


def test_show_prints_headers_pretty_body_and_the_verdict() -> None:
    """history show ID: the request, each header, the indented body, checked now (valid)."""
    _sessions(now() - 600)
    result = runner.invoke(app, ["history", "show", "dlv_0002", "--secret", SECRET])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("delivery dlv_0002\n")
    assert "request    POST /webhooks?n=2" in out and "answer     200 in 1.5 ms" in out
    assert "  content-type: application/json" in out and "  X-OFAPI-Signature: sha256=" in out
    assert '    "type": "tip.received",' in out  # pretty-printed
    assert "✔ valid" in out and f"{_home() / 'forward-a.jsonl'} line 2" in out


def test_show_explain_diagnoses_a_wrong_secret_and_json_has_the_record() -> None:
    """--explain with the wrong secret shows both signatures; --json holds record and check."""
    _sessions(now() - 600)
    explained = runner.invoke(app, ["history", "show", "dlv_0002", "-s", "wrong", "--explain"])
    assert "✘ invalid" in explained.stdout and "mismatch" in explained.stdout
    assert "expected" in explained.stdout and "received" in explained.stdout
    assert "wrong" not in explained.stdout  # the secret is masked
    shown = runner.invoke(app, ["history", "show", "dlv_0002", "-s", SECRET, "--json"])
    record = json.loads(shown.stdout)
    assert record["record"]["id"] == "dlv_0002" and record["line"] == 2
    assert record["check"]["valid"] is True and record["unchecked"] is None


def test_show_without_a_secret_says_how_to_check() -> None:
    """No secret known: the record is shown and the verdict says which env var to set."""
    _sessions(now() - 600)
    result = runner.invoke(app, ["history", "show", "dlv_0000"])
    assert result.exit_code == 0
    assert "not checked: no webhook secret" in result.stdout
    assert "OFAPI_WEBHOOK_SECRET" in result.stdout


def test_show_an_event_prints_its_data() -> None:
    """A kept EventBus event: its type, account and data."""
    _sessions(now() - 600)
    result = runner.invoke(app, ["history", "show", "ev_5"])
    assert result.exit_code == 0
    assert result.stdout.startswith("event ev_5\n") and "account    384751629" in result.stdout
    assert '    "amount": 5' in result.stdout


def test_show_an_event_whose_data_holds_a_lone_surrogate_prints_it_escaped(
        tmp_path: Path) -> None:
    """`"\\ud800"` in a kept event's data (JSON allows it, UTF-8 cannot carry it): shown as
    its escape, exit 0, no traceback."""
    line = ('{"v":1,"kind":"event","id":"e1","received_at":"2026-01-01T00:00:00Z",'
            '"event":"tip","account_id":"1","ts":"x","data":{"m":"\\ud800"}}')
    result = runner.invoke(app, ["history", "show", "e1", str(write(tmp_path / "k.jsonl", line))])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("event e1\n") and '"m": "\\ud800"' in result.stdout


def test_a_pipe_or_a_device_is_refused_not_read(tmp_path: Path) -> None:
    """History is read newest first, from the end: a FIFO (no writer needed: it is never
    opened) or /dev/zero is exit 2 with the reason, as standard input is."""
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    for source in (str(fifo), "/dev/zero"):
        result = runner.invoke(app, ["history", source])
        assert result.exit_code == 2, (source, result.output)
        assert "not a regular file" in result.stderr and "Traceback" not in result.output


def test_show_an_unknown_id_exits_2_with_a_hint() -> None:
    """An id nobody has: exit 2, the hint says how to list the ids."""
    _sessions(now() - 600)
    result = runner.invoke(app, ["history", "show", "dlv_nope"])
    assert result.exit_code == 2
    assert "no delivery or event 'dlv_nope'" in result.stderr
    assert "hint: list the ids with `ofevents history`" in result.stderr


def test_control_characters_from_a_capture_are_escaped(tmp_path: Path) -> None:
    """An escape sequence in a path or body is shown as text, never sent to the terminal."""
    record = delivery(1, now(), body=b'{"type":"x\\u001b[31m","m":"\x1b]0;owned\x07"}')
    path = write(tmp_path / "c.jsonl", record.to_json().replace("/webhooks", "/w\\u001b[2J"))
    listed = runner.invoke(app, ["history", str(path)])
    shown = runner.invoke(app, ["history", "show", "dlv_0001", str(path)])
    for out in (listed.stdout, shown.stdout):
        assert "\x1b" not in out and "\\x1b" in out
