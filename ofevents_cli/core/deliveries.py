"""A signed webhook delivery, built from an event type exactly as the provider would send it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core.catalogue import EventType
from ofevents_cli.core.payloads import Stamp, build_payload, encode
from ofevents_cli.core.signing import PROVIDER_SCHEMES, sign
from ofevents_cli.errors import InputError

__all__ = ["ENVELOPE_SCHEMES", "SignedDelivery", "id_prefix", "scheme_for", "signed_delivery"]


@dataclass(frozen=True)
class SignedDelivery:
    """The bytes and headers of one delivery; `delivery_id` is the receiver's idempotency key."""

    event: str
    provider: str
    delivery_id: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


# envelope variant -> the signature form its document shows, when not the provider's default:
# OFAPI's event reference (seed 004) verifies X-OFAPI-Signature as bare hex
ENVELOPE_SCHEMES = {"reference": "ofapi-hex"}


def scheme_for(provider: str, scheme: str | None, envelope: str | None = None) -> str:
    """The scheme to sign with: a chosen one the provider supports, else the one that goes
    with `envelope`, else the provider's default."""
    schemes = PROVIDER_SCHEMES[provider]
    if scheme is None:
        paired = ENVELOPE_SCHEMES.get(envelope or "")
        return paired if paired in schemes else schemes[0]
    if scheme not in schemes:
        raise InputError(f"provider {provider} does not sign with {scheme!r}",
                         f"use --scheme {' or '.join(schemes)}")
    return scheme


def id_prefix(scheme: str) -> str:
    """Svix message ids look like `msg_…`; the other providers' event ids like `evt_…`."""
    return "msg" if scheme in ("svix", "standard-webhooks") else "evt"


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
