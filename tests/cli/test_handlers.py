"""`trigger` against the handlers the providers publish: each receives real HTTP on 127.0.0.1.

- OFAuth's own SDK (`onlyfans_sdk.webhooks.WebhookRouter`): its real Svix verification, its
  routing by `eventType` (the `sdk` envelope), and its typed models for the data.
- The verification code of each seed document that has some, ported to Python line by line
  (seed 001's four steps, seed 003's Express handler, seed 004's Flask handler). Seed 000 (the
  EventBus client) and seed 002 (Realtime events, "verify the webhook signature") carry none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from onlyfans_sdk import models as sdk_models
from onlyfans_sdk import webhooks as sdk
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.catalogue import all_events
from tests.receiver import Receiver, receiver

SVIX_SECRET = "whsec_" + base64.b64encode(b"handler-tests-signing-key-32byte").decode()
OFAPI_SECRET = "ofapi-handler-secret"
OFAUTH_SECRET = "ofauth-signing-secret"
runner = CliRunner()


def names(provider: str) -> list[str]:
    """The catalogue's events of one provider."""
    return [e.name for e in all_events() if e.provider == provider]


def trigger_each(url: str, got: Receiver, events: list[str], *args: str) -> None:
    """Trigger every event at `url`; each must be answered 2xx by the test's handler."""
    for name in events:
        result = runner.invoke(app, ["trigger", name, "--to", url, *args])
        assert result.exit_code == 0, (name, result.stderr, got.errors)
    assert got.errors == [] and len(got.requests) == len(events)


# --- OFAuth: the official SDK ------------------------------------------------------------------

def misfits(value: Any, hint: Any, path: str = "") -> list[str]:
    """Where `value` breaks the SDK's typing annotation `hint`, strictly (no coercion: an int is
    not a str). The SDK's models are TypedDicts, which nothing checks at runtime."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return []
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{path or '.'}: not an object"]
        found = [f"{path}.{key}: missing" for key in hint.__required_keys__ if key not in value]
        for key, sub in get_type_hints(hint).items():
            if key in value:
                found += misfits(value[key], sub, f"{path}.{key}")
        return found
    if origin is Union:
        return [] if any(not misfits(value, arm, path) for arm in args) else [f"{path}: {hint}"]
    if origin in (list, dict):
        if not isinstance(value, origin):
            return [f"{path}: not a {origin.__name__}"]
        items = value if origin is list else list(value.values())
        return [p for i, item in enumerate(items) for p in misfits(item, args[-1], f"{path}[{i}]")]
    if hint is type(None):
        return [] if value is None else [f"{path}: not null"]
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    return [] if ok else [f"{path}: {type(value).__name__} is not {hint.__name__}"]


# event type -> the SDK's model of its data. connection.disconnected has none in the SDK (its
# WebhookEventType predates it); OFAuth documents it with the shape all connection events share,
# which the SDK types as ExpiredConnectionEventData (clientReferenceId required).
SDK_DATA: dict[str, Any] = {
    "connection.created": sdk.ConnectionEventData,
    "connection.updated": sdk.ConnectionEventData,
    "connection.expired": sdk.ExpiredConnectionEventData,
    "connection.disconnected": sdk.ExpiredConnectionEventData,
    "rules.updated": sdk.RulesEventData,
}


def test_ofauth_events_route_through_the_sdk_router_and_fit_its_models() -> None:
    """Every ofauth event, sent in the SDK envelope, verifies, routes and validates strictly."""
    events = names("ofauth")
    routed: list[dict[str, Any]] = []
    router = sdk.WebhookRouter(secret=SVIX_SECRET)
    for name in events:
        router.on(name, routed.append)

    def answer(headers: dict[str, str], body: bytes) -> int:
        router.handle_payload(body, headers)  # raises WebhookVerificationError when invalid
        return 200

    with receiver(answer=answer) as (url, got):
        trigger_each(url, got, events, "-s", SVIX_SECRET, "--envelope", "sdk")
    assert [event["eventType"] for event in routed] == events
    for event in routed:
        assert misfits(event, sdk.WebhookEvent) == [], event["eventType"]
        model = SDK_DATA.get(event["eventType"])
        assert model is None or misfits(event["data"], model) == [], event["eventType"]
    connections = [e["data"]["connection"] for e in routed if "userData" in
                   e["data"].get("connection", {})]
    assert connections  # the SDK's API model of userData types its id as a string
    for connection in connections:
        sdk_models.UserData.model_validate(connection["userData"], strict=True)
    [rules] = [e["data"]["rules"] for e in routed if e["eventType"] == "rules.updated"]
    sdk_models.Rules.model_validate(rules, strict=True)


def test_sdk_router_rejects_a_delivery_signed_with_another_secret() -> None:
    """The router's own verification runs: a wrong secret is a 401-style failure, not routed."""
    router = sdk.WebhookRouter(secret=SVIX_SECRET)
    routed: list[dict[str, Any]] = []
    router.on("connection.created", routed.append)
    other = "whsec_" + base64.b64encode(b"some-other-key").decode()

    def answer(headers: dict[str, str], body: bytes) -> int:
        try:
            router.handle_payload(body, headers)
        except sdk.WebhookVerificationError:
            return 401
        return 200

    with receiver(answer=answer) as (url, got):
        result = runner.invoke(app, ["trigger", "connection.created", "--to", url, "-s", other,
                                     "--envelope", "sdk"])
    assert result.exit_code == 1 and routed == [] and len(got.requests) == 1


# --- seed 001: OFAuth-Signature, the four documented steps -------------------------------------

def seed001_verify(raw_body: bytes, header: str | None, secret: str, now: float) -> bool:
    """seeds/001_57354d06ee1d73e1.txt § Signature Verification ("Verify requests by: 1. … 4.").
    The page leaves the encoding of v1 and of the secret unsaid: hex and UTF-8 here."""
    if header is None:
        return False
    # 1. Extracting the timestamp (t) and signature (v1)
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, signature = fields.get("t"), fields.get("v1")
    if timestamp is None or signature is None or not timestamp.isdigit():
        return False
    # 2. Rejecting requests older than 5 minutes
    if now - int(timestamp) > 5 * 60:
        return False
    # 3. Computing an HMAC-SHA256 of {timestamp}.{raw_body} using your signing secret
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body,
                        hashlib.sha256).hexdigest()
    # 4. Comparing the expected signature with a constant-time comparison
    return hmac.compare_digest(expected, signature)


def test_seed_001_verifier_accepts_every_ofauth_event_signed_ofauth_signature() -> None:
    """Seed 001's checklist (verify, then route by `type`) accepts each ofauth event."""
    events = names("ofauth")
    routed: list[str] = []

    def answer(headers: dict[str, str], body: bytes) -> int:
        # Implementation Checklist: 1. parse the body 2. verify first 3. route by type
        if not seed001_verify(body, headers.get("ofauth-signature"), OFAUTH_SECRET, time.time()):
            return 401
        routed.append(json.loads(body)["type"])
        return 200

    with receiver(answer=answer) as (url, got):
        trigger_each(url, got, events, "-s", OFAUTH_SECRET, "--scheme", "ofauth-signature")
    assert routed == events


# --- seed 003: OFAPI integration guide, the Express handler ------------------------------------

def node_hex(text: str) -> bytes:
    """Buffer.from(text, "hex"): decodes pairs up to the first that is not hex."""
    out = bytearray()
    for i in range(0, len(text) - 1, 2):
        try:
            out.append(int(text[i:i + 2], 16))
        except ValueError:
            break
    return bytes(out)


def seed003_verify_signature(raw_body: bytes, signature_header: str | None) -> bool:
    """seeds/003_5c9001e59fef8c05.txt § Setting Up Your Express Endpoint, verifySignature()."""
    if not signature_header:  # if (!signatureHeader) return false;
        return False
    # Header format: "sha256=<hex_digest>"
    # const [algorithm, providedSignature] = signatureHeader.split("=");
    pieces = signature_header.split("=")
    algorithm, provided_signature = pieces[0], (pieces[1] if len(pieces) > 1 else "")
    if algorithm != "sha256" or not provided_signature:
        return False
    expected_signature = hmac.new(OFAPI_SECRET.encode(), raw_body, hashlib.sha256).hexdigest()
    expected = node_hex(expected_signature)  # Buffer.from(expectedSignature, "hex")
    provided = node_hex(provided_signature)  # Buffer.from(providedSignature, "hex")
    if len(expected) != len(provided):
        return False
    return hmac.compare_digest(expected, provided)  # crypto.timingSafeEqual


SEED003_CASES = ("subscriber.new", "subscriber.renewed", "subscriber.cancelled",
                 "subscriber.expired", "message.received", "tip.received", "ppv.purchased")


def seed003_handle(headers: dict[str, str], body: bytes, routed: list[str]) -> int:
    """handleWebhook() and processEvent(): verify, parse, answer, switch on event.type."""
    signature = headers.get("x-ofapi-signature")
    if not seed003_verify_signature(body, signature):
        return 401  # res.status(401).json({ error: "Invalid signature" })
    try:
        event = json.loads(body)
    except ValueError:
        return 400  # res.status(400).json({ error: "Invalid JSON" })
    assert isinstance(event["id"], str) and isinstance(event["creatorId"], str)  # logged, dedup
    if event["type"] not in SEED003_CASES:
        raise AssertionError(f"Unhandled event type {event['type']}")  # the switch's default
    if event["type"] == "message.received":
        event["data"]["content"][:100]  # notifyChatter: data.content.slice(0, 100)
    routed.append(event["type"])
    return 200


def test_seed_003_express_handler_accepts_every_integration_guide_event() -> None:
    """The guide's handler verifies `sha256=<hex>` and routes all 7 of its event types."""
    routed: list[str] = []
    with receiver(answer=lambda h, b: seed003_handle(h, b, routed)) as (url, got):
        trigger_each(url, got, list(SEED003_CASES), "-s", OFAPI_SECRET)
    assert routed == list(SEED003_CASES)


# --- seed 004: OFAPI event reference, the Flask handler ----------------------------------------

def seed004_verify_signature(payload_body: bytes, signature: str) -> bool:
    """seeds/004_b3453de565793e5d.txt § Build Your Handler, webhook_handler.py verify_signature."""
    expected = hmac.new(OFAPI_SECRET.encode(), payload_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


SEED004_CASES = ("revenue.received", "subscriber.new", "subscriber.expired", "message.received")


def seed004_handle(headers: dict[str, str], body: bytes, routed: list[str]) -> int:
    """handle(): verify X-OFAPI-Signature as given, then route payload["event"]."""
    sig = headers.get("x-ofapi-signature", "")  # request.headers.get("X-OFAPI-Signature", "")
    if not seed004_verify_signature(body, sig):
        return 401  # jsonify({"error": "invalid signature"}), 401
    payload = json.loads(body)
    event = payload["event"]
    payload["data"]  # data = payload["data"]
    if event in SEED004_CASES:
        routed.append(event)
    return 200


def test_seed_004_flask_handler_accepts_every_event_reference_event() -> None:
    """The reference's handler compares bare hex: --envelope reference signs that by default."""
    routed: list[str] = []
    with receiver(answer=lambda h, b: seed004_handle(h, b, routed)) as (url, got):
        trigger_each(url, got, list(SEED004_CASES), "-s", OFAPI_SECRET, "--envelope", "reference")
    assert routed == list(SEED004_CASES)


@pytest.mark.parametrize(("args", "status"), [
    (["--envelope", "reference", "--scheme", "ofapi"], 401),
    (["--envelope", "integration"], 401),
])
def test_seed_004_handler_rejects_the_sha256_prefixed_form(args: list[str], status: int) -> None:
    """Why the form matters: the reference's own handler refuses `sha256=<hex>`."""
    routed: list[str] = []
    with receiver(answer=lambda h, b: seed004_handle(h, b, routed)) as (url, got):
        result = runner.invoke(app, ["trigger", "subscriber.new", "--to", url,
                                     "-s", OFAPI_SECRET, *args, "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["status"] == status
    assert routed == [] and got.errors == []
