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

from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import EventType
from ofevents_cli.core.check_setup import Setup, deliver
from ofevents_cli.core.deliveries import SignedDelivery
from ofevents_cli.core.diagnosis import body_variants
from ofevents_cli.core.payloads import Stamp
from ofevents_cli.core.signing import (
    DEFAULT_TOLERANCE,
    expected_signature,
    scheme_key,
    sign,
    signed_content,
)
from ofevents_cli.errors import InputError

__all__ = [
    "CASES",
    "DRIFT",
    "OVERSIZE",
    "SECURITY",
    "UNKNOWN_EVENT",
    "Case",
    "Expect",
    "Probe",
    "Request",
    "battery",
    "forged_secret",
    "has_timestamp",
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
    return registry.scheme(scheme).timestamped


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


def _sent(delivery: SignedDelivery) -> Request:
    return Request(delivery.headers, delivery.body)


@dataclass(frozen=True)
class _Builder:
    """Builds each case with fresh ids and the same clock reading."""

    setup: Setup
    now: float
    new_id: Callable[[str], str]

    @property
    def event(self) -> str:
        return self.setup.event.name

    @property
    def header(self) -> str:
        return self.setup.signature_header

    def stamp(self, offset: float = 0) -> Stamp:
        return Stamp(self.new_id(registry.scheme(self.setup.scheme).id_prefix),
                     self.now + offset)

    def genuine(self, *, offset: float = 0, event: EventType | None = None,
                secret: str | None = None, overrides: Sequence[tuple[str, Any]] = ()
                ) -> tuple[SignedDelivery, Stamp]:
        """A delivery as the provider would send it (`secret` and `offset` aside)."""
        stamp = self.stamp(offset)
        return deliver(self.setup, stamp, event=event, secret=secret,
                         overrides=overrides), stamp

    def resigned(self, delivery: SignedDelivery, stamp: Stamp, signed: bytes,
                 body: bytes | None = None) -> Request:
        """`delivery` signed over `signed` instead; `body` (default `signed`) goes out."""
        scheme = self.setup.scheme
        signature = sign(scheme, self.setup.secret, signed, msg_id=stamp.event_id,
                         timestamp=int(stamp.timestamp))
        kept = _without(delivery.headers, registry.scheme(scheme).headers)
        return Request((*kept, *signature), signed if body is None else body)

    def case(self, name: str) -> Case:
        """The case `name`, or its n/a form when the scheme has nothing to judge it by."""
        scheme = self.setup.scheme
        if name in ("stale", "future") and not has_timestamp(scheme):
            return Case(name, "nothing", "4xx", Expect.REFUSE,
                        skipped=f"{scheme} signs no timestamp, so a captured delivery "
                        "verifies forever: de-duplicate deliveries (see duplicate) to blunt "
                        "replays")
        if name.startswith("bad-input:"):
            return self.bad_input(name)
        method: Callable[[], Case] = getattr(self, name.replace("-", "_"))
        return method()

    def valid(self) -> Case:
        delivery, _ = self.genuine()
        return Case("valid", f"{self.event} signed with your secret ({self.header})",
                    f"2xx within {self.setup.deadline.seconds:g} s", Expect.ACCEPT,
                    (_sent(delivery),))

    def forged(self) -> Case:
        delivery, _ = self.genuine(secret=forged_secret(self.setup.secret))
        return Case("forged", f"{self.event} signed with another secret", "4xx", Expect.REFUSE,
                    (_sent(delivery),))

    def tampered(self) -> Case:
        delivery, _ = self.genuine()
        body, what = _tamper(delivery.body)
        return Case("tampered", f"{self.event}, valid signature, then {what}", "4xx",
                    Expect.REFUSE, (Request(delivery.headers, body),))

    def unsigned(self) -> Case:
        delivery, _ = self.genuine()
        return Case("unsigned", f"{self.event} without {self.header}", "4xx", Expect.REFUSE,
                    (Request(_without(delivery.headers, [self.header]), delivery.body),))

    def stale(self) -> Case:
        delivery, _ = self.genuine(offset=-DRIFT)
        return Case("stale", f"{self.event} signed with a timestamp {DRIFT} s old", "4xx",
                    Expect.REFUSE, (_sent(delivery),))

    def future(self) -> Case:
        delivery, _ = self.genuine(offset=DRIFT)
        return Case("future", f"{self.event} signed with a timestamp {DRIFT} s in the future",
                    "4xx", Expect.REFUSE, (_sent(delivery),))

    def reserialised(self) -> Case:
        delivery, _ = self.genuine()
        _, tried, body, _ = next(v for v in body_variants(delivery.body)
                                 if v[0] == "body_reserialised")
        return Case("reserialised", f"{self.event}, {tried}, original signature", "4xx",
                    Expect.REFUSE, (Request(delivery.headers, body),))

    def duplicate(self) -> Case:
        delivery, _ = self.genuine()
        return Case("duplicate", f"{self.event} {delivery.delivery_id} twice, identical",
                    "2xx both times, never 409 or 5xx", Expect.ACCEPT,
                    (_sent(delivery), _sent(delivery)))

    def out_of_order(self) -> Case:
        earlier_event, later_event = self.setup.earlier, self.setup.later
        later, _ = self.genuine(event=later_event)
        earlier, _ = self.genuine(event=earlier_event, offset=-EARLIER_BY)
        return Case("out-of-order", f"{later_event.name}, then the earlier "
                    f"{earlier_event.name} (same subject)", "2xx both, never 5xx",
                    Expect.ACCEPT, (_sent(later), _sent(earlier)))

    def unknown_event(self) -> Case:
        delivery, _ = self.genuine(event=dataclasses.replace(self.setup.event,
                                                             name=UNKNOWN_EVENT))
        return Case("unknown-event", f"{UNKNOWN_EVENT} signed with your secret",
                    "2xx (ignore it)", Expect.ACCEPT, (_sent(delivery),))

    def slow_path(self) -> Case:
        return Case("slow-path", "timing of the genuine deliveries above",
                    f"p50 and max under {self.setup.deadline.seconds:g} s", Expect.TIMING)

    def bad_input(self, name: str) -> Case:
        """Junk a parser must refuse, signed so that it gets past the signature check."""
        delivery, stamp = self.genuine()
        expected = "4xx or 413, never 5xx or a hang"
        if name == "bad-input:empty-body":
            return Case(name, "a signed empty body", expected, Expect.REJECT,
                        (self.resigned(delivery, stamp, b""),))
        if name == "bad-input:invalid-json":
            cut = delivery.body[: len(delivery.body) // 2]
            return Case(name, f"{self.event} cut in half (not JSON), signed", expected,
                        Expect.REJECT, (self.resigned(delivery, stamp, cut),))
        if name == "bad-input:content-type":
            headers = (*_without(delivery.headers, ["Content-Type"]),
                       ("Content-Type", "text/plain"))
            return Case(name, f"{self.event} signed, sent as text/plain", expected,
                        Expect.REJECT, (Request(headers, delivery.body),))
        big, _ = self.genuine(overrides=(("ofevents_padding", "x" * OVERSIZE),))
        return Case(name, f"{self.event} signed, padded past {OVERSIZE >> 20} MiB", expected,
                    Expect.REJECT, (_sent(big),))


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
    for tried, key, _ in registry.scheme(setup.scheme).key_variants(setup.secret):
        cause = "secret_encoding"
        delivery, stamp = builder.genuine()
        content = signed_content(setup.scheme, delivery.body, stamp.event_id,
                                 int(stamp.timestamp))
        right = expected_signature(setup.scheme, scheme_key(setup.scheme, setup.secret),
                                   content)
        wrong = expected_signature(setup.scheme, key, content)
        headers = tuple((n, v.replace(right, wrong)) for n, v in delivery.headers)
        probes.append(Probe(cause, tried, Request(headers, delivery.body)))
    return probes
