"""A signed webhook delivery, built from an event type exactly as the provider would send it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core.catalogue import EventType
from ofevents_cli.core.payloads import Stamp, build_payload, encode
from ofevents_cli.core.signing import sign
from ofevents_cli.errors import InputError

__all__ = ["SignedDelivery", "signed_delivery"]


@dataclass(frozen=True)
class SignedDelivery:
    """The bytes and headers of one delivery; `delivery_id` is the receiver's idempotency key."""

    event: str
    provider: str
    delivery_id: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


def signed_delivery(
    event: EventType,
    stamp: Stamp,
    *,
    scheme: str,
    secret: str,
    user_agent: str,
    envelope: str | None = None,
    data: Mapping[str, Any] | None = None,
    overrides: Sequence[tuple[str, Any]] = (),
) -> SignedDelivery:
    """Build, encode and sign one delivery of `event`."""
    body = encode(build_payload(event, stamp, envelope=envelope, data=data, overrides=overrides))
    try:
        signature = sign(scheme, secret, body, msg_id=stamp.event_id,
                         timestamp=int(stamp.timestamp))
    except ValueError as exc:
        raise InputError(f"cannot sign with that secret: {exc}",
                         "pass the secret exactly as the provider's dashboard shows it") from None
    headers = (("Content-Type", "application/json"), ("User-Agent", user_agent), *signature)
    return SignedDelivery(event.name, event.provider, stamp.event_id, body, headers)
