"""What an envelope says about itself: the event type a provider put in the body."""

from __future__ import annotations

import json

from ofevents_cli.core import providers as registry

__all__ = ["event_of"]


def event_of(body: bytes) -> str | None:
    """The event type named by the body's envelope (`type`, `event` or `eventType`), if any."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict):
        for key in registry.event_keys():
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return None
