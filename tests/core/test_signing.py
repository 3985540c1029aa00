"""Signing and verification: the published vectors, the official libraries both ways, properties."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onlyfans_sdk.webhooks import verify_webhook_payload
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from ofevents_cli.core.signing import Reason, detect_scheme, sign, verify

SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SVIX_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SVIX_TS = 1614265330
SVIX_BODY = b'{"test": 2432232314}'
SVIX_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
FANS_BODY = b'{"type":"connection.created"}'
FANS_SIG = "0dc208caf780bd849a5e7d72680d57f11ca0a1947d3211cba3799f1fc2963ff2"


def svix_headers(sig: str = SVIX_SIG, ts: int = SVIX_TS) -> list[tuple[str, str]]:
    return [("svix-id", SVIX_ID), ("svix-timestamp", str(ts)), ("svix-signature", sig)]


def test_svix_vector_signs() -> None:
    """The Svix vector in providers.md reproduces byte for byte."""
    headers = sign("svix", SVIX_SECRET, SVIX_BODY, msg_id=SVIX_ID, timestamp=SVIX_TS)
    assert headers == svix_headers()


def test_svix_vector_verifies() -> None:
    """The Svix vector verifies at its own timestamp."""
    verdict = verify(SVIX_BODY, svix_headers(), [SVIX_SECRET], now=SVIX_TS)
    assert verdict.valid and verdict.scheme == "svix" and verdict.reason is None


def test_onlyfansapi_vector() -> None:
    """The OnlyFansAPI.com vector reproduces and verifies."""
    assert sign("onlyfansapi", "test_secret", FANS_BODY, msg_id="x", timestamp=0) == [
        ("Signature", FANS_SIG)
    ]
    assert verify(FANS_BODY, [("Signature", FANS_SIG)], ["test_secret"], now=0).valid


def test_ofapi_prefixed_and_bare_hex_both_verify() -> None:
    """X-OFAPI-Signature is accepted as `sha256=<hex>` and as bare hex."""
    [(name, value)] = sign("ofapi", "s3cret", b"{}", msg_id="e", timestamp=0)
    assert name == "X-OFAPI-Signature" and value.startswith("sha256=")
    upper = value.upper().replace("SHA256=", "sha256=")
    for header in (value, value.removeprefix("sha256="), upper):
        assert verify(b"{}", [(name, header)], ["s3cret"], now=0).valid


def test_ofapi_hex_signs_the_bare_form_and_both_names_verify_both_forms() -> None:
    """ofapi-hex sends bare hex; either form verifies under either name, reported by its form."""
    [(name, bare)] = sign("ofapi-hex", "s3cret", b"{}", msg_id="e", timestamp=0)
    [(_, prefixed)] = sign("ofapi", "s3cret", b"{}", msg_id="e", timestamp=0)
    assert name == "X-OFAPI-Signature" and prefixed == f"sha256={bare}"
    for value, form in ((bare, "ofapi-hex"), (prefixed, "ofapi")):
        assert detect_scheme([(name, value)]) == form
        assert detect_scheme([(name, value)], provider="ofapi") == form
        for scheme in (None, "ofapi", "ofapi-hex"):
            verdict = verify(b"{}", [(name, value)], ["s3cret"], now=0, scheme=scheme)
            assert verdict.valid and verdict.scheme == form


@pytest.mark.parametrize(("present", "missing"), [
    ([("svix-id", SVIX_ID), ("svix-timestamp", str(SVIX_TS))], "svix-signature"),
    ([("webhook-id", SVIX_ID)], "webhook-signature"),
    ([("Webhook-Timestamp", str(SVIX_TS))], "webhook-signature"),
])
def test_signature_header_missing_beside_its_scheme_headers_is_missing_header(
    present: list[tuple[str, str]], missing: str
) -> None:
    """svix-id and svix-timestamp without svix-signature: missing_header naming it."""
    verdict = verify(SVIX_BODY, present, [SVIX_SECRET], now=SVIX_TS)
    assert verdict.reason is Reason.MISSING_HEADER and missing in verdict.detail
    assert verdict.scheme == ("svix" if missing.startswith("svix") else "standard-webhooks")


def test_ofauth_signature_accepts_hex_and_base64() -> None:
    """OFAuth-Signature signs hex and verifies hex or base64 v1 values."""
    [(name, value)] = sign("ofauth-signature", "sec", b"{}", msg_id="x", timestamp=1000)
    assert name == "OFAuth-Signature" and value.startswith("t=1000,v1=")
    digest = bytes.fromhex(value.split("v1=")[1])
    b64 = f"t=1000,v1={base64.b64encode(digest).decode()}"
    assert verify(b"{}", [(name, value)], ["sec"], now=1000).valid
    assert verify(b"{}", [(name, b64)], ["sec"], now=1000).valid


@pytest.mark.parametrize("offset", [-301, 301])
def test_tolerance_applies_past_and_future(offset: int) -> None:
    """A timestamp 301 s off either way fails with timestamp_outside_tolerance; 300 s passes."""
    assert verify(SVIX_BODY, svix_headers(), [SVIX_SECRET], now=SVIX_TS + offset).reason is (
        Reason.TIMESTAMP_OUTSIDE_TOLERANCE
    )
    assert verify(SVIX_BODY, svix_headers(), [SVIX_SECRET], now=SVIX_TS + offset // 301 * 300).valid


def test_any_of_several_v1_tokens_and_secrets_matches() -> None:
    """Key rotation: several v1 tokens in the header and several secrets, any pair may match."""
    other = "v1," + base64.b64encode(b"x" * 32).decode()
    headers = svix_headers(f"{other} {SVIX_SIG}")
    old = "whsec_" + base64.b64encode(b"old-key").decode()
    assert verify(SVIX_BODY, headers, [old, SVIX_SECRET], now=SVIX_TS).valid


@pytest.mark.parametrize(
    ("headers", "secrets", "reason"),
    [
        ([], [SVIX_SECRET], Reason.UNSUPPORTED_SCHEME),
        ([("svix-id", SVIX_ID), ("svix-signature", SVIX_SIG)], [SVIX_SECRET],
         Reason.MISSING_HEADER),
        (svix_headers(sig="v2,abc"), [SVIX_SECRET], Reason.MALFORMED_HEADER),
        ([("svix-id", SVIX_ID), ("svix-timestamp", "soon"), ("svix-signature", SVIX_SIG)],
         [SVIX_SECRET], Reason.MALFORMED_HEADER),
        (svix_headers(), ["whsec_!!not base64!!"], Reason.BAD_SECRET),
        (svix_headers(), [], Reason.BAD_SECRET),
        (svix_headers(), ["whsec_" + base64.b64encode(b"wrong").decode()], Reason.MISMATCH),
        ([("X-OFAPI-Signature", "sha256=zz")], ["s"], Reason.MALFORMED_HEADER),
        ([("OFAuth-Signature", "v1=abc")], ["s"], Reason.MALFORMED_HEADER),
    ],
)
def test_each_failure_has_its_reason(
    headers: list[tuple[str, str]], secrets: list[str], reason: Reason
) -> None:
    """Each way a delivery can fail yields its own machine-readable reason."""
    verdict = verify(SVIX_BODY, headers, secrets, now=SVIX_TS)
    assert not verdict.valid and verdict.reason is reason and verdict.detail


def test_provider_given_but_header_absent_is_missing_header() -> None:
    """With --provider ofapi and no X-OFAPI-Signature, the reason is missing_header."""
    verdict = verify(b"{}", [("Signature", FANS_SIG)], ["s"], now=0, provider="ofapi")
    assert verdict.reason is Reason.MISSING_HEADER and "X-OFAPI-Signature" in verdict.detail


def test_detection_follows_headers() -> None:
    """The scheme is detected from whichever signature header is present, any case."""
    assert detect_scheme([("SVIX-SIGNATURE", "v1,x")]) == "svix"
    assert detect_scheme([("Webhook-Signature", "v1,x")]) == "standard-webhooks"
    assert detect_scheme([("ofauth-signature", "t=1,v1=x")]) == "ofauth-signature"
    assert detect_scheme([("x-ofapi-signature", "sha256=x")]) == "ofapi"
    assert detect_scheme([("x-ofapi-signature", "x")]) == "ofapi-hex"
    assert detect_scheme([("signature", "x")]) == "onlyfansapi"
    assert detect_scheme([("content-type", "application/json")]) is None


# --- the official libraries, both directions -------------------------------------------------


def test_our_svix_signature_verifies_with_official_libraries() -> None:
    """A fresh ofevents Svix signature passes svix, standardwebhooks and onlyfans_sdk."""
    now = int(time.time())
    body = b'{"type":"connection.created","data":{"clientReferenceId":"u_1"}}'
    headers = dict(sign("svix", SVIX_SECRET, body, msg_id="msg_1", timestamp=now))
    SvixWebhook(SVIX_SECRET).verify(body, headers)
    assert verify_webhook_payload(body, headers, SVIX_SECRET)["type"] == "connection.created"
    std = dict(sign("standard-webhooks", SVIX_SECRET, body, msg_id="msg_1", timestamp=now))
    StandardWebhook(SVIX_SECRET).verify(body, std)


def test_official_library_signatures_verify_with_ofevents() -> None:
    """Signatures made by svix and standardwebhooks verify with ofevents."""
    moment = datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc)
    ts = int(moment.timestamp())
    body = '{"type":"rules.updated","data":{"revision":"r42"}}'
    for library in (SvixWebhook(SVIX_SECRET), StandardWebhook(SVIX_SECRET)):
        token = library.sign("msg_2", moment, body)
        for names in (("svix-id", "svix-timestamp", "svix-signature"),
                      ("webhook-id", "webhook-timestamp", "webhook-signature")):
            headers = list(zip(names, ("msg_2", str(ts), token), strict=True))
            assert verify(body.encode(), headers, [SVIX_SECRET], now=ts).valid


# --- properties ---------------------------------------------------------------------------------


def _flip(data: bytes, index: int, delta: int) -> bytes:
    i = index % len(data)
    return data[:i] + bytes([(data[i] + delta) % 256]) + data[i + 1:]


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(min_size=1, max_size=200),
    field=st.sampled_from(["body", "id", "timestamp", "signature"]),
    index=st.integers(min_value=0, max_value=10_000),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_single_byte_change_fails(body: bytes, field: str, index: int, delta: int) -> None:
    """Changing any one byte of body, id, timestamp or signature fails verification."""
    headers = dict(sign("svix", SVIX_SECRET, body, msg_id=SVIX_ID, timestamp=SVIX_TS))
    if field == "body":
        body = _flip(body, index, delta)
    else:
        name = {"id": "svix-id", "timestamp": "svix-timestamp"}.get(field, "svix-signature")
        raw = headers[name].encode()
        headers[name] = _flip(raw, index, delta).decode("latin-1")
    assert not verify(body, list(headers.items()), [SVIX_SECRET], now=SVIX_TS).valid


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=64), index=st.integers(min_value=0), delta=st.integers(1, 255),
       scheme=st.sampled_from(["ofapi", "onlyfansapi", "ofauth-signature"]))
def test_hex_schemes_detect_any_byte_change(body: bytes, index: int, delta: int, scheme: str
                                            ) -> None:
    """For the hex schemes too, one changed body byte fails and the original passes."""
    headers = sign(scheme, "secret", body, msg_id="m", timestamp=1000)
    assert verify(body, headers, ["secret"], now=1000).valid
    if body:
        assert not verify(_flip(body, index, delta), headers, ["secret"], now=1000).valid


@settings(max_examples=300, deadline=None)
@given(headers=st.lists(st.tuples(
    st.sampled_from(["svix-id", "svix-timestamp", "svix-signature", "webhook-signature",
                     "webhook-id", "webhook-timestamp", "OFAuth-Signature", "X-OFAPI-Signature",
                     "Signature", "x-other"]),
    st.text(max_size=80)), max_size=6),
    secrets=st.lists(st.text(max_size=40), max_size=3))
def test_arbitrary_headers_never_raise(headers: list[tuple[str, str]], secrets: list[str]) -> None:
    """Any header strings and secrets yield a verdict with a reason, never an exception."""
    verdict = verify(b"{}", headers, secrets, now=SVIX_TS)
    assert verdict.valid or verdict.reason is not None


def test_an_unusable_secret_does_not_spoil_rotation() -> None:
    """A secret that cannot key Svix (a hex provider's) is skipped; the good one still matches."""
    verdict = verify(SVIX_BODY, svix_headers(), ["k", SVIX_SECRET], now=SVIX_TS)
    assert verdict.valid and verdict.secret == 1


def test_spacing_between_signature_tokens_and_hex_case_are_tolerated() -> None:
    """Extra spaces between `v1,` tokens, and upper-case hex in OFAuth-Signature, still verify."""
    headers = [("svix-id", SVIX_ID), ("svix-timestamp", str(SVIX_TS)),
               ("svix-signature", f"  v1,bm90IHRoaXMgb25l  {SVIX_SIG}  ")]
    assert verify(SVIX_BODY, headers, [SVIX_SECRET], now=SVIX_TS).valid
    [(name, value)] = sign("ofauth-signature", "sec", b"{}", msg_id="x", timestamp=1000)
    assert verify(b"{}", [(name, value.upper().replace("T=", "t=").replace("V1=", "v1="))],
                  ["sec"], now=1000).valid


# --- the message id, timestamp and signature header exactly as received (issue 7, item 6) ----


def _both_official(headers: dict[str, str]) -> list[bool]:
    """Whether svix and standardwebhooks accept a Svix delivery of SVIX_BODY (webhook-* names
    for the second)."""
    std = {k.replace("svix-", "webhook-"): v for k, v in headers.items()}
    verdicts = []
    for library, names in ((SvixWebhook(SVIX_SECRET), headers),
                           (StandardWebhook(SVIX_SECRET), std)):
        try:
            library.verify(SVIX_BODY, names)
        except Exception:  # the libraries raise ValueError too, not only their own error
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


@pytest.mark.parametrize("msg_id", [f"{SVIX_ID}\xa0", f" {SVIX_ID}", f"{SVIX_ID} ",
                                    f"{SVIX_ID}\t", f"\u2003{SVIX_ID}", f"{SVIX_ID}\x1c",
                                    f"{SVIX_ID}\u200b", f"{SVIX_ID}\n"])
def test_message_id_is_signed_exactly_as_received(msg_id: str) -> None:
    """`msg_1\xa0` fails against `msg_1`'s signature, as svix and standardwebhooks say, and
    verifies (with that exact id) when that exact id was signed."""
    now = int(time.time())
    signed = dict(sign("svix", SVIX_SECRET, SVIX_BODY, msg_id=SVIX_ID, timestamp=now))
    tampered = {**signed, "svix-id": msg_id}
    assert _both_official(tampered) == [False, False]
    verdict = verify(SVIX_BODY, list(tampered.items()), [SVIX_SECRET], now=now)
    assert not verdict.valid and verdict.reason is Reason.MISMATCH
    exact = dict(sign("svix", SVIX_SECRET, SVIX_BODY, msg_id=msg_id, timestamp=now))
    assert _both_official(exact) == [True, True]
    verdict = verify(SVIX_BODY, list(exact.items()), [SVIX_SECRET], now=now)
    assert verdict.valid and verdict.msg_id == msg_id


def test_an_empty_header_is_missing_as_in_the_official_libraries() -> None:
    """An empty svix-id (or timestamp, or signature) is missing_header; the libraries agree."""
    now = int(time.time())
    signed = dict(sign("svix", SVIX_SECRET, SVIX_BODY, msg_id="", timestamp=now))
    assert _both_official(signed) == [False, False]
    verdict = verify(SVIX_BODY, list(signed.items()), [SVIX_SECRET], now=now)
    assert verdict.reason is Reason.MISSING_HEADER and "svix-id (empty)" in verdict.detail


@pytest.mark.parametrize("stamp", ["{ts} ", " {ts}", "{ts}\xa0", "+{ts}", "{ts}.0", "0{ts}",
                                   "{ts}\n", "\u0661{ts}"])
def test_a_timestamp_is_its_signed_digits_and_nothing_else(stamp: str) -> None:
    """A timestamp with spacing, a sign, a fraction or a leading zero is malformed_header: the
    HMAC covers the digits, so other text for them is refused (stricter than the libraries'
    float(), never more lenient)."""
    now = int(time.time())
    signed = dict(sign("svix", SVIX_SECRET, SVIX_BODY, msg_id=SVIX_ID, timestamp=now))
    headers = {**signed, "svix-timestamp": stamp.format(ts=now)}
    verdict = verify(SVIX_BODY, list(headers.items()), [SVIX_SECRET], now=now)
    assert not verdict.valid and verdict.reason is Reason.MALFORMED_HEADER


def test_signature_tokens_are_split_on_spaces_as_the_libraries_do() -> None:
    """Key rotation (`v1,a v1,b`) verifies in all three; tokens joined by a non-breaking space
    or a tab are one token, so the signature inside does not match, in all three."""
    now = int(time.time())
    signed = dict(sign("svix", SVIX_SECRET, SVIX_BODY, msg_id=SVIX_ID, timestamp=now))
    other = "v1," + base64.b64encode(b"x" * 32).decode()
    for joined, valid in ((f"{other} {signed['svix-signature']}", True),
                          (f"{other}\xa0{signed['svix-signature']}", False),
                          (f"{other}\t{signed['svix-signature']}", False)):
        headers = {**signed, "svix-signature": joined}
        assert _both_official(headers) == [valid, valid]
        assert verify(SVIX_BODY, list(headers.items()), [SVIX_SECRET], now=now).valid is valid
