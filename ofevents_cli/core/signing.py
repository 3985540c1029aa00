"""Webhook signing and verification for every provider's scheme, over raw bytes.

Pure: the clock (`now`) and the secrets are passed in, so a capture can be verified offline
against the moment it was received. Every failure carries a machine-readable reason.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Sequence
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from ofevents_cli.core.headers import Headers, header_value, index_headers
from ofevents_cli.core.strictjson import lone_surrogate

__all__ = [
    "DEFAULT_TOLERANCE",
    "PROVIDER_SCHEMES",
    "SCHEMES",
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

# scheme -> (provider, header names it signs with, in order). OFAPI's two documents write
# X-OFAPI-Signature two ways: `sha256=<hex>` (integration guide, seed 003) and bare `<hex>`
# (event reference, seed 004); each form is its own scheme name, both verify either form.
SCHEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ofapi": ("ofapi", ("X-OFAPI-Signature",)),
    "ofapi-hex": ("ofapi", ("X-OFAPI-Signature",)),
    "onlyfansapi": ("onlyfansapi", ("Signature",)),
    "svix": ("ofauth", ("svix-id", "svix-timestamp", "svix-signature")),
    "standard-webhooks": ("ofauth", ("webhook-id", "webhook-timestamp", "webhook-signature")),
    "ofauth-signature": ("ofauth", ("OFAuth-Signature",)),
}

# provider -> the schemes it may use, the default (signing) one first
PROVIDER_SCHEMES: dict[str, tuple[str, ...]] = {
    "ofapi": ("ofapi", "ofapi-hex"),
    "onlyfansapi": ("onlyfansapi",),
    "ofauth": ("svix", "standard-webhooks", "ofauth-signature"),
    "eventbus": ("standard-webhooks",),
}

# detection order: the most specific header first ("Signature" alone is the vaguest)
_DETECT = (
    ("svix-signature", "svix"),
    ("webhook-signature", "standard-webhooks"),
    ("ofauth-signature", "ofauth-signature"),
    ("x-ofapi-signature", "ofapi"),
    ("signature", "onlyfansapi"),
)

# a scheme's other headers: present without its signature header, the delivery is that scheme
# with the signature missing (missing_header), not an unknown scheme
_COMPANIONS = (
    ("svix-id", "svix"),
    ("svix-timestamp", "svix"),
    ("webhook-id", "standard-webhooks"),
    ("webhook-timestamp", "standard-webhooks"),
)

_OFAPI = ("ofapi", "ofapi-hex")


class Reason(str, Enum):
    """Why a delivery did not verify (the names are part of the JSON contract)."""

    MISSING_HEADER = "missing_header"
    MALFORMED_HEADER = "malformed_header"
    MISMATCH = "mismatch"
    TIMESTAMP_OUTSIDE_TOLERANCE = "timestamp_outside_tolerance"
    BAD_SECRET = "bad_secret"
    UNSUPPORTED_SCHEME = "unsupported_scheme"


class SignatureParts(NamedTuple):
    """What a signature header carries: message id and timestamp (if the scheme has them)."""

    msg_id: str | None
    timestamp: int | None
    signatures: tuple[str, ...]


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


class _Malformed(ValueError):
    pass


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_UNIX = re.compile(r"0|[1-9][0-9]{0,11}")  # unix seconds exactly as signed: ASCII digits
_OWS = " \t"  # the only spacing HTTP allows around a value (and around its list items)


def detect_scheme(headers: Headers, provider: str | None = None) -> str | None:
    """The scheme whose signature header is present (else whose other headers are), restricted
    to `provider` when given; for X-OFAPI-Signature, the one matching the form received."""
    index = index_headers(headers)
    allowed = PROVIDER_SCHEMES.get(provider, ()) if provider is not None else tuple(SCHEMES)
    found = next((s for name, s in (*_DETECT, *_COMPANIONS) if name in index and s in allowed),
                 None)
    if found in _OFAPI:
        return _ofapi_form(index["x-ofapi-signature"])
    return found


def _ofapi_form(value: str) -> str:
    """`ofapi` for the `sha256=<hex>` form, `ofapi-hex` for anything else (bare hex)."""
    return "ofapi" if value.strip()[:7].lower() == "sha256=" else "ofapi-hex"


@lru_cache(maxsize=64)
def scheme_key(scheme: str, secret: str) -> bytes:
    """The HMAC key a secret stands for: base64 after `whsec_` for Svix, else its UTF-8 bytes."""
    if scheme in ("svix", "standard-webhooks"):
        encoded = secret.removeprefix("whsec_")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a Svix secret is `whsec_` followed by base64") from exc
    try:
        return secret.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the secret is not text (it holds a lone surrogate)") from None


def signed_content(scheme: str, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
    """The exact bytes the scheme's HMAC covers; ValueError for an id that is not text."""
    if scheme in ("svix", "standard-webhooks"):
        return f"{msg_id}.{timestamp}.".encode() + body
    if scheme == "ofauth-signature":
        return f"{timestamp}.".encode() + body
    return body


def digest(key: bytes, content: bytes) -> bytes:
    """HMAC-SHA256 of `content`."""
    return hmac.digest(key, content, "sha256")


def _encode(scheme: str, mac: bytes) -> str:
    if scheme in ("svix", "standard-webhooks"):
        return base64.b64encode(mac).decode("ascii")
    return mac.hex()


def expected_signature(scheme: str, key: bytes, content: bytes) -> str:
    """The signature value (without its `v1,`/`sha256=` decoration) for `content`."""
    return _encode(scheme, digest(key, content))


def sign(
    scheme: str, secret: str, body: bytes, *, msg_id: str, timestamp: int
) -> list[tuple[str, str]]:
    """The headers that sign `body` under `scheme`; ValueError for an unusable secret."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}")
    key = scheme_key(scheme, secret)
    sig = expected_signature(scheme, key, signed_content(scheme, body, msg_id, timestamp))
    names = SCHEMES[scheme][1]
    if scheme in ("svix", "standard-webhooks"):
        return [(names[0], msg_id), (names[1], str(timestamp)), (names[2], f"v1,{sig}")]
    if scheme == "ofauth-signature":
        return [(names[0], f"t={timestamp},v1={sig}")]
    if scheme == "ofapi":
        return [(names[0], f"sha256={sig}")]
    return [(names[0], sig)]


def _parse_timestamp(raw: str) -> int:
    """The header's digits are the signed bytes, so nothing else is allowed: no spaces, sign,
    fraction or leading zero (each would be another text for the same signature)."""
    if not _UNIX.fullmatch(raw):
        raise _Malformed(f"timestamp {raw[:40]!r} is not unix seconds (ASCII digits only)")
    return int(raw)


_SVIX_NAMES = {
    "svix": ("svix-id", "svix-timestamp", "svix-signature"),
    "standard-webhooks": ("webhook-id", "webhook-timestamp", "webhook-signature"),
}


def _parse_svix(headers: Headers, scheme: str) -> SignatureParts:
    index = index_headers(headers)
    id_name, ts_name, sig_name = _SVIX_NAMES[scheme]
    msg_id, ts_raw, sig_raw = index.get(id_name), index.get(ts_name), index.get(sig_name)
    if not msg_id or not ts_raw or not sig_raw:  # empty is missing, as the official libraries say
        found = ((id_name, msg_id), (ts_name, ts_raw), (sig_name, sig_raw))
        raise KeyError(", ".join(name + (" (empty)" if value == "" else "")
                                 for name, value in found if not value))
    if lone_surrogate(msg_id):
        raise _Malformed(f"{id_name} {msg_id[:40]!r} is not text (it holds a lone surrogate)")
    # the id is signed exactly as received (`msg_1\xa0` is not `msg_1`); tokens are separated
    # by single spaces, as the official libraries split them
    tokens = tuple([t[3:] for t in sig_raw.split(" ") if t[:3] == "v1," and len(t) > 3])
    if not tokens:
        raise _Malformed(f"{sig_name} has no `v1,<base64>` token")
    return SignatureParts(msg_id, _parse_timestamp(ts_raw), tokens)


def _parse_ofauth(value: str) -> SignatureParts:
    fields: dict[str, list[str]] = {}
    for part in value.split(","):
        key, sep, val = part.strip(_OWS).partition("=")
        if sep:
            fields.setdefault(key.strip(_OWS), []).append(val.strip(_OWS))
    if "t" not in fields or "v1" not in fields:
        raise _Malformed("OFAuth-Signature needs `t=<unix>,v1=<signature>`")
    return SignatureParts(None, _parse_timestamp(fields["t"][0]), tuple(fields["v1"]))


def _parse_hex(value: str, prefix: str | None) -> SignatureParts:
    value = value.strip(_OWS)
    if prefix and value[: len(prefix)].lower() == prefix:
        value = value[len(prefix) :]
    if not _HEX64.fullmatch(value):
        raise _Malformed("expected 64 hex digits (HMAC-SHA256)")
    return SignatureParts(None, None, (value.lower(),))


def parse_signature(scheme: str, headers: Headers) -> SignatureParts:
    """Read the scheme's headers; KeyError names missing ones, ValueError a malformed one."""
    if scheme in ("svix", "standard-webhooks"):
        return _parse_svix(headers, scheme)
    name = SCHEMES[scheme][1][0]
    value = header_value(headers, name)
    if value is None:
        raise KeyError(name)
    if scheme == "ofauth-signature":
        return _parse_ofauth(value)
    return _parse_hex(value, "sha256=" if scheme in _OFAPI else None)


def signature_matches(scheme: str, macs: Sequence[bytes], candidates: Sequence[str]) -> bool:
    """Whether any received signature equals any of `macs` in the scheme's encoding.

    Every comparison is constant-time and all are made, so timing does not tell which matched.
    """
    svix = scheme in ("svix", "standard-webhooks")
    encodings = [base64.b64encode(mac) if svix else mac.hex().encode() for mac in macs]
    alternates = []
    if scheme == "ofauth-signature":  # the docs do not say hex or base64: accept both
        alternates = [base64.b64encode(mac) for mac in macs]
    found = False
    for candidate in candidates:
        given = candidate.encode("utf-8", "surrogatepass")  # never matches, never raises
        hex_given = given.lower() if scheme == "ofauth-signature" else given
        for encoded in encodings:
            found |= hmac.compare_digest(encoded, hex_given)
        for encoded in alternates:
            found |= hmac.compare_digest(encoded, given)
    return found


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
    scheme = scheme or detect_scheme(headers, provider)
    if scheme in _OFAPI and "x-ofapi-signature" in headers:  # both forms verify; say which came
        scheme = _ofapi_form(headers["x-ofapi-signature"])
    if scheme is None or scheme not in SCHEMES:
        known = PROVIDER_SCHEMES.get(provider or "")
        names = ", ".join(dict.fromkeys(SCHEMES[s][1][-1] for s in (known or SCHEMES)))
        reason = Reason.MISSING_HEADER if known else Reason.UNSUPPORTED_SCHEME
        return Verdict(scheme, False, reason, f"no signature header found (expected {names})")
    try:
        parts = parse_signature(scheme, headers)
    except KeyError as exc:
        return Verdict(scheme, False, Reason.MISSING_HEADER, f"missing header {exc.args[0]}")
    except ValueError as exc:
        return Verdict(scheme, False, Reason.MALFORMED_HEADER, str(exc))
    content = signed_content(scheme, body, parts.msg_id, parts.timestamp)
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
        if signature_matches(scheme, (mac,), parts.signatures):
            matched = (index, mac)
            break
    if first is None:
        return Verdict(scheme, False, Reason.BAD_SECRET, problem, content, None,
                       parts.signatures, parts.timestamp, parts.msg_id)
    index, mac = matched or first
    expected = _encode(scheme, mac)
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
