"""Webhook signing and verification for every provider's scheme, over raw bytes.

Pure: the clock (`now`) and the secrets are passed in, so a capture can be verified offline
against the moment it was received. Every failure carries a machine-readable reason.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from ofevents_cli.core import providers as registry
from ofevents_cli.core.headers import Headers, index_headers
from ofevents_cli.core.schemes import Scheme, SignatureParts

__all__ = [
    "DEFAULT_TOLERANCE",
    "Reason",
    "SignatureParts",
    "Verdict",
    "detect_scheme",
    "digest",
    "expected_signature",
    "parse_signature",
    "scheme_key",
    "sign",
    "signature_matches",
    "signed_content",
    "verify",
]

DEFAULT_TOLERANCE = 300


class Reason(str, Enum):
    """Why a delivery did not verify (the names are part of the JSON contract)."""

    MISSING_HEADER = "missing_header"
    MALFORMED_HEADER = "malformed_header"
    MISMATCH = "mismatch"
    TIMESTAMP_OUTSIDE_TOLERANCE = "timestamp_outside_tolerance"
    BAD_SECRET = "bad_secret"
    UNSUPPORTED_SCHEME = "unsupported_scheme"


class Verdict(NamedTuple):
    """The outcome of verifying one delivery; `signed` and `expected` feed `--explain`.

    A NamedTuple rather than a frozen dataclass: it is built once per delivery on the hot path
    of `verify`, and is several times cheaper to construct.
    """

    scheme: str | None
    valid: bool
    reason: Reason | None = None
    detail: str = ""
    signed: bytes | None = None
    expected: str | None = None
    received: tuple[str, ...] = ()
    timestamp: int | None = None
    msg_id: str | None = None
    secret: int | None = None  # index of the secret that matched, or that `expected` used


def detect_scheme(headers: Headers, provider: str | None = None) -> str | None:
    """The scheme whose signature header is present (else whose other headers are), restricted
    to `provider` when given; of schemes sharing a header, the one whose form was received."""
    index = index_headers(headers)
    allowed = registry.schemes_of(provider) if provider is not None else None
    for name, candidate in registry.detection_order():
        if name in index and (allowed is None or candidate.name in allowed):
            value = index.get(candidate.signature_key)
            if value is None or candidate.in_form(value):
                return candidate.name
    return None


def _form_received(chosen: Scheme, index: dict[str, str]) -> Scheme:
    """Of the schemes that share `chosen`'s signature header, the one whose form the received
    value has (`sha256=<hex>` is `ofapi`, bare hex `ofapi-hex`)."""
    value = index.get(chosen.signature_key)
    if value is None:
        return chosen
    siblings = _siblings(chosen.name, registry.generation())
    if len(siblings) == 1:  # the common case: no other scheme shares the header
        return chosen
    fitting = [s for s in siblings if s.in_form(value)]
    return max(fitting, key=lambda s: s.form_rank()) if fitting else chosen


@lru_cache(maxsize=64)
def _siblings(name: str, generation: int) -> tuple[Scheme, ...]:
    """The schemes of the same provider signing in the same header as `name` (itself
    included), found once per registry state: verify asks per delivery."""
    chosen = registry.scheme(name)
    return tuple(s for s in registry.schemes().values()
                 if s.signature_key == chosen.signature_key
                 and registry.owner(s.name) == registry.owner(name))


@lru_cache(maxsize=64)
def scheme_key(scheme: str, secret: str) -> bytes:
    """The HMAC key a secret stands for under `scheme`; ValueError when it cannot be one."""
    return registry.scheme(scheme).key(secret)


def signed_content(scheme: str, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
    """The exact bytes the scheme's HMAC covers."""
    return registry.scheme(scheme).content(body, msg_id, timestamp)


def digest(key: bytes, content: bytes) -> bytes:
    """HMAC-SHA256 of `content`."""
    return hmac.digest(key, content, "sha256")


def expected_signature(scheme: str, key: bytes, content: bytes) -> str:
    """The signature value (without its `v1,`/`sha256=` decoration) for `content`."""
    return registry.scheme(scheme).encode(digest(key, content))


def sign(
    scheme: str, secret: str, body: bytes, *, msg_id: str, timestamp: int
) -> list[tuple[str, str]]:
    """The headers that sign `body` under `scheme`; ValueError for an unusable secret or an
    unknown scheme."""
    chosen = registry.scheme(scheme)
    key = chosen.key(secret)
    signature = chosen.encode(digest(key, chosen.content(body, msg_id, timestamp)))
    return chosen.render(signature, msg_id, timestamp)


def parse_signature(scheme: str, headers: Headers) -> SignatureParts:
    """Read the scheme's headers; KeyError names missing ones, ValueError a malformed one."""
    return registry.scheme(scheme).parse(index_headers(headers))


def signature_matches(scheme: str, macs: Sequence[bytes], candidates: Sequence[str]) -> bool:
    """Whether any received signature equals any of `macs` in the scheme's encoding
    (constant-time, every comparison made)."""
    return registry.scheme(scheme).matches(macs, candidates)


def verify(
    body: bytes,
    headers: Headers,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
    scheme: str | None = None,
    provider: str | None = None,
) -> Verdict:
    """Verify one delivery; never raises for bad input, it becomes a Verdict's reason."""
    headers = index_headers(headers)
    if scheme:  # schemes sharing a header verify either form: say which came
        chosen = registry.schemes().get(scheme)
        if chosen is not None:
            chosen = _form_received(chosen, headers)
            scheme = chosen.name
    else:  # detection picks the form received already
        scheme = detect_scheme(headers, provider)
        chosen = registry.schemes().get(scheme or "")
    if chosen is None:
        known = registry.schemes_of(provider) if provider else ()
        every = registry.schemes()
        names = ", ".join(dict.fromkeys(every[s].signature_header for s in (known or every)))
        reason = Reason.MISSING_HEADER if known else Reason.UNSUPPORTED_SCHEME
        return Verdict(scheme, False, reason, f"no signature header found (expected {names})")
    assert scheme is not None
    try:
        parts = chosen.parse(headers)
    except KeyError as exc:
        return Verdict(scheme, False, Reason.MISSING_HEADER, f"missing header {exc.args[0]}")
    except ValueError as exc:
        return Verdict(scheme, False, Reason.MALFORMED_HEADER, str(exc))
    content = chosen.content(body, parts.msg_id, parts.timestamp)
    # a secret that cannot key this scheme (say a hex provider's secret tried on a Svix
    # delivery during rotation) is skipped; bad_secret only when no secret is usable
    first: tuple[int, bytes] | None = None
    matched: tuple[int, bytes] | None = None
    problem = "no secret to verify with"
    for index, secret in enumerate(secrets):
        try:
            key = scheme_key(scheme, secret)
        except ValueError as exc:
            problem = str(exc)
            continue
        mac = digest(key, content)
        first = first or (index, mac)
        if chosen.matches((mac,), parts.signatures):
            matched = (index, mac)
            break
    if first is None:
        return Verdict(scheme, False, Reason.BAD_SECRET, problem, content, None,
                       parts.signatures, parts.timestamp, parts.msg_id)
    index, mac = matched or first
    expected = chosen.encode(mac)
    if matched is None:
        return Verdict(scheme, False, Reason.MISMATCH, "signature does not match", content,
                       expected, parts.signatures, parts.timestamp, parts.msg_id, index)
    if parts.timestamp is not None and not abs(now - parts.timestamp) <= tolerance:  # NaN too
        skew = now - parts.timestamp
        detail = f"timestamp is {abs(skew):.0f} s {'old' if skew > 0 else 'in the future'}"
        return Verdict(scheme, False, Reason.TIMESTAMP_OUTSIDE_TOLERANCE,
                       f"{detail} (tolerance {tolerance} s)", content, expected,
                       parts.signatures, parts.timestamp, parts.msg_id, index)
    return Verdict(scheme, True, None, "", content, expected, parts.signatures, parts.timestamp,
                   parts.msg_id, index)
