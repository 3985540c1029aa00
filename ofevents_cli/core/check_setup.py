"""What `check` imitates: the provider's event, scheme, secret and delivery timeout.

The provider facts here (timeouts, default events, ordered pairs) move onto the provider
registry. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core.catalogue import EventType, find
from ofevents_cli.core.deliveries import SignedDelivery, scheme_for, signed_delivery
from ofevents_cli.core.payloads import Stamp
from ofevents_cli.core.signing import SCHEMES
from ofevents_cli.errors import InputError

__all__ = ["DEADLINES", "DEFAULT_EVENTS", "ORDERED", "Deadline", "Setup", "chosen_event",
           "deliver", "make_setup"]


@dataclass(frozen=True)
class Deadline:
    """How long the provider waits for a 2xx (docs/providers.md), and when to warn before it."""

    seconds: float
    warn_after: float
    source: str


# provider -> its delivery timeout; moves onto the provider registry
DEADLINES = {
    "ofapi": Deadline(10.0, 5.0, "OFAPI: 2xx within 10 s (one guide says ~5 s)"),
    "onlyfansapi": Deadline(10.0, 5.0, "OnlyFansAPI.com: not documented, 10 s assumed"),
    "ofauth": Deadline(10.0, 5.0, "OFAuth: 10 s per attempt"),
    "eventbus": Deadline(10.0, 5.0, "listen --forward-to: 10 s per attempt"),
}
# provider -> the event `check` sends unless --event says otherwise (a money event where the
# provider documents one: a forged one is the costly mistake)
DEFAULT_EVENTS = {
    "ofapi": "tip.received",
    "onlyfansapi": "messages.ppv.unlocked",
    "ofauth": "connection.created",
    "eventbus": "tip",
}
# provider -> (earlier, later) events of one subject (the same fan, connection or message in
# the fixtures), for out-of-order
ORDERED = {
    "ofapi": ("subscriber.new", "subscriber.renewed"),
    "onlyfansapi": ("subscriptions.new", "subscriptions.renewed"),
    "ofauth": ("connection.created", "connection.updated"),
    "eventbus": ("chat_message", "chat_message_like"),
}


@dataclass(frozen=True)
class Setup:
    """What the battery is built from: the event, its provider's scheme and timeout, the secret."""

    event: EventType
    earlier: EventType
    later: EventType
    scheme: str
    secret: str
    envelope: str | None
    user_agent: str
    deadline: Deadline

    @property
    def provider(self) -> str:
        """The provider whose deliveries are imitated."""
        return self.event.provider

    @property
    def signature_header(self) -> str:
        """The header carrying the signature (the last one a scheme sets)."""
        return SCHEMES[self.scheme][1][-1]


def chosen_event(provider: str | None, event: str | None) -> EventType:
    """The event to send: --event (its provider is the one that has it), else the provider's
    default; InputError when neither says whose deliveries to imitate."""
    if event:
        return find(event, provider)
    if provider is None:
        raise InputError("say whose deliveries to imitate",
                         f"pass --provider ({', '.join(DEFAULT_EVENTS)}) or --event")
    if provider not in DEFAULT_EVENTS:
        raise InputError(f"unknown provider {provider!r}",
                         f"use one of: {', '.join(DEFAULT_EVENTS)} (--provider)")
    return find(DEFAULT_EVENTS[provider], provider)


def make_setup(event: EventType, scheme: str | None, secret: str, envelope: str | None,
               user_agent: str) -> Setup:
    """Everything the battery needs; InputError for a scheme, envelope or secret that
    cannot be sent."""
    earlier, later = (find(name, event.provider) for name in ORDERED[event.provider])
    setup = Setup(event, earlier, later, scheme_for(event.provider, scheme), secret, envelope,
                  user_agent, DEADLINES[event.provider])
    deliver(setup, Stamp("evt_check", 0))  # a bad envelope or secret fails here, not later
    return setup


def deliver(setup: Setup, stamp: Stamp, *, event: EventType | None = None,
            secret: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
              ) -> SignedDelivery:
    """One delivery of the setup's event (or `event`), signed as `trigger` signs it."""
    return signed_delivery(event or setup.event, stamp, scheme=setup.scheme,
                           secret=secret or setup.secret, user_agent=setup.user_agent,
                           envelope=setup.envelope, overrides=overrides)
