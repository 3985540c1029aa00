"""The event catalogue: every event type of every provider, each backed by one fixture file.

Fixtures live in `ofevents_cli/fixtures/<provider>/<event>.json` as
`{"description": "...", "source": "...", "assumed": "...", "envelope": "...", "data": {...},
"envelopes": {"<variant>": {...data...}}}`. `source` names the provider document the shape comes
from (seed file and section, or public page); `assumed` (optional) says what that document leaves
unsaid and why the sample fills it as it does; `envelope` (optional) is the variant to send by
default when the only document of the event uses another than the provider's default;
`envelopes` (optional) holds the data shape a non-default envelope variant documents. They are
package data, read once, never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ofevents_cli.errors import InputError

__all__ = ["PROVIDERS", "EventType", "all_events", "events", "find", "provider_of"]

PROVIDERS = ("ofapi", "onlyfansapi", "ofauth", "eventbus")


@dataclass(frozen=True)
class EventType:
    """One event type: its name, provider, what it means, its sample data and where that
    sample's shape comes from."""

    name: str
    provider: str
    description: str
    data: Mapping[str, Any]
    envelopes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""
    assumed: str = ""
    envelope: str = ""  # the default envelope variant, when not the provider's first

    def data_for(self, envelope: str) -> Mapping[str, Any]:
        """The sample data in the shape `envelope` documents (the default shape otherwise)."""
        return self.envelopes.get(envelope, self.data)


@cache
def all_events() -> tuple[EventType, ...]:
    """Every event type, ordered by provider then name."""
    root = resources.files("ofevents_cli") / "fixtures"
    events = []
    for provider in PROVIDERS:
        folder = root / provider
        if not folder.is_dir():
            continue
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if not item.name.endswith(".json"):
                continue
            raw = json.loads(item.read_text(encoding="utf-8"))
            events.append(
                EventType(
                    name=item.name.removesuffix(".json"),
                    provider=provider,
                    description=raw["description"],
                    data=raw["data"],
                    envelopes=raw.get("envelopes", {}),
                    source=raw["source"],
                    assumed=raw.get("assumed", ""),
                    envelope=raw.get("envelope", ""),
                )
            )
    return tuple(events)


def provider_of(name: str) -> str | None:
    """The provider an event name belongs to, when exactly one provider has it."""
    owners = {e.provider for e in all_events() if e.name == name}
    return owners.pop() if len(owners) == 1 else None


def events(provider: str | None = None) -> list[EventType]:
    """Every event type, or one provider's; InputError for an unknown provider."""
    if provider is not None and provider not in PROVIDERS:
        raise InputError(
            f"unknown provider {provider!r}", f"use one of: {', '.join(PROVIDERS)} (--provider)"
        )
    return [e for e in all_events() if provider in (None, e.provider)]


def find(name: str, provider: str | None = None) -> EventType:
    """Look an event type up; InputError with the close matches and a hint if unknown."""
    matches = [e for e in events(provider) if e.name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        owners = ", ".join(e.provider for e in matches)
        raise InputError(f"event {name!r} exists for several providers ({owners})",
                         "choose one with --provider")
    import difflib

    names = sorted({e.name for e in events(provider)})
    close = difflib.get_close_matches(name, names, n=3)
    where = f" for provider {provider}" if provider else ""
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown event {name!r}{where}", hint + "list them with `ofevents events`")
