"""Capture records round-trip byte for byte, and bad lines become problems, never exceptions."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ofevents_cli.core.capture import (
    Capture,
    CaptureProblem,
    CaptureResponse,
    CaptureVerification,
    format_timestamp,
    parse_capture,
    read_captures,
)


def test_round_trip_keeps_bytes_headers_and_results() -> None:
    """UTF-8 and binary bodies, repeated headers and results survive write then read."""
    for body in ('{"text":"héllo 😘"}'.encode(), b"\xff\xfe\x00raw"):
        capture = Capture("dlv_1", "2026-11-22T23:55:01.123456Z", "POST", "/h?x=1",
                          (("X-A", "1"), ("x-a", "2")), body, "203.0.113.7",
                          CaptureResponse(200, 3.1), CaptureVerification("ofapi", True, None))
        [back] = list(read_captures([capture.to_json()]))
        assert isinstance(back, Capture)
        assert back == capture and back.line == 1


def test_binary_body_is_stored_as_base64() -> None:
    """A non-UTF-8 body is written to body_base64 with body null."""
    record = json.loads(Capture("d", "2026-11-22T00:00:00Z", "POST", "/", (), b"\xff").to_json())
    assert record["body"] is None and record["body_base64"] == "/w=="


def test_bad_lines_are_reported_with_line_numbers_and_the_rest_read() -> None:
    """Each malformed line becomes a CaptureProblem; good lines around it still parse."""
    good = Capture("d", "2026-11-22T00:00:00Z", "POST", "/", (), b"{}").to_json()
    lines = [good, "not json", "[1]", '{"headers": [], "received_at": "2026-11-22T00:00:00Z"}',
             '{"headers": "x", "body": "", "received_at": "2026-11-22T00:00:00Z"}',
             '{"headers": [], "body": "", "received_at": "yesterday"}', b"\xff\xfe", "", good]
    items = list(read_captures(lines))
    problems = [i for i in items if isinstance(i, CaptureProblem)]
    assert [p.line for p in problems] == [2, 3, 4, 5, 6, 7]
    assert all(p.message for p in problems)
    assert [i.line for i in items if isinstance(i, Capture)] == [1, 9]


def test_hostile_lines_are_problems_not_crashes() -> None:
    """A 5000-digit number, deep nesting or a non-numeric `ms` never raises."""
    good = Capture("d", "2026-11-22T00:00:00Z", "POST", "/", (), b"{}").to_json()
    odd_ms = good[:-1] + ',"response":{"status":200,"ms":"fast"}}'
    lines = ['{"n": ' + "9" * 5000 + "}", "[" * 100_000, odd_ms, good]
    items = list(read_captures(lines))
    assert [type(i).__name__ for i in items] == ["CaptureProblem", "CaptureProblem",
                                                  "Capture", "Capture"]
    odd = items[2]
    assert isinstance(odd, Capture) and odd.response == CaptureResponse(200, 0.0)


def test_byte_order_mark_on_the_first_line_is_ignored() -> None:
    """A capture saved with a UTF-8 BOM still reads from line 1."""
    good = Capture("d", "2026-11-22T00:00:00Z", "POST", "/", (), b"{}").to_json()
    [item] = list(read_captures([b"\xef\xbb\xbf" + good.encode()]))
    assert isinstance(item, Capture)


def test_json_escapes_inside_a_body_are_bytes_like_any_other() -> None:
    """A body whose own JSON holds `\\ud800` (six ASCII bytes) or an emoji as escapes is read
    byte for byte; only a lone surrogate in the record's own strings makes a line a problem."""
    body = b'{"t":"\\ud800 \\ud83d\\ude00 \\\\ud800"}'
    capture = Capture("d", "2026-11-22T00:00:00Z", "POST", "/", (("x-n", "a\\ud800"),), body)
    [back] = list(read_captures([capture.to_json().encode()]))
    assert back == capture
    bad = capture.to_json().replace('"x-n","a', '"x-n","\\ud800')
    [problem] = list(read_captures([bad.encode()]))
    assert isinstance(problem, CaptureProblem) and "header 'x-n'" in problem.message


def test_big_integers_and_blank_lines_read_as_before() -> None:
    """A 25-digit status keeps its digits (orjson alone would make it a float, and the record
    a different one); whitespace-only lines are skipped, byte lines as text lines."""
    line = json.loads(Capture("d1", format_timestamp(0), "POST", "/", (), b"{}").to_json())
    line["response"] = {"status": 1234567890123456789012345, "ms": 1.5}
    text = json.dumps(line)
    records = list(read_captures([text, "  \t", b"\r\n", text.encode()]))
    assert [r.line for r in records] == [1, 4]
    for record in records:
        assert isinstance(record, Capture) and record.response is not None
        assert record.response.status == 1234567890123456789012345


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False)
       | st.integers(0, 4_000_000_000).map(lambda s: s + 0.9999995))
@settings(max_examples=2000)
def test_timestamps_read_as_datetime_writes_them(epoch: float) -> None:
    """The per-second cache gives what datetime gives, rounding (half to even) included."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)
    assert format_timestamp(epoch) == moment.isoformat(timespec="microseconds") + "Z"


def test_deep_nesting_gets_one_answer_whatever_the_stack_and_its_limit() -> None:
    """1,500 levels in an optional field: past orjson's 1,024, so the stdlib decoder would
    read it, and whether it could would depend on the recursion limit (hypothesis raises it)
    and on how deep the caller already is. The verdict is taken from the text: the same
    problem every time. Brackets inside a string (a body) are not nesting."""
    head = ('{"v":1,"id":"dlv_1","received_at":"2026-09-21T14:13:21Z","method":"POST",'
            '"path":"/h","headers":[],"body":')
    deep = head + '"{}","remote":' + "[" * 1500 + "1" + "]" * 1500 + "}"

    def parsed_at(depth: int) -> object:
        return parse_capture(deep, 1) if depth == 0 else parsed_at(depth - 1)

    limit = sys.getrecursionlimit()
    try:
        answers = []
        for raised in (limit, 10_000):
            sys.setrecursionlimit(raised)
            answers += [parsed_at(depth) for depth in (0, 300, 600)]
    finally:
        sys.setrecursionlimit(limit)
    assert all(isinstance(a, CaptureProblem) and "nested too deeply" in a.message
               for a in answers), answers
    assert isinstance(parse_capture(head + '"' + "[" * 3000 + '"}', 1), Capture)
