"""Signature schemes: each one owns its headers, key decoding, signed content, header format
and parsing, timestamp rule and the secret mistakes `verify --explain` tries.

Three families cover every provider: Standard Webhooks (Svix's `svix-*` and the standard's
`webhook-*` headers), a hex HMAC of the raw body in one header (optionally `prefix=`), and
`t=<unix>,v1=<sig>` over `{t}.{body}`. A provider that signs another way adds an instance of
one of them (or a subclass) to the registry in core/providers.py. Pure: no I/O, no clock.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, NamedTuple

from ofevents_cli.core.strictjson import lone_surrogate

__all__ = [
    "HexScheme",
    "KeyVariant",
    "Scheme",
    "SignatureParts",
    "StandardWebhooksScheme",
    "TimestampedScheme",
]

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_UNIX = re.compile(r"0|[1-9][0-9]{0,11}")  # unix seconds exactly as signed: ASCII digits
_OWS = " \t"  # the only spacing HTTP allows around a value (and around its list items)


class SignatureParts(NamedTuple):
    """What a signature header carries: message id and timestamp (if the scheme has them)."""

    msg_id: str | None
    timestamp: int | None
    signatures: tuple[str, ...]


class KeyVariant(NamedTuple):
    """A way a secret is commonly mis-decoded: what was tried, the key it gives, the advice."""

    tried: str
    key: bytes
    advice: str


class Malformed(ValueError):
    """A signature header that is present but cannot be read."""


def parse_unix(raw: str) -> int:
    """The header's digits are the signed bytes, so nothing else is allowed: no spaces, sign,
    fraction or leading zero (each would be another text for the same signature)."""
    if not _UNIX.fullmatch(raw):
        raise Malformed(f"timestamp {raw[:40]!r} is not unix seconds (ASCII digits only)")
    return int(raw)


def _b64decode(text: str) -> bytes:
    """Strict base64 (`validate=True`); base64 is imported here, not by every `--help`."""
    import base64

    return base64.b64decode(text, validate=True)


def _text_key(secret: str) -> bytes:
    try:
        return secret.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the secret is not text (it holds a lone surrogate)") from None


class Scheme:
    """One way of signing a webhook. Subclasses fill in the four steps; the rest is shared.

    `headers` are the names it sends, in order, the signature header last; `timestamped`
    schemes have a replay window; `id_prefix` is the kind of id a delivery carries. A plain
    class, not a dataclass: the code a dataclass generates is exec'd at import, and every
    `--help` that names a provider imports the schemes."""

    def __init__(self, name: str, headers: tuple[str, ...], *, encoding: str = "hex",
                 timestamped: bool = False, id_prefix: str = "evt",
                 secret_form: str = "the signing secret as text", title: str = "") -> None:
        """`encoding`: how the MAC is written, "hex" or "base64"."""
        self.name = name
        self.headers = headers
        self.encoding = encoding
        self.timestamped = timestamped
        self.id_prefix = id_prefix
        self.secret_form = secret_form
        self.title = title

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.headers!r})"

    @property
    def signed(self) -> str:
        """What the HMAC covers, for docs and `--explain`."""
        return "the raw body"

    @property
    def signature_header(self) -> str:
        """The header that carries the signature (the one detection looks for first)."""
        return self.headers[-1]

    @property
    def companions(self) -> tuple[str, ...]:
        """The scheme's other headers (lower-case): present without the signature header, the
        delivery is this scheme with its signature missing."""
        return self.lower_headers[:-1]

    @cached_property
    def lower_headers(self) -> tuple[str, ...]:
        """`headers` lower-cased, as an index from `index_headers` holds them (once, not per
        delivery)."""
        return tuple(h.lower() for h in self.headers)

    @cached_property
    def signature_key(self) -> str:
        """The signature header lower-cased: its key in an index from `index_headers`."""
        return self.headers[-1].lower()

    def key(self, secret: str) -> bytes:
        """The HMAC key `secret` stands for; ValueError when it cannot be one."""
        return _text_key(secret)

    def content(self, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
        """The exact bytes the HMAC covers."""
        return body

    def encode(self, mac: bytes) -> str:
        """The MAC as the header writes it (without decoration)."""
        if self.encoding == "base64":
            return binascii.b2a_base64(mac, newline=False).decode("ascii")
        return mac.hex()

    def render(self, signature: str, msg_id: str, timestamp: int) -> list[tuple[str, str]]:
        """The headers that carry `signature`."""
        return [(self.signature_header, signature)]

    def parse(self, index: Mapping[str, str]) -> SignatureParts:
        """Read the scheme's headers from a lower-case index; KeyError names a missing one,
        ValueError says what is malformed."""
        raise NotImplementedError

    def in_form(self, value: str) -> bool:
        """Whether a signature header value is written the way this scheme writes it (for
        schemes that share a header: `sha256=<hex>` vs bare hex)."""
        return True

    def form_rank(self) -> int:
        """Among schemes sharing a signature header, higher ranks are tried first."""
        return 0

    def matches(self, macs: Sequence[bytes], candidates: Sequence[str]) -> bool:
        """Whether any received signature equals any of `macs`; constant-time, and every
        comparison is made, so timing does not tell which matched."""
        import hmac  # here, not at the top: `--help` imports this module but not OpenSSL (a
        # plain import: `from hmac import …` in a function costs 1.5 us a call, this 0.2)

        encodings = [self.encode(mac) for mac in macs]
        found = False
        for candidate in candidates:
            if not candidate.isascii():  # never equal to an encoding (compare_digest takes
                continue  # ASCII text only): what it tells is the sender's, not the key's
            for encoded in encodings:
                found |= hmac.compare_digest(encoded, candidate)
        return found

    def key_variants(self, secret: str) -> Iterator[KeyVariant]:
        """Keys a signer may have derived from `secret` by mistake (for `--explain`)."""
        if lone_surrogate(secret):  # not text: no encoding of it to try
            return
        bare = secret.removeprefix("whsec_")
        if bare != secret:
            yield KeyVariant("secret without its `whsec_` prefix", bare.encode(),
                             "one side strips the `whsec_` prefix and the other does not: use "
                             "the same secret text")
        try:
            decoded = _b64decode(bare)
        except (binascii.Error, ValueError):
            return
        yield KeyVariant("secret base64-decoded", decoded,
                         "one side base64-decodes the secret and the other uses it as text")


# the family defaults of the schemes that add no field of their own
_STANDARD_WEBHOOKS: dict[str, Any] = {"encoding": "base64", "timestamped": True,
                                      "id_prefix": "msg",
                                      "secret_form": "`whsec_` followed by base64"}


class StandardWebhooksScheme(Scheme):
    """Standard Webhooks / Svix: `{id}.{timestamp}.{body}`, a `whsec_<base64>` secret, and
    space-separated `v1,<base64>` tokens (several during key rotation)."""

    def __init__(self, name: str, headers: tuple[str, ...], **fields: Any) -> None:
        """The family's defaults (base64, timestamped, `msg_` ids), any of them overridden."""
        super().__init__(name, headers, **{**_STANDARD_WEBHOOKS, **fields})

    @property
    def signed(self) -> str:
        """What the HMAC covers."""
        return "`{id}.{timestamp}.{body}`"

    def key(self, secret: str) -> bytes:
        """The base64-decoded part after `whsec_`."""
        try:
            return _b64decode(secret.removeprefix("whsec_"))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a Svix secret is `whsec_` followed by base64") from exc

    def content(self, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
        """`{id}.{timestamp}.` then the raw body."""
        return f"{msg_id}.{timestamp}.".encode() + body

    def render(self, signature: str, msg_id: str, timestamp: int) -> list[tuple[str, str]]:
        """The id, timestamp and `v1,<signature>` headers."""
        id_name, ts_name, sig_name = self.headers
        return [(id_name, msg_id), (ts_name, str(timestamp)), (sig_name, f"v1,{signature}")]

    def parse(self, index: Mapping[str, str]) -> SignatureParts:
        """Id, timestamp and every `v1,` token; an empty header counts as missing, as the
        official libraries say."""
        id_name, ts_name, sig_name = self.lower_headers
        msg_id, ts_raw, sig_raw = index.get(id_name), index.get(ts_name), index.get(sig_name)
        if not msg_id or not ts_raw or not sig_raw:
            found = ((id_name, msg_id), (ts_name, ts_raw), (sig_name, sig_raw))
            raise KeyError(", ".join(name + (" (empty)" if value == "" else "")
                                     for name, value in found if not value))
        if lone_surrogate(msg_id):
            raise Malformed(f"{id_name} {msg_id[:40]!r} is not text (it holds a lone surrogate)")
        # the id is signed exactly as received (`msg_1\xa0` is not `msg_1`); tokens are
        # separated by single spaces, as the official libraries split them
        tokens = tuple([t[3:] for t in sig_raw.split(" ") if t[:3] == "v1," and len(t) > 3])
        if not tokens:
            raise Malformed(f"{sig_name} has no `v1,<base64>` token")
        return SignatureParts(msg_id, parse_unix(ts_raw), tokens)

    def key_variants(self, secret: str) -> Iterator[KeyVariant]:
        """The whole `whsec_…` string, or the part after it, used as text."""
        if lone_surrogate(secret):
            return
        bare = secret.removeprefix("whsec_")
        whole = "whole `whsec_…` string" if bare != secret else "secret as text, not base64"
        yield KeyVariant(f"{whole} as the key", secret.encode(),
                         "the signer used the secret as text: strip `whsec_` and base64-decode "
                         "the rest")
        if bare != secret:
            yield KeyVariant("secret after `whsec_` as text", bare.encode(),
                             "the signer did not base64-decode the part after `whsec_`")


class HexScheme(Scheme):
    """A hex HMAC-SHA256 of the raw body in one header, written `<prefix><hex>`; any of
    `accepts` (prefixes) is read too when verifying, since one provider writes it two ways."""

    def __init__(self, name: str, headers: tuple[str, ...], *, prefix: str = "",
                 accepts: tuple[str, ...] = (), **fields: Any) -> None:
        """The prefix it writes, the others it reads, and Scheme's fields."""
        super().__init__(name, headers, **fields)
        self.prefix = prefix
        self.accepts = accepts

    def render(self, signature: str, msg_id: str, timestamp: int) -> list[tuple[str, str]]:
        """`<prefix><hex>`."""
        return [(self.signature_header, f"{self.prefix}{signature}")]

    def parse(self, index: Mapping[str, str]) -> SignatureParts:
        """64 hex digits, after an accepted prefix if there is one."""
        value = index.get(self.signature_key)
        if value is None:
            raise KeyError(self.signature_header)
        value = value.strip(_OWS)
        for prefix in (self.prefix, *self.accepts):
            if prefix and value[: len(prefix)].lower() == prefix.lower():
                value = value[len(prefix):]
                break
        if not _HEX64.fullmatch(value):
            raise Malformed("expected 64 hex digits (HMAC-SHA256)")
        return SignatureParts(None, None, (value.lower(),))

    def in_form(self, value: str) -> bool:
        """The value starts with this scheme's prefix (always, without one)."""
        return value.strip(_OWS)[: len(self.prefix)].lower() == self.prefix.lower()

    def form_rank(self) -> int:
        """A longer prefix is the more specific form."""
        return len(self.prefix)


class TimestampedScheme(Scheme):
    """`t=<unix>,v1=<sig>` over `{t}.{body}`; `v1` is read as hex (any case) or base64,
    since the documents do not say which."""

    def __init__(self, name: str, headers: tuple[str, ...], **fields: Any) -> None:
        """Timestamped, unless `fields` says otherwise."""
        super().__init__(name, headers, **{"timestamped": True, **fields})

    @property
    def signed(self) -> str:
        """What the HMAC covers."""
        return "`{t}.{body}`"

    def content(self, body: bytes, msg_id: str | None, timestamp: int | None) -> bytes:
        """`{t}.` then the raw body."""
        return f"{timestamp}.".encode() + body

    def render(self, signature: str, msg_id: str, timestamp: int) -> list[tuple[str, str]]:
        """`t=<unix>,v1=<signature>`."""
        return [(self.signature_header, f"t={timestamp},v1={signature}")]

    def parse(self, index: Mapping[str, str]) -> SignatureParts:
        """The first `t` and every `v1`."""
        value = index.get(self.signature_key)
        if value is None:
            raise KeyError(self.signature_header)
        fields: dict[str, list[str]] = {}
        for part in value.split(","):
            key, sep, val = part.strip(_OWS).partition("=")
            if sep:
                fields.setdefault(key.strip(_OWS), []).append(val.strip(_OWS))
        if "t" not in fields or "v1" not in fields:
            raise Malformed(f"{self.signature_header} needs `t=<unix>,v1=<signature>`")
        return SignatureParts(None, parse_unix(fields["t"][0]), tuple(fields["v1"]))

    def matches(self, macs: Sequence[bytes], candidates: Sequence[str]) -> bool:
        """Hex in any case, or base64."""
        import hmac

        hexes = [mac.hex() for mac in macs]
        b64s = [binascii.b2a_base64(mac, newline=False).decode("ascii") for mac in macs]
        found = False
        for candidate in candidates:
            if not candidate.isascii():  # as in Scheme.matches
                continue
            lower = candidate.lower()
            for encoded in hexes:
                found |= hmac.compare_digest(encoded, lower)
            for encoded in b64s:
                found |= hmac.compare_digest(encoded, candidate)
        return found
