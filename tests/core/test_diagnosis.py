"""--explain's diagnosis: each common mistake, when made, is the one found to match."""

from __future__ import annotations

import base64
import json

from ofevents_cli.core.diagnosis import diagnose
from ofevents_cli.core.signing import sign, verify

SECRET = "whsec_" + base64.b64encode(b"a-32-byte-signing-key-for-tests!").decode()
BODY = b'{"type": "connection.created", "data": {"id": "conn_1"}}'
TS = 1_800_000_000


def matched(body_sent: bytes, signed_body: bytes, scheme: str = "svix", secret: str = SECRET,
            sign_secret: str | None = None, now: int = TS) -> list[str]:
    """Sign `signed_body` but deliver `body_sent`, then return the causes that match."""
    if sign_secret is None:
        headers = sign(scheme, secret, signed_body, msg_id="msg_1", timestamp=TS)
    else:  # sign with a raw key the way a mistaken sender would
        import hashlib
        import hmac

        from ofevents_cli.core.signing import signed_content

        mac = hmac.new(sign_secret.encode(), signed_content(scheme, signed_body, "msg_1", TS),
                       hashlib.sha256).digest()
        value = base64.b64encode(mac).decode() if scheme == "svix" else mac.hex()
        headers = ([("svix-id", "msg_1"), ("svix-timestamp", str(TS)),
                    ("svix-signature", f"v1,{value}")] if scheme == "svix"
                   else [("X-OFAPI-Signature", f"sha256={value}")])
    verdict = verify(body_sent, headers, [secret], now=now)
    assert not verdict.valid
    return [c.tried for c in diagnose(verdict, body_sent, [secret], now, 300) if c.matched]


def test_pretty_reserialised_body_is_found() -> None:
    """A sender that signed pretty-printed JSON but sent compact bytes is diagnosed."""
    pretty = json.dumps(json.loads(BODY), indent=2).encode()
    assert matched(BODY, pretty) == ["body re-serialised as pretty JSON"]


def test_sorted_keys_and_compact_are_found() -> None:
    """Sorted-keys and compact re-serialisations are each recognised."""
    value = json.loads(BODY)
    sorted_body = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    assert "body re-serialised as sorted keys JSON" in matched(BODY, sorted_body)
    compact = json.dumps(value, separators=(",", ":")).encode()
    assert matched(BODY, compact) == ["body re-serialised as compact JSON"]


def test_trailing_newline_both_ways() -> None:
    """A newline added after signing, or signed but not sent, is named."""
    assert "trailing newline removed" in matched(BODY + b"\n", BODY)
    assert matched(BODY, BODY + b"\n") == ["trailing newline added"]


def test_svix_secret_not_base64_decoded() -> None:
    """A Svix sender that used the whsec_ string as text is diagnosed."""
    assert matched(BODY, BODY, sign_secret=SECRET) == ["whole `whsec_…` string as the key"]


def test_hex_scheme_secret_with_prefix() -> None:
    """For a hex scheme, a sender that dropped the whsec_ prefix is diagnosed."""
    bare = SECRET.removeprefix("whsec_")
    assert matched(BODY, BODY, scheme="ofapi", sign_secret=bare) == [
        "secret without its `whsec_` prefix"
    ]


def test_clock_skew_is_reported_with_its_size() -> None:
    """A correct signature outside the tolerance is explained as clock skew of N seconds."""
    headers = sign("svix", SECRET, BODY, msg_id="msg_1", timestamp=TS)
    verdict = verify(BODY, headers, [SECRET], now=TS + 900)
    [cause] = diagnose(verdict, BODY, [SECRET], TS + 900, 300)
    assert cause.name == "clock_skew" and cause.matched and "900 s" in cause.advice


def test_unknown_when_nothing_matches() -> None:
    """A plain wrong secret is not blamed on any common mistake."""
    other = "whsec_" + base64.b64encode(b"another key").decode()
    headers = sign("svix", other, BODY, msg_id="msg_1", timestamp=TS)
    verdict = verify(BODY, headers, [SECRET], now=TS)
    causes = diagnose(verdict, BODY, [SECRET], TS, 300)
    assert not any(c.matched for c in causes) and causes[-1].name == "unknown"
