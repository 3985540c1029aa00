"""The wire format: every frame round-trips; bad input comes back as a value."""

from __future__ import annotations

import json

from ofevents_cli.core import frames


def test_every_client_frame_round_trips() -> None:
    """hello, update and ping decode to what was encoded."""
    for frame in (frames.Hello("k", "t", ("tip",), ("1",), "evt_1", "ofevents/0"),
                  frames.Hello("k", "t"), frames.Update(("tip",), None), frames.Ping(7)):
        assert frames.decode_client(frames.encode(frame)) == frame


def test_every_server_frame_round_trips() -> None:
    """ready, event, gap, error and pong decode to what was encoded."""
    for frame in (frames.Ready("s", ("tip",), ("1",), True),
                  frames.Ready("s", last="evt_ab_000000000000"),
                  frames.Event("evt_1", "tip", "1", "2026-11-22T10:30:00.123Z", {"amount": 5}),
                  frames.Gap("evt_1", "expired"), frames.ErrorFrame("rate_limited", "slow", 2.0),
                  frames.Pong("x")):
        assert frames.decode_server(frames.encode(frame)) == frame


def test_hello_wire_shape_matches_the_protocol_doc() -> None:
    """The hello frame carries the documented field names."""
    wire = json.loads(frames.encode(frames.Hello("k", "t", ("tip",), ("111",), None, "c")))
    assert wire == {"op": "hello", "apiKey": "k", "wsToken": "t", "subscribe": ["tip"],
                    "filter": {"accountIds": ["111"]}, "resume": None, "client": "c"}


def test_unknown_ops_and_fields_are_ignored() -> None:
    """An unknown op is Unknown; unknown fields do not disturb a known frame."""
    assert frames.decode_server('{"op":"hologram"}') == frames.Unknown("hologram")
    text = '{"op":"gap","after":"evt_9","reason":"expired","future":1}'
    assert frames.decode_server(text) == frames.Gap("evt_9", "expired")


def test_malformed_frames_are_values_not_exceptions() -> None:
    """Not JSON, not an object, no op, wrong field types, binary, deep nesting: Malformed."""
    for text in ("{", "[1]", '{"x":1}', '{"op":"event","id":[],"event":"tip"}',
                 '{"op":"hello","apiKey":"k","wsToken":"t","filter":{"accountIds":"1"}}',
                 b"\x00", "[" * 100_000):
        assert isinstance(frames.decode_server(text), frames.Malformed) or isinstance(
            frames.decode_client(text), frames.Malformed), text


def test_flat_event_is_the_sdk_shape_plus_underscored_metadata() -> None:
    """Data fields keep their documented names (a chat message's `id` is the message id);
    ofevents' own metadata is `_event`, `_id`, `_ts`, then the event's `accountId`."""
    event = frames.Event("evt_1", "chat_message", "1", "ts", {"id": 42, "text": "hi"})
    assert list(event.flat().items()) == [("_event", "chat_message"), ("_id", "evt_1"),
                                          ("_ts", "ts"), ("accountId", "1"), ("id", 42),
                                          ("text", "hi")]


def test_flat_event_loses_no_data_field_whatever_the_names() -> None:
    """`id` and `dataId` both stay; keys that look like metadata get one more `_`, so each
    data field and each metadata field is present exactly once."""
    data = {"id": 1, "dataId": 2, "_id": 3, "__id": 4, "accountId": "x", "_event": 5, "ts": 6}
    flat = frames.Event("evt_1", "tip", "acct", "now", data).flat()
    assert flat == {"_event": "tip", "_id": "evt_1", "_ts": "now", "accountId": "acct",
                    "id": 1, "dataId": 2, "__id": 3, "___id": 4, "_accountId": "x",
                    "__event": 5, "ts": 6}
    assert len(flat) == 4 + len(data)


def test_matches_applies_subscribe_and_account_filter() -> None:
    """Empty subscribe = all types; None accounts = all accounts."""
    assert frames.matches("tip", "1", (), None)
    assert frames.matches("tip", "1", ("tip",), ("1",))
    assert not frames.matches("typing", "1", ("tip",), None)
    assert not frames.matches("tip", "2", (), ("1",))


def test_nan_and_infinity_are_not_json() -> None:
    """A frame with NaN/Infinity is Malformed (so `--json` never prints invalid JSON)."""
    for constant in ("NaN", "Infinity", "-Infinity"):
        text = ('{"op":"event","id":"e1","event":"tip","accountId":"1","ts":"t",'
                f'"data":{{"amount":{constant}}}}}')
        decoded = frames.decode_server(text)
        assert isinstance(decoded, frames.Malformed) and constant.lstrip("-") in decoded.reason


def _event_with(data: str) -> str:
    return f'{{"op":"event","id":"e1","event":"tip","accountId":"1","ts":"t","data":{data}}}'


def test_lone_surrogates_huge_numbers_and_deep_nesting_are_malformed_with_the_field() -> None:
    """`\\ud800` (also as a key), 1e999 and 65 levels make the frame Malformed, naming the
    event and the field; so does a lone surrogate in any op's field."""
    for data, reason in (('{"text":"a\\ud800"}', "event e1: data.text holds a lone surrogate"),
                         ('{"\\udfff":1}', "event e1: a key in data holds a lone surrogate"),
                         ('{"m":[1,{"x":-1E400}]}', "event e1: data.m[1].x is a number out"),
                         ('{"d":' + "[" * 64 + "]" * 64 + "}", "is nested deeper than 64")):
        decoded = frames.decode_server(_event_with(data))
        assert isinstance(decoded, frames.Malformed) and reason in decoded.reason, decoded
        decoded.reason.encode("utf-8")  # printable
    for text in ('{"op":"gap","after":"\\ud800"}', '{"op":"error","code":"x","message":"\\udc00"}',
                 '{"op":"hello","apiKey":"\\ud800","wsToken":"t"}'):
        assert isinstance(frames.decode_server(text), frames.Malformed) or isinstance(
            frames.decode_client(text), frames.Malformed), text


def test_what_only_looks_like_a_surrogate_is_delivered() -> None:
    """A surrogate pair (an emoji written as escapes), an escaped backslash before `ud800`,
    a 400-digit integer and 63 levels are valid: the event decodes and encodes again."""
    data = ('{"text":"\\ud83d\\ude00 \\\\ud800","n":1' + "0" * 400 + ',"d":'
            + "[" * 62 + "]" * 62 + "}")
    decoded = frames.decode_server(_event_with(data))
    assert isinstance(decoded, frames.Event), decoded
    assert decoded.data["text"] == "😀 \\ud800" and decoded.data["n"] == 10**400
    assert frames.decode_server(frames.encode(decoded)) == decoded


def test_encode_refuses_a_lone_surrogate() -> None:
    """encode: ValueError naming the field, rather than text no WebSocket can carry."""
    try:
        frames.encode(frames.Event("e1", "tip", "1", "t", {"text": "\ud800"}))
    except ValueError as exc:
        assert "text holds a lone surrogate" in str(exc)
    else:
        raise AssertionError("encoded a lone surrogate")


def test_integers_past_64_bits_keep_every_digit_through_decode_and_line() -> None:
    """A 30-digit id (orjson would read it as a float) decodes and re-encodes exactly."""
    big = 123456789012345678901234567890
    text = ('{"op":"event","id":"e1","event":"tip","accountId":"1","ts":"t",'
            f'"data":{{"n":{big},"nested":{{"deep":[{-big}]}},"f":25.0}}}}')
    event = frames.decode_server(text)
    assert isinstance(event, frames.Event)
    assert event.data["n"] == big and event.data["nested"]["deep"] == [-big]
    line = frames.flat_json(event)
    assert str(big).encode() in line and json.loads(line)["f"] == 25.0


def test_numbers_at_the_64_bit_edges_and_look_alikes_in_strings_read_exactly() -> None:
    """The first integers past 64 bits (orjson's floats) keep every digit; 19 digits or 65
    brackets inside a string are only text; 19-digit integers inside 64 bits stay integers."""
    edges = [2**64, -(2**63) - 1, 2**64 - 1, -(2**63), 10**18]
    data = ('{"s":"' + "[" * 65 + '","id":"1234567890123456789012","n":['
            + ",".join(map(str, edges)) + "]}")
    event = frames.decode_server(_event_with(data))
    assert isinstance(event, frames.Event), event
    assert event.data["n"] == edges and all(type(n) is int for n in event.data["n"])
    assert event.data["s"] == "[" * 65 and event.data["id"] == "1234567890123456789012"
    assert json.loads(frames.flat_json(event))["n"] == edges


def test_the_fast_reader_refuses_what_the_strict_rules_refuse() -> None:
    """Lone surrogates, 1e999 and 65 levels of nesting are Malformed with the usual reasons."""
    head = '{"op":"event","id":"e1","event":"tip","accountId":"1","ts":"t","data":'
    cases = {'{"x":"\\ud800"}': "lone surrogate", '{"x":1e999}': "out of range",
             '{"x":' + "[" * 65 + "]" * 65 + "}": "nested deeper"}
    for data, reason in cases.items():
        got = frames.decode_server(head + data + "}")
        assert isinstance(got, frames.Malformed) and reason in got.reason, got


def test_flat_lines_are_the_same_object_however_the_frame_was_written() -> None:
    """However the frame was written (spaces, data not last, a container or a quoted
    `,"data":{` before it, a key given twice) its line is one JSON object, the event as
    decoded, keys in the same order; a 30-digit number keeps its digits."""
    cases = [
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x","data":{"a":1},'
        '"data":{"b":2}}',
        '{"op":"event","seq":1,"id":"e","event":"t","accountId":"1","ts":"x","data":{"a":1},'
        '"seq":{"b":2}}',
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x","data":{"a":1,"b":"é"}}',
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x","data":{"a":1},"z":{}}',
        '{"op":"event","m":{"data":{"q":1}},"id":"e","event":"t","accountId":"1","ts":"x",'
        '"data":{"a":1}}',
        '{"op":"event","id":"e,\\"data\\":{","event":"t","accountId":"1","ts":"x",'
        '"data":{"a":[1,{"b":2}]}}',
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x","data": {"a":1}}',
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x","data":{"_id":1}}',
        '{"op":"event","id":"e","event":"t","accountId":"1","ts":"x",'
        '"data":{"n":123456789012345678901234567890}}',
    ]
    for text in cases:
        event = frames.decode_server(text)
        assert isinstance(event, frames.Event), text
        line = json.loads(frames.flat_json(event))
        assert line == event.flat() and list(line) == list(event.flat()), text
