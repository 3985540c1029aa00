"""What an envelope says about itself: the event type a provider put in the body."""

from __future__ import annotations

import json

__all__ = ["event_of"]

_EVENT_KEYS = ("type", "event", "eventType")


def event_of(body: bytes) -> str | None:
    """The event type named by the body's envelope (`type`, `event` or `eventType`), if any."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict):
        for key in _EVENT_KEYS:
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return None
