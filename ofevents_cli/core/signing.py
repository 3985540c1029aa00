"""Webhook signing and verification for every provider's scheme, over raw bytes.

Pure: the clock (`now`) and the secrets are passed in, so a capture can be verified offline
against the moment it was received. Every failure carries a machine-readable reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from ofevents_cli.core.headers import Headers, header_value

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

# scheme -> (provider, header names it signs with, in order)
SCHEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ofapi": ("ofapi", ("X-OFAPI-Signature",)),
    "onlyfansapi": ("onlyfansapi", ("Signature",)),
    "svix": ("ofauth", ("svix-id", "svix-timestamp", "svix-signature")),
    "standard-webhooks": ("ofauth", ("webhook-id", "webhook-timestamp", "webhook-signature")),
    "ofauth-signature": ("ofauth", ("OFAuth-Signature",)),
}

# provider -> the schemes it may use, the default (signing) one first
PROVIDER_SCHEMES: dict[str, tuple[str, ...]] = {
    "ofapi": ("ofapi",),
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


class Reason(str, Enum):
    """Why a delivery did not verify (the names are part of the JSON contract)."""

    MISSING_HEADER = "missing_header"
    MALFORMED_HEADER = "malformed_header"
    MISMATCH = "mismatch"
    TIMESTAMP_OUTSIDE_TOLERANCE = "timestamp_outside_tolerance"
    BAD_SECRET = "bad_secret"
    UNSUPPORTED_SCHEME = "unsupported_scheme"


@dataclass(frozen=True)
class SignatureParts:
    """What a signature header carries: message id and timestamp (if the scheme has them)."""

    msg_id: str | None
    timestamp: int | None
    signatures: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one delivery; `signed` and `expected` feed `--explain`."""

    scheme: str | None
    valid: bool
    reason: Reason | None = None
    detail: str = ""
    signed: bytes | None = None
    expected: str | None = None
    received: tuple[str, ...] = field(default_factory=tuple)
    timestamp: int | None = None
    msg_id: str | None = None


class _Malformed(ValueError):
    pass


def detect_scheme(headers: Headers, provider: str | None = None) -> str | None:
    """The scheme whose signature header is present, restricted to `provider` when given."""
    allowed = PROVIDER_SCHEMES.get(provider, ()) if provider else None
    for name, scheme in _DETECT:
        if (allowed is None or scheme in allowed) and header_value(headers, name) is not None:
            return scheme
    return None


def scheme_key(scheme: str, secret: str) -> bytes:
    """The HMAC key a secret stands for: base64 after `whsec_` for Svix, else its UTF-8 bytes."""
    if scheme in ("svix", "standard-webhooks"):
        encoded = secret.removeprefix("whsec_")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a Svix secret is `whsec_` followed by base64") from exc
    return secret.encode("utf-8")


def signed_content(scheme: str, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
    """The exact bytes the scheme's HMAC covers."""
    if scheme in ("svix", "standard-webhooks"):
        return f"{msg_id}.{timestamp}.".encode() + body
    if scheme == "ofauth-signature":
        return f"{timestamp}.".encode() + body
    return body


def digest(key: bytes, content: bytes) -> bytes:
    """HMAC-SHA256 of `content`."""
    return hmac.new(key, content, hashlib.sha256).digest()


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
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 12:
        raise _Malformed(f"timestamp {raw[:40]!r} is not unix seconds")
    return int(raw)


def _parse_svix(headers: Headers, scheme: str) -> SignatureParts:
    id_name, ts_name, sig_name = (n.lower() for n in SCHEMES[scheme][1])
    msg_id, ts_raw, sig_raw = (header_value(headers, n) for n in (id_name, ts_name, sig_name))
    found = ((id_name, msg_id), (ts_name, ts_raw), (sig_name, sig_raw))
    missing = [name for name, value in found if value is None]
    if missing:
        raise KeyError(", ".join(missing))
    assert msg_id is not None and ts_raw is not None and sig_raw is not None
    tokens = tuple(t[3:] for t in sig_raw.split() if t.startswith("v1,") and len(t) > 3)
    if not tokens:
        raise _Malformed(f"{sig_name} has no `v1,<base64>` token")
    return SignatureParts(msg_id, _parse_timestamp(ts_raw), tokens)


def _parse_ofauth(value: str) -> SignatureParts:
    fields: dict[str, list[str]] = {}
    for part in value.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields.setdefault(key.strip(), []).append(val.strip())
    if "t" not in fields or "v1" not in fields:
        raise _Malformed("OFAuth-Signature needs `t=<unix>,v1=<signature>`")
    return SignatureParts(None, _parse_timestamp(fields["t"][0]), tuple(fields["v1"]))


def _parse_hex(value: str, prefix: str | None) -> SignatureParts:
    value = value.strip()
    if prefix and value.lower().startswith(prefix):
        value = value[len(prefix) :]
    if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
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
    return _parse_hex(value, "sha256=" if scheme == "ofapi" else None)


def signature_matches(scheme: str, mac: bytes, candidates: Sequence[str]) -> bool:
    """Whether any received signature equals `mac` in the scheme's encoding (constant time)."""
    encodings = [_encode(scheme, mac)]
    if scheme == "ofauth-signature":  # the docs do not say hex or base64: accept both
        encodings.append(base64.b64encode(mac).decode("ascii"))
    found = False
    for candidate in candidates:
        for encoded in encodings:
            found |= hmac.compare_digest(encoded.encode(), candidate.encode())
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
    scheme = scheme or detect_scheme(headers, provider)
    if scheme is None or scheme not in SCHEMES:
        known = PROVIDER_SCHEMES.get(provider or "")
        names = ", ".join(SCHEMES[s][1][-1] for s in (known or SCHEMES))
        reason = Reason.MISSING_HEADER if known else Reason.UNSUPPORTED_SCHEME
        return Verdict(scheme, False, reason, f"no signature header found (expected {names})")
    try:
        parts = parse_signature(scheme, headers)
    except KeyError as exc:
        return Verdict(scheme, False, Reason.MISSING_HEADER, f"missing header {exc.args[0]}")
    except ValueError as exc:
        return Verdict(scheme, False, Reason.MALFORMED_HEADER, str(exc))
    content = signed_content(scheme, body, parts.msg_id, parts.timestamp)
    base = Verdict(scheme, False, signed=content, received=parts.signatures,
                   timestamp=parts.timestamp, msg_id=parts.msg_id)
    if not secrets:
        return _replace(base, Reason.BAD_SECRET, "no secret to verify with")
    keys: list[bytes] = []
    for secret in secrets:
        try:
            keys.append(scheme_key(scheme, secret))
        except ValueError as exc:
            return _replace(base, Reason.BAD_SECRET, str(exc))
    macs = [digest(key, content) for key in keys]
    expected = _encode(scheme, macs[0])
    if not any(signature_matches(scheme, mac, parts.signatures) for mac in macs):
        return _replace(base, Reason.MISMATCH, "signature does not match", expected)
    if parts.timestamp is not None and abs(now - parts.timestamp) > tolerance:
        skew = now - parts.timestamp
        detail = f"timestamp is {abs(skew):.0f} s {'old' if skew > 0 else 'in the future'}"
        detail += f" (tolerance {tolerance} s)"
        return _replace(base, Reason.TIMESTAMP_OUTSIDE_TOLERANCE, detail, expected)
    return replace(base, valid=True, expected=expected)


def _replace(base: Verdict, reason: Reason, detail: str, expected: str | None = None) -> Verdict:
    return replace(base, reason=reason, detail=detail, expected=expected)
