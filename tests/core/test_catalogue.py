"""The catalogue, its fixture files and docs/providers.md agree with one another."""

from __future__ import annotations

import datetime
import json
import re
import runpy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import EventType, all_events, find, provider_of
from ofevents_cli.core.payloads import Stamp, build_payload, encode
from ofevents_cli.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS_MD = ROOT / "docs" / "providers.md"
ENVELOPE_NAMES = {p.name: [e.name for e in p.envelopes] for p in registry.providers()}
FIXTURES = resources.files("ofevents_cli") / "fixtures"

# OFAuth names some Realtime events by label only. These are ofevents' own chosen names for
# them (the pattern of the confirmed ones); each fixture says "unconfirmed name".
LABEL_NAMES = {
    "stories updated": "realtime.stories.updated",
    "inbox counts updated": "realtime.inbox_counts.updated",
    "system message received": "realtime.system_message.received",
    "chat message liked": "realtime.chat_message.liked",
    "chat message unliked": "realtime.chat_message.unliked",
    "toasts received": "realtime.toasts.received",
    "post fundraising updated": "realtime.post_fundraising.updated",
    "post published": "realtime.post.published",
    "chat message delete": "realtime.chat_message.deleted",
}

_DOTTED = re.compile(r"`([a-z][a-z_]*(?:\.[a-z_]+)+)`")
_PLAIN = re.compile(r"`([a-z][a-z_]*)`")


def _between(text: str, start: str, end: str) -> str:
    """The part of `text` from the marker `start` up to the next `end`."""
    head = text.index(start)
    return text[head : text.index(end, head)]


def documented_names() -> dict[str, set[str]]:
    """provider -> the event names providers.md names in backquotes for it."""
    text = PROVIDERS_MD.read_text(encoding="utf-8")
    ofauth = _between(text, "System events:", "\nDelivery:")
    return {
        "eventbus": set(_PLAIN.findall(_between(text, "Event types (12):", "Every event has"))),
        "ofauth": set(_DOTTED.findall(ofauth)),
        "onlyfansapi": set(_DOTTED.findall(_between(text, "- events:", "- accounts.* payload"))),
        "ofapi": set(_DOTTED.findall(_between(text, "## 4. OFAPI", "- delivery:"))),
    }


def documented_labels() -> set[str]:
    """The OFAuth Realtime events providers.md names by label only ("chat message liked")."""
    text = PROVIDERS_MD.read_text(encoding="utf-8")
    labels = _between(text, "unconfirmed):", "\n- older raw relay").removeprefix("unconfirmed):")
    found = set()
    for label in (" ".join(part.split()) for part in labels.split(",")):
        if " / " in label:
            first, second = label.split(" / ")
            found |= {first, first.rsplit(" ", 1)[0] + " " + second}
        else:
            found.add(label)
    return found


def _cataloged(provider: str) -> set[str]:
    return {e.name for e in all_events() if e.provider == provider}


def test_providers_md_is_parsed_into_the_documented_names() -> None:
    """The parser finds the providers' documented event lists (so the checks below bite)."""
    names = documented_names()
    assert len(names["eventbus"]) == 12
    assert len(names["onlyfansapi"]) == 18
    assert names["ofapi"] == {"subscriber.new", "subscriber.renewed", "subscriber.cancelled",
                              "subscriber.expired", "message.received", "tip.received",
                              "ppv.purchased", "revenue.received"}
    assert "realtime.chat_typing.updated" in names["ofauth"]
    assert "of.websocket.event.received" in names["ofauth"]
    assert documented_labels() == set(LABEL_NAMES)


@pytest.mark.parametrize("provider", registry.names())
def test_every_documented_event_has_a_fixture(provider: str) -> None:
    """Each event name providers.md gives a provider is in the catalogue for that provider."""
    expected = documented_names()[provider]
    if provider == "ofauth":
        expected |= set(LABEL_NAMES.values())
    assert expected - _cataloged(provider) == set()


@pytest.mark.parametrize("provider", registry.names())
def test_every_fixture_is_documented_or_a_chosen_name(provider: str) -> None:
    """No fixture exists for an event the providers do not publish (or ofevents did not name)."""
    allowed = documented_names()[provider] | set(LABEL_NAMES.values())
    assert _cataloged(provider) - allowed == set()


def test_chosen_names_are_marked_unconfirmed() -> None:
    """The events whose names ofevents chose say so in their description and assumptions."""
    for name in LABEL_NAMES.values():
        event = find(name, "ofauth")
        assert "unconfirmed name" in event.description
        assert "name chosen by ofevents" in event.assumed


def test_every_fixture_file_loads_with_one_line_description_source_and_data() -> None:
    """Each fixture file is JSON with one-line description and source, and a data object."""
    files = [f for p in registry.names() for f in (FIXTURES / p).iterdir()
             if f.name.endswith(".json")]
    assert len(files) == len(all_events())
    for item in files:
        raw = json.loads(item.read_text(encoding="utf-8"))
        assert set(raw) <= {"description", "source", "assumed", "envelope", "data",
                            "envelopes"}, item.name
        variants = ENVELOPE_NAMES[item.parent.name]
        assert raw.get("envelope", variants[0]) in variants
        for key in ("description", "source", *(["assumed"] if "assumed" in raw else [])):
            assert raw[key].strip() and "\n" not in raw[key], (item.name, key)
        assert isinstance(raw["data"], dict) and raw["data"], item.name
        for variant, data in raw.get("envelopes", {}).items():
            assert isinstance(data, dict) and data, item.name
            assert variant in ENVELOPE_NAMES[item.parent.name], item.name


def test_fixture_files_are_indented_utf8_with_a_trailing_newline() -> None:
    """Fixture files are written the one way (indent 2, raw UTF-8, one final newline)."""
    for provider in registry.names():
        for item in (FIXTURES / provider).iterdir():
            text = item.read_text(encoding="utf-8")
            assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_ofapi_reference_shapes_are_in_their_own_envelope_variant() -> None:
    """The ofapi events the event reference documents differently carry that shape too."""
    for name in ("subscriber.new", "subscriber.expired", "message.received"):
        event = find(name, "ofapi")
        assert set(event.data_for("reference")) != set(event.data_for("integration"))


def _strings(node: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(node, Mapping):
        return [pair for k, v in node.items() for pair in _strings(v, k)]
    if isinstance(node, list):
        return [pair for item in node for pair in _strings(item, key)]
    return [(key, node)] if isinstance(node, str) else []


def test_timestamps_in_fixtures_are_iso_8601() -> None:
    """Every *At / *_at / *_since string in the sample data is an ISO-8601 time with a zone."""
    for event in all_events():
        for data in (event.data, *event.envelopes.values()):
            for key, value in _strings(data):
                if key.endswith(("At", "_at", "_since")):
                    when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                    assert when.tzinfo is not None, (event.name, key)


def test_realtime_fixtures_have_the_realtime_data_shape() -> None:
    """OFAuth Realtime data is {connection, environment, eventBody} with a conn_ id."""
    realtime = [e for e in all_events() if e.name.startswith("realtime.")]
    assert len(realtime) == 12
    for event in realtime:
        assert set(event.data) == {"connection", "environment", "eventBody"}
        assert event.data["connection"]["id"].startswith("conn_")
        assert event.data["environment"] in ("live", "test", "sandbox")


@pytest.mark.parametrize("event", all_events(), ids=lambda e: f"{e.provider}/{e.name}")
def test_every_event_builds_and_encodes_in_every_envelope(event: EventType) -> None:
    """build_payload works for each envelope variant of the provider and encodes to JSON."""
    stamp = Stamp("evt_01JD7Y3Z8Q5V6W7X8Y9Z0A1B2C", 1795000000.0)
    for variant in ENVELOPE_NAMES[event.provider]:
        payload = build_payload(event, stamp, envelope=variant)
        assert json.loads(encode(payload)) == payload
        assert event.name in payload.values()
        assert event.data_for(variant) in payload.values()


def test_find_suggests_close_names_for_a_typo() -> None:
    """An unknown event name fails with the close catalogue names as the hint."""
    with pytest.raises(InputError) as caught:
        find("subscriber.nwe")
    assert caught.value.hint is not None and "subscriber.new" in caught.value.hint


def test_each_event_name_belongs_to_one_provider() -> None:
    """No name is shared across providers, so a name alone selects its provider."""
    assert all(provider_of(e.name) == e.provider for e in all_events())


def test_docs_tables_match_the_registry_and_the_fixtures() -> None:
    """docs/events.md's catalogue and docs/signatures.md's scheme table are what the registry
    and the fixtures say (fix: python scripts/docs_tables.py)."""
    script = runpy.run_path(str(ROOT / "scripts" / "docs_tables.py"))
    for name in ("events.md", "signatures.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert script["regenerated"](name, text) == text, name
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in text for name in LABEL_NAMES.values())
    assert "`svix-signature` (svix)" in (ROOT / "docs" / "signatures.md").read_text()
