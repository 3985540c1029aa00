"""Payload building: envelopes, `--set` paths and values, stable bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ofevents_cli.core.catalogue import find
from ofevents_cli.core.payloads import Stamp, build_payload, encode, parse_assignment
from ofevents_cli.errors import InputError

STAMP = Stamp("evt_01JD7Y3Z8Q5V6W7X8Y9Z0A1B2C", 1795000000.0)


def _set(name: str, *assignments: str, provider: str | None = None) -> dict[str, Any]:
    overrides = [parse_assignment(text) for text in assignments]
    return build_payload(find(name, provider), STAMP, overrides=overrides)


@pytest.mark.parametrize(("text", "expected"), [
    ("data.amount=100", ("data.amount", 100)),
    ("data.amount=9.99", ("data.amount", 9.99)),
    ("data.isTrial=true", ("data.isTrial", True)),
    ("data.message=null", ("data.message", None)),
    ('data.user={"id": 1}', ("data.user", {"id": 1})),
    ("data.media=[1, 2]", ("data.media", [1, 2])),
    ('data.username="123"', ("data.username", "123")),
    ("data.username=jake", ("data.username", "jake")),
    ("data.text=<p>hi there</p>", ("data.text", "<p>hi there</p>")),
    ("data.note=a=b", ("data.note", "a=b")),
    ("data.note=", ("data.note", "")),
    (" data.amount =5", ("data.amount", 5)),
])
def test_parse_assignment_reads_json_else_a_string(text: str, expected: tuple[str, Any]) -> None:
    """The value after the first `=` is JSON when it parses, else the raw string."""
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["data.amount", "=5", "  =5", ""])
def test_parse_assignment_without_path_or_equals_is_an_input_error(text: str) -> None:
    """An assignment without `PATH=` is rejected with an example in the hint."""
    with pytest.raises(InputError) as caught:
        parse_assignment(text)
    assert caught.value.hint is not None and "--set" in caught.value.hint


def test_set_replaces_an_existing_field() -> None:
    """`--set data.amount=100` changes the fixture value in the sent payload."""
    assert _set("tip.received", "data.amount=100")["data"]["amount"] == 100


def test_set_creates_missing_nested_objects() -> None:
    """A path through missing keys creates the objects on the way."""
    payload = _set("tip.received", "data.meta.source.campaign=black-friday")
    assert payload["data"]["meta"] == {"source": {"campaign": "black-friday"}}


def test_set_reaches_into_list_items() -> None:
    """`[index]` addresses an existing list item, here a media entry of a message."""
    payload = _set("messages.sent", "payload.media[1].canView=false", "payload.previews[0]=7")
    assert payload["payload"]["media"][1]["canView"] is False
    assert payload["payload"]["previews"] == [7]


def test_set_can_change_the_envelope_fields() -> None:
    """Envelope keys (not only data) can be overridden, e.g. the account id."""
    assert _set("messages.received", "account_id=acct_other")["account_id"] == "acct_other"


@pytest.mark.parametrize("path", [
    "payload.media[5].id",        # past the end of the list
    "payload.fromUser[0]",        # an index into an object
    "payload.price.amount",       # a key inside a number
    "payload..price",             # empty segment
    "payload.media[x]",           # non-numeric index
    "payload.media[-1]",          # negative index
    ".payload",
    "payload.",
])
def test_set_with_an_impossible_path_is_an_input_error(path: str) -> None:
    """A path that cannot exist in the payload fails with a hint, not a traceback."""
    with pytest.raises(InputError) as caught:
        _set("messages.sent", f"{path}=1")
    assert caught.value.hint


def test_overrides_do_not_change_the_fixture() -> None:
    """Setting a nested value leaves the catalogue's sample data as it was."""
    _set("messages.sent", "payload.fromUser.name=Someone", "payload.media[0].id=1")
    event = find("messages.sent")
    assert event.data["fromUser"]["name"] == "Lena Rose"
    assert event.data["media"][0]["id"] == 3318843512


def test_each_envelope_wraps_the_data_in_the_provider_shape() -> None:
    """Each variant has exactly the documented top-level keys."""
    shapes = {
        ("tip.received", "integration"): {"id", "type", "creatorId", "timestamp", "data"},
        ("tip.received", "reference"): {"event", "timestamp", "data"},
        ("messages.received", "default"): {"event", "account_id", "payload"},
        ("rules.updated", "docs"): {"type", "timestamp", "data"},
        ("rules.updated", "sdk"): {"eventType", "live", "data"},
        ("tip", "emit"): {"event", "accountId", "data"},
    }
    for (name, variant), keys in shapes.items():
        assert set(build_payload(find(name), STAMP, envelope=variant)) == keys


def test_the_stamp_gives_the_id_and_time() -> None:
    """The delivery id and ISO time come from the stamp passed in."""
    payload = build_payload(find("tip.received"), STAMP)
    assert payload["id"] == STAMP.event_id
    assert payload["timestamp"].startswith("2026-11-18T")


def test_an_event_only_the_reference_documents_is_sent_in_the_reference_envelope() -> None:
    """revenue.received defaults to the reference envelope; --envelope still chooses."""
    event = find("revenue.received")
    assert set(build_payload(event, STAMP)) == {"event", "timestamp", "data"}
    assert set(build_payload(event, STAMP, envelope="integration")) == {
        "id", "type", "creatorId", "timestamp", "data"}


def test_reference_envelope_uses_the_reference_data_shape() -> None:
    """ofapi's event-reference envelope carries the snake_case reference data."""
    payload = build_payload(find("subscriber.new"), STAMP, envelope="reference")
    assert payload["data"]["subscription_type"] == "recurring"


def test_unknown_envelope_is_an_input_error_naming_the_choices() -> None:
    """An envelope the provider does not have is refused with its valid names."""
    with pytest.raises(InputError) as caught:
        build_payload(find("tip.received"), STAMP, envelope="sdk")
    assert caught.value.hint is not None and "integration" in caught.value.hint


def test_data_replaces_the_fixture_data() -> None:
    """`--data` content is sent instead of the sample data."""
    payload = build_payload(find("tip.received"), STAMP, data={"amount": 1})
    assert payload["data"] == {"amount": 1}


def test_same_inputs_build_the_same_compact_bytes() -> None:
    """Encoding is compact UTF-8 JSON and deterministic."""
    first = encode(build_payload(find("messages.received"), STAMP))
    assert first == encode(build_payload(find("messages.received"), STAMP))
    assert b": " not in first and "😘".encode() in first
    assert json.loads(first)["event"] == "messages.received"
