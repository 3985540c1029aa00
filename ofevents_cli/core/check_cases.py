"""`check`'s battery: the deliveries that grade a webhook endpoint, as a provider and an attacker
would send them.

Every case is built by `trigger`'s own code (`signed_delivery`, `sign`), for whatever scheme
`core.signing` knows, so the battery follows the schemes as they change. Pure: the clock, the
ids and the secret are passed in; sending and judging happen elsewhere.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ofevents_cli.core.catalogue import EventType, find
from ofevents_cli.core.deliveries import SignedDelivery, id_prefix, scheme_for, signed_delivery
from ofevents_cli.core.diagnosis import body_variants, key_variants
from ofevents_cli.core.payloads import Stamp
from ofevents_cli.core.signing import (
    DEFAULT_TOLERANCE,
    SCHEMES,
    expected_signature,
    scheme_key,
    sign,
    signed_content,
)
from ofevents_cli.errors import InputError

__all__ = [
    "CASES",
    "Case",
    "Deadline",
    "Expect",
    "Probe",
    "Request",
    "Setup",
    "battery",
    "chosen_event",
    "forged_secret",
    "has_timestamp",
    "make_setup",
    "refusal_probes",
    "select",
]

# the battery, in the order it is sent; `bad-input` names its four cases at once
CASES = (
    "valid", "forged", "tampered", "unsigned", "stale", "future", "reserialised", "duplicate",
    "out-of-order", "unknown-event", "slow-path", "bad-input:empty-body",
    "bad-input:invalid-json", "bad-input:content-type", "bad-input:oversized",
)
SECURITY = frozenset({"forged", "tampered", "unsigned", "stale", "future", "reserialised"})

UNKNOWN_EVENT = "ofevents.unknown_type"  # a type no provider sends (yet)
DRIFT = 2 * DEFAULT_TOLERANCE  # stale/future: twice the 300 s every timestamped scheme allows
OVERSIZE = 2 * 1024 * 1024  # above the usual 1 MiB (and Express's 100 kB) body limits
EARLIER_BY = 60  # out-of-order: the earlier event's timestamp, well inside the tolerance


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


class Expect(str, Enum):
    """What a correct endpoint answers: take it, refuse it, reject the input, or be quick."""

    ACCEPT = "accept"
    REFUSE = "refuse"
    REJECT = "reject"
    TIMING = "timing"


@dataclass(frozen=True)
class Request:
    """One POST of the battery: headers and body exactly as sent."""

    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Case:
    """One graded behaviour: what is sent, what a correct endpoint answers, in which words."""

    name: str
    sent: str
    expected: str
    expect: Expect
    requests: tuple[Request, ...] = ()
    skipped: str | None = None  # why the case does not apply to this scheme (verdict n/a)

    @property
    def security(self) -> bool:
        """Whether failing it lets an attacker in (these decide an F)."""
        return self.name in SECURITY


@dataclass(frozen=True)
class Probe:
    """A genuine delivery signed the way a mistaken verifier computes it: accepted, it names
    the mistake (the causes `verify --explain` diagnoses)."""

    cause: str
    tried: str
    request: Request


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
    _delivery(setup, Stamp("evt_check", 0))  # a bad envelope or secret fails here, not later
    return setup


def select(names: Sequence[str]) -> tuple[str, ...]:
    """The cases to run, in battery order: all by default; `bad-input` means its four;
    `slow-path` times genuine deliveries, so it brings `valid`."""
    if not names:
        return CASES
    wanted: set[str] = set()
    for name in names:
        group = [c for c in CASES if c == name or c.startswith(f"{name}:")]
        if not group:
            close = difflib.get_close_matches(name, [*CASES, "bad-input"], n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise InputError(f"unknown case {name!r}", f"{hint}the cases: {', '.join(CASES)}")
        wanted.update(group)
    if "slow-path" in wanted:
        wanted.add("valid")
    return tuple(c for c in CASES if c in wanted)


def has_timestamp(scheme: str) -> bool:
    """Whether the scheme signs a timestamp (so stale and future deliveries can be refused)."""
    return signed_content(scheme, b"", "msg", 1) != signed_content(scheme, b"", "msg", 2)


def _delivery(setup: Setup, stamp: Stamp, *, event: EventType | None = None,
              secret: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
              ) -> SignedDelivery:
    return signed_delivery(event or setup.event, stamp, scheme=setup.scheme,
                           secret=secret or setup.secret, user_agent=setup.user_agent,
                           envelope=setup.envelope, overrides=overrides)


def forged_secret(secret: str) -> str:
    """Another secret of the same form (`whsec_` + base64 suits every scheme), derived so it
    is never the real one."""
    digest = hashlib.sha256(b"ofevents check: a forged key\0" + secret.encode()).digest()
    return "whsec_" + base64.b64encode(digest[:24]).decode("ascii")


def _tamper(body: bytes) -> tuple[bytes, str]:
    """One byte changed, the JSON still valid: the last digit becomes another digit."""
    for index in range(len(body) - 1, -1, -1):
        if 0x30 <= body[index] <= 0x39:
            new = 0x30 + (body[index] - 0x30 + 1) % 10
            changed = body[:index] + bytes([new]) + body[index + 1:]
            return changed, f"byte {index} changed {chr(body[index])}→{chr(new)}"
    return b" " + body, "a space added in front"


def _without(headers: Sequence[tuple[str, str]], names: Sequence[str]
             ) -> tuple[tuple[str, str], ...]:
    lowered = {n.lower() for n in names}
    return tuple(h for h in headers if h[0].lower() not in lowered)


@dataclass(frozen=True)
class _Builder:
    """Builds each case with fresh ids and the same clock reading."""

    setup: Setup
    now: float
    new_id: Callable[[str], str]

    def stamp(self, offset: float = 0) -> Stamp:
        return Stamp(self.new_id(id_prefix(self.setup.scheme)), self.now + offset)

    def genuine(self, *, offset: float = 0, event: EventType | None = None,
                secret: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
                ) -> tuple[SignedDelivery, Stamp]:
        """A delivery as the provider would send it (`secret` and `offset` aside)."""
        stamp = self.stamp(offset)
        return _delivery(self.setup, stamp, event=event, secret=secret,
                         overrides=overrides), stamp

    def resigned(self, delivery: SignedDelivery, stamp: Stamp, signed: bytes,
                 body: bytes | None = None) -> Request:
        """`delivery` signed over `signed` instead; `body` (default `signed`) goes out."""
        scheme = self.setup.scheme
        signature = sign(scheme, self.setup.secret, signed, msg_id=stamp.event_id,
                         timestamp=int(stamp.timestamp))
        kept = _without(delivery.headers, SCHEMES[scheme][1])
        return Request((*kept, *signature), signed if body is None else body)

    def case(self, name: str) -> Case:
        s = self.setup
        event, header = s.event.name, s.signature_header
        if name in ("stale", "future") and not has_timestamp(s.scheme):
            return Case(name, "nothing", "4xx", Expect.REFUSE,
                        skipped=f"{s.scheme} signs no timestamp, so a captured delivery "
                        "verifies forever: de-duplicate deliveries (see duplicate) to blunt "
                        "replays")
        if name == "valid":
            delivery, _ = self.genuine()
            return Case(name, f"{event} signed with your secret ({header})",
                        f"2xx within {s.deadline.seconds:g} s", Expect.ACCEPT,
                        (Request(delivery.headers, delivery.body),))
        if name == "forged":
            delivery, _ = self.genuine(secret=forged_secret(s.secret))
            return Case(name, f"{event} signed with another secret", "4xx", Expect.REFUSE,
                        (Request(delivery.headers, delivery.body),))
        if name == "tampered":
            delivery, _ = self.genuine()
            body, what = _tamper(delivery.body)
            return Case(name, f"{event}, valid signature, then {what}", "4xx", Expect.REFUSE,
                        (Request(delivery.headers, body),))
        if name == "unsigned":
            delivery, _ = self.genuine()
            return Case(name, f"{event} without {header}", "4xx", Expect.REFUSE,
                        (Request(_without(delivery.headers, [header]), delivery.body),))
        if name in ("stale", "future"):
            offset = -DRIFT if name == "stale" else DRIFT
            delivery, _ = self.genuine(offset=offset)
            when = "old" if name == "stale" else "in the future"
            return Case(name, f"{event} signed with a timestamp {DRIFT} s {when}", "4xx",
                        Expect.REFUSE, (Request(delivery.headers, delivery.body),))
        if name == "reserialised":
            delivery, _ = self.genuine()
            _, tried, body, _ = next(v for v in body_variants(delivery.body)
                                     if v[0] == "body_reserialised")
            return Case(name, f"{event}, {tried}, original signature", "4xx", Expect.REFUSE,
                        (Request(delivery.headers, body),))
        if name == "duplicate":
            delivery, _ = self.genuine()
            request = Request(delivery.headers, delivery.body)
            return Case(name, f"{event} {delivery.delivery_id} twice, identical",
                        "2xx both times, never 409 or 5xx", Expect.ACCEPT, (request, request))
        if name == "out-of-order":
            later, _ = self.genuine(event=s.later)
            earlier, _ = self.genuine(event=s.earlier, offset=-EARLIER_BY)
            return Case(name, f"{s.later.name}, then the earlier {s.earlier.name} (same "
                        "subject)", "2xx both, never 5xx", Expect.ACCEPT,
                        (Request(later.headers, later.body),
                         Request(earlier.headers, earlier.body)))
        if name == "unknown-event":
            unknown = dataclasses.replace(s.event, name=UNKNOWN_EVENT)
            delivery, _ = self.genuine(event=unknown)
            return Case(name, f"{UNKNOWN_EVENT} signed with your secret", "2xx (ignore it)",
                        Expect.ACCEPT, (Request(delivery.headers, delivery.body),))
        if name == "slow-path":
            return Case(name, "timing of the genuine deliveries above",
                        f"p50 and max under {s.deadline.seconds:g} s", Expect.TIMING)
        return self.bad_input(name)

    def bad_input(self, name: str) -> Case:
        delivery, stamp = self.genuine()
        event = self.setup.event.name
        expected = "4xx or 413, never 5xx or a hang"
        if name == "bad-input:empty-body":
            return Case(name, "a signed empty body", expected, Expect.REJECT,
                        (self.resigned(delivery, stamp, b""),))
        if name == "bad-input:invalid-json":
            cut = delivery.body[: len(delivery.body) // 2]
            return Case(name, f"{event} cut in half (not JSON), signed", expected,
                        Expect.REJECT, (self.resigned(delivery, stamp, cut),))
        if name == "bad-input:content-type":
            headers = (*_without(delivery.headers, ["Content-Type"]),
                       ("Content-Type", "text/plain"))
            return Case(name, f"{event} signed, sent as text/plain", expected,
                        Expect.REJECT, (Request(headers, delivery.body),))
        big, _ = self.genuine(overrides=(("ofevents_padding", "x" * OVERSIZE),))
        return Case(name, f"{event} signed, padded past {OVERSIZE >> 20} MiB", expected,
                    Expect.REJECT, (Request(big.headers, big.body),))


def battery(setup: Setup, names: Sequence[str], now: float, new_id: Callable[[str], str]
            ) -> list[Case]:
    """The selected cases (see `select`), each signed afresh at `now`."""
    builder = _Builder(setup, now, new_id)
    return [builder.case(name) for name in names]


def refusal_probes(setup: Setup, now: float, new_id: Callable[[str], str]) -> list[Probe]:
    """Genuine deliveries signed as each common mistake computes it (the body re-serialised,
    a trailing newline, the secret decoded wrongly): the one an endpoint that refused the
    genuine delivery accepts names its mistake."""
    builder = _Builder(setup, now, new_id)
    probes = []
    labels = [(cause, tried) for cause, tried, _, _ in body_variants(builder.genuine()[0].body)]
    for cause, tried in labels:  # each probe a fresh delivery: its body holds its own id
        delivery, stamp = builder.genuine()
        variant = next((v for _, t, v, _ in body_variants(delivery.body) if t == tried), None)
        if variant is not None:
            probes.append(Probe(cause, tried, builder.resigned(delivery, stamp, variant,
                                                               delivery.body)))
    for cause, tried, key, _ in key_variants(setup.scheme, setup.secret):
        delivery, stamp = builder.genuine()
        content = signed_content(setup.scheme, delivery.body, stamp.event_id,
                                 int(stamp.timestamp))
        right = expected_signature(setup.scheme, scheme_key(setup.scheme, setup.secret),
                                   content)
        wrong = expected_signature(setup.scheme, key, content)
        headers = tuple((n, v.replace(right, wrong)) for n, v in delivery.headers)
        probes.append(Probe(cause, tried, Request(headers, delivery.body)))
    return probes
