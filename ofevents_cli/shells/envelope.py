"""What an envelope says about itself: the event type and account a provider put in the body."""

from __future__ import annotations

import json

from ofevents_cli.core import providers as registry
from ofevents_cli.core.routes import account_in

__all__ = ["event_and_account", "event_of"]


def event_and_account(body: bytes) -> tuple[str | None, str | None]:
    """The event type named by the body's envelope (`type`, `event` or `eventType`) and the
    account it names (`accountId`, `account_id`, `creatorId`), each if any."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    event = None
    if isinstance(payload, dict):
        for key in registry.event_keys():
            if isinstance(payload.get(key), str):
                event = str(payload[key])
                break
    return event, account_in(payload)


def event_of(body: bytes) -> str | None:
    """The event type named by the body's envelope (`type`, `event` or `eventType`), if any."""
    return event_and_account(body)[0]
