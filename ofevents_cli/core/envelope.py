"""What an envelope says about itself: the event type and the account a provider put in a body.

One JSON parse per body gives both, so listing a long history parses each body once.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from ofevents_cli.core import providers as registry
from ofevents_cli.core.fastjson import SLOW, fast_loads

__all__ = ["EnvelopeFacts", "account_in", "envelope_facts"]

# where the providers' envelopes name the account (docs/history.md lists them)
_ACCOUNT_KEYS = ("accountId", "account_id", "creatorId", "creator_id")


class EnvelopeFacts(NamedTuple):
    """The event type and account named by a body (None when it names none)."""

    event: str | None
    account: str | None


def account_in(payload: object) -> str | None:
    """The account a webhook envelope names (top level, then its data or payload; OFAuth's
    connection id), if any."""
    if not isinstance(payload, dict):
        return None
    for where in (payload, payload.get("data"), payload.get("payload")):
        if not isinstance(where, dict):
            continue
        for key in _ACCOUNT_KEYS:
            value = where.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                return str(value)
        connection = where.get("connection")
        if isinstance(connection, dict) and isinstance(connection.get("id"), str):
            return str(connection["id"])  # OFAuth: the connected account's connection id
    return None


def envelope_facts(body: bytes) -> EnvelopeFacts:
    """The event type (`type`, `event` or `eventType`) and account of a JSON envelope."""
    payload = fast_loads(body, nesting=False)  # orjson: once per relayed or listed delivery
    if payload is SLOW:  # what orjson refuses the stdlib may read (a lone surrogate, 1e999)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return EnvelopeFacts(None, None)
    if not isinstance(payload, dict):
        return EnvelopeFacts(None, None)
    event = next((payload[k] for k in registry.event_keys() if isinstance(payload.get(k), str)),
                 None)
    return EnvelopeFacts(event, account_in(payload))
