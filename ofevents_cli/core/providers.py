"""The registry: every provider and signature scheme ofevents knows, in one place.

A `Provider` carries its own settings (in the spirit of simonw/llm, where a model knows its key's
env var): its schemes (the signing default first), its envelopes (the default first; each knows
the body key that names the event type and the scheme its document shows), the env var and
config key of its secret, and where its fixtures live. Flag choices, env var maps, config keys,
scheme detection, docs tables and shell completion are all derived from here.

Adding a provider is one `register(Provider(...), *schemes)` (here, for a built-in one) plus
one fixture file per event type: see docs/providers.md, "Adding a provider".
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ofevents_cli.core.schemes import HexScheme, Scheme, StandardWebhooksScheme, TimestampedScheme
from ofevents_cli.errors import InputError

if TYPE_CHECKING:  # importlib.resources (and tempfile, random) only where a fixture is read
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:  # 3.10 (mypy --python-version 3.10 in .ci/run)
        from importlib.abc import Traversable

__all__ = [
    "Envelope",
    "Provider",
    "detection_order",
    "event_keys",
    "generation",
    "names",
    "owner",
    "provider",
    "providers",
    "register",
    "scheme",
    "schemes",
    "schemes_of",
    "unregister",
]

# the sample account each envelope names (fixtures hold the data, envelopes the frame)
CREATOR_ID = "crt_9f4c2b7e1a"
ACCOUNT_ID = "acct_5d3f7a9b1c2e"
EVENTBUS_ACCOUNT = "384751629"

Build = Callable[[str, str, str, dict[str, Any]], dict[str, Any]]  # name, id, time, data


class Envelope(NamedTuple):
    """How a provider wraps an event's data: `build(name, event_id, iso_time, data)`; the
    body key that names the event type; the scheme its document signs with, if not the
    provider's default."""

    name: str
    event_key: str
    build: Build
    scheme: str | None = None


class Provider(NamedTuple):
    """One event provider and everything about it that ofevents needs.

    A NamedTuple, like Envelope: immutable, and built without the generated code a frozen
    dataclass execs at import (every `--help` that names a provider imports this module)."""

    name: str
    title: str
    description: str
    schemes: tuple[str, ...]
    envelopes: tuple[Envelope, ...]
    secret_env: str | None = None
    kind: Literal["webhook", "eventbus"] = "webhook"
    fixtures: Traversable | None = None
    timeout: float = 10.0  # seconds it waits for a 2xx before it counts a failure
    timeout_source: str = "not documented: 10 s assumed"
    sample_event: str | None = None  # what `check` sends unless told (a money event)
    ordered: tuple[str, str] | None = None  # an earlier and a later event of one subject

    @property
    def config_key(self) -> str | None:
        """Where the config file keeps its secret (`secrets.<name>`)."""
        return f"secrets.{self.name}" if self.secret_env else None

    @property
    def fixture_dir(self) -> Traversable:
        """Its fixture files: `ofevents_cli/fixtures/<name>/` unless given."""
        if self.fixtures is not None:
            return self.fixtures
        from importlib import resources

        return resources.files("ofevents_cli") / "fixtures" / self.name

    def envelope(self, name: str | None = None) -> Envelope:
        """An envelope by name (the default when None); InputError names the choices."""
        if name is None:
            return self.envelopes[0]
        for envelope in self.envelopes:
            if envelope.name == name:
                return envelope
        names = " or ".join(e.name for e in self.envelopes)
        raise InputError(f"provider {self.name} has no envelope {name!r}",
                         f"use --envelope {names}")

    def signing_scheme(self, chosen: str | None = None, envelope: str | None = None) -> Scheme:
        """The scheme to sign with: a chosen one this provider supports, else the one that
        goes with `envelope`, else the default; InputError names the choices."""
        if chosen is None:
            paired = self.envelope(envelope).scheme if envelope else None
            return scheme(paired if paired in self.schemes else self.schemes[0])
        if chosen not in self.schemes:
            raise InputError(f"provider {self.name} does not sign with {chosen!r}",
                             f"use --scheme {' or '.join(self.schemes)}")
        return scheme(chosen)


_PROVIDERS: dict[str, Provider] = {}
_SCHEMES: dict[str, Scheme] = {}


def register(entry: Provider, *new_schemes: Scheme) -> None:
    """Add (or replace) a provider and the schemes it brings; every derived table follows."""
    for item in new_schemes:
        _SCHEMES[item.name] = item
    missing = [name for name in entry.schemes if name not in _SCHEMES]
    if missing:
        raise ValueError(f"provider {entry.name} names unknown schemes {missing}")
    _PROVIDERS[entry.name] = entry
    _forget()


def unregister(name: str) -> None:
    """Remove a provider (and schemes no other provider uses): the inverse of `register`."""
    gone = _PROVIDERS.pop(name)
    used = {s for p in _PROVIDERS.values() for s in p.schemes}
    for item in gone.schemes:
        if item not in used:
            _SCHEMES.pop(item, None)
    _forget()


_generation = 0


def _forget() -> None:
    global _generation
    _generation += 1
    detection_order.cache_clear()


def generation() -> int:
    """Changes whenever the registry does, so tables derived from it (the catalogue) know
    when to rebuild."""
    return _generation


def providers(kind: str | None = None) -> tuple[Provider, ...]:
    """Every provider in registry order, or those of one kind (`webhook`, `eventbus`)."""
    return tuple(p for p in _PROVIDERS.values() if kind in (None, p.kind))


def names(kind: str | None = None) -> tuple[str, ...]:
    """Provider names, for flag choices, hints and completion."""
    return tuple(p.name for p in providers(kind))


def provider(name: str) -> Provider:
    """A provider by name; InputError with the choices for an unknown one."""
    found = _PROVIDERS.get(name)
    if found is None:
        raise InputError(f"unknown provider {name!r}",
                         f"use one of: {', '.join(_PROVIDERS)} (--provider)")
    return found


def schemes_of(name: str) -> tuple[str, ...]:
    """The schemes a provider may use (none for a name that is not a provider)."""
    found = _PROVIDERS.get(name)
    return found.schemes if found is not None else ()


def schemes() -> Mapping[str, Scheme]:
    """Every scheme by name."""
    return _SCHEMES


def scheme(name: str) -> Scheme:
    """A scheme by name; ValueError for an unknown one."""
    found = _SCHEMES.get(name)
    if found is None:
        raise ValueError(f"unknown scheme {name!r}")
    return found


def owner(scheme_name: str) -> Provider:
    """The provider a delivery signed with this scheme comes from: the first webhook provider
    that lists it (eventbus borrows Standard Webhooks for `--forward-to`)."""
    return _owner(scheme_name, _generation)


@lru_cache(maxsize=256)
def _owner(scheme_name: str, generation: int) -> Provider:
    """`owner`, worked out once per scheme and registry state: verify asks per delivery."""
    for entry in (*providers("webhook"), *providers()):
        if scheme_name in entry.schemes:
            return entry
    raise ValueError(f"no provider signs with {scheme_name!r}")


def event_keys() -> tuple[str, ...]:
    """The body keys that name the event type, over every envelope (`type`, `event`, …)."""
    return _event_keys(_generation)


@lru_cache(maxsize=16)
def _event_keys(generation: int) -> tuple[str, ...]:
    """`event_keys`, worked out once per registry state: the relay asks per delivery."""
    return tuple(dict.fromkeys(e.event_key for p in providers() for e in p.envelopes))


@cache
def detection_order() -> tuple[tuple[str, Scheme], ...]:
    """(lower-case header, scheme) pairs to look for, most specific first: schemes with more
    headers before single-header ones, then a longer header name before a shorter
    (`Signature` alone is the vaguest), a more specific form of a shared header first, then
    registry order; then every scheme's companion headers (its signature header missing)."""
    rank = {name: n for n, name in enumerate(_SCHEMES)}
    ordered = sorted(_SCHEMES.values(), key=lambda s: (
        -len(s.headers), -len(s.signature_header) if len(s.headers) == 1 else 0,
        -s.form_rank(), rank[s.name]))
    pairs = [(s.signature_key, s) for s in ordered]
    pairs += [(name, s) for s in ordered for name in s.companions]
    return tuple(pairs)


# -- the built-in providers ------------------------------------------------------------------

def _integration(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": event_id, "type": name, "creatorId": CREATOR_ID, "timestamp": when,
            "data": data}


def _named(key: str) -> Build:
    """`{key: name, "timestamp", "data"}`: OFAPI's reference and OFAuth's docs envelopes."""
    def build(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
        return {key: name, "timestamp": when, "data": data}
    return build


def _onlyfansapi(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": name, "account_id": ACCOUNT_ID, "payload": data}


def _sdk(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"eventType": name, "live": True, "data": data}


def _emit(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": name, "accountId": EVENTBUS_ACCOUNT, "data": data}


# OFAPI's two documents write X-OFAPI-Signature two ways: `sha256=<hex>` (integration guide,
# seed 003) and bare `<hex>` (event reference, seed 004); each reads both when verifying
register(
    Provider("ofapi", "OFAPI", "webhooks as documented in the OFAPI guides",
             ("ofapi", "ofapi-hex"),
             (Envelope("integration", "type", _integration),
              Envelope("reference", "event", _named("event"), scheme="ofapi-hex")),
             secret_env="OFAPI_WEBHOOK_SECRET", timeout_source="2xx within 10 s (one guide says "
             "~5 s)", sample_event="tip.received",
             ordered=("subscriber.new", "subscriber.renewed")),
    HexScheme("ofapi", ("X-OFAPI-Signature",), prefix="sha256=",
              title="`X-OFAPI-Signature: sha256=<hex>` (integration guide)"),
    HexScheme("ofapi-hex", ("X-OFAPI-Signature",), accepts=("sha256=",),
              title="`X-OFAPI-Signature: <hex>` (event reference)"),
)
register(
    Provider("onlyfansapi", "OnlyFansAPI.com", "OnlyFansAPI.com webhooks", ("onlyfansapi",),
             (Envelope("default", "event", _onlyfansapi),),
             secret_env="ONLYFANSAPI_WEBHOOK_SECRET", sample_event="messages.ppv.unlocked",
             ordered=("subscriptions.new", "subscriptions.renewed")),
    HexScheme("onlyfansapi", ("Signature",), title="`Signature: <hex>`"),
)
register(
    Provider("ofauth", "OFAuth", "OFAuth system and Realtime webhooks",
             ("svix", "standard-webhooks", "ofauth-signature"),
             (Envelope("docs", "type", _named("type")),
              Envelope("sdk", "eventType", _sdk)),
             secret_env="OFAUTH_WEBHOOK_SECRET", timeout_source="10 s per attempt",
             sample_event="connection.created",
             ordered=("connection.created", "connection.updated")),
    StandardWebhooksScheme("svix", ("svix-id", "svix-timestamp", "svix-signature"),
                           title="`svix-id`, `svix-timestamp`, "
                                 "`svix-signature: v1,<sig> [v1,<sig>…]`"),
    StandardWebhooksScheme("standard-webhooks",
                           ("webhook-id", "webhook-timestamp", "webhook-signature"),
                           title="`webhook-id`, `webhook-timestamp`, `webhook-signature` "
                                 "(as Svix)"),
    TimestampedScheme("ofauth-signature", ("OFAuth-Signature",),
                      title="`OFAuth-Signature: t=<unix>,v1=<sig>` (hex signed; hex or base64 "
                      "accepted)"),
)
register(
    Provider("eventbus", "BetterFans Link EventBus", "WebSocket events of every managed account",
             ("standard-webhooks",), (Envelope("emit", "event", _emit),), kind="eventbus",
             timeout_source="listen --forward-to: 10 s per attempt", sample_event="tip",
             ordered=("chat_message", "chat_message_like")),
)
