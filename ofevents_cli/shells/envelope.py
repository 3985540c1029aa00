"""What an envelope says about itself: the event type and account a provider put in the body."""

from __future__ import annotations

from ofevents_cli.core.envelope import envelope_facts

__all__ = ["event_and_account", "event_of"]


def event_and_account(body: bytes) -> tuple[str | None, str | None]:
    """The event type named by the body's envelope and the account it names, each if any."""
    facts = envelope_facts(body)
    return facts.event, facts.account


def event_of(body: bytes) -> str | None:
    """The event type named by the body's envelope (`type`, `event` or `eventType`), if any."""
    return envelope_facts(body).event
