"""What `check` imitates: the provider's event, scheme, secret and delivery timeout.

The provider facts (timeout, sample event, an ordered pair of events) come from the registry.
Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import EventType, events, find
from ofevents_cli.core.deliveries import SignedDelivery, signed_delivery
from ofevents_cli.core.payloads import Stamp
from ofevents_cli.core.providers import Provider
from ofevents_cli.errors import InputError

__all__ = ["Deadline", "Setup", "chosen_event", "deadline", "deliver", "make_setup"]


@dataclass(frozen=True)
class Deadline:
    """How long the provider waits for a 2xx (its registry entry), and when to warn before it."""

    seconds: float
    warn_after: float
    source: str


def deadline(provider: Provider) -> Deadline:
    """The provider's delivery timeout; a latency past half of it is a warning."""
    return Deadline(provider.timeout, provider.timeout / 2,
                    f"{provider.title}: {provider.timeout_source}")


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
        return registry.scheme(self.scheme).signature_header


def chosen_event(provider: str | None, event: str | None) -> EventType:
    """The event to send: --event (its provider is the one that has it), else the provider's
    sample event (its first one when it names none); InputError when neither says whose
    deliveries to imitate."""
    if event:
        return find(event, provider)
    if provider is None:
        raise InputError("say whose deliveries to imitate",
                         f"pass --provider ({', '.join(registry.names())}) or --event")
    owner = registry.provider(provider)
    if owner.sample_event:
        return find(owner.sample_event, provider)
    listed = events(provider)
    if not listed:
        raise InputError(f"provider {provider} has no event types", "pass --event")
    return listed[0]


def make_setup(event: EventType, scheme: str | None, secret: str, envelope: str | None,
               user_agent: str) -> Setup:
    """Everything the battery needs; InputError for a scheme, envelope or secret that
    cannot be sent."""
    owner = registry.provider(event.provider)
    earlier, later = ((find(name, event.provider) for name in owner.ordered) if owner.ordered
                      else (event, event))
    chosen = owner.signing_scheme(scheme, envelope or event.envelope or None).name
    setup = Setup(event, earlier, later, chosen, secret, envelope, user_agent, deadline(owner))
    deliver(setup, Stamp("evt_check", 0))  # a bad envelope or secret fails here, not later
    return setup


def deliver(setup: Setup, stamp: Stamp, *, event: EventType | None = None,
            secret: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
              ) -> SignedDelivery:
    """One delivery of the setup's event (or `event`), signed as `trigger` signs it."""
    return signed_delivery(event or setup.event, stamp, scheme=setup.scheme,
                           secret=secret or setup.secret, user_agent=setup.user_agent,
                           envelope=setup.envelope, overrides=overrides)
