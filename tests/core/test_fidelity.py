"""Every fixture has exactly the field names and JSON types the provider documents describe.

`SHAPES` is the table derived from the documents: one row per event and data shape (the default
data, plus each envelope variant that documents its own), giving each field path its JSON type
and the row its source (seed file and section, or public page). Fields a document leaves unsaid
sit in the row's `assumed` part, with the reason. Paths: `a.b` for nested keys, `a[]` for the
items of a list. Types: string, number, boolean, null, object, array, joined by `|`; a trailing
`?` marks a field the document types optional (absent when it does not apply, never `null`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import EventType, all_events, find
from ofevents_cli.core.payloads import Stamp, build_payload

S000 = "seeds/000_5c3d798329ba8036.txt § Listening for events"
S001 = "seeds/001_57354d06ee1d73e1.txt"
S002 = "seeds/002_8468dbc545e46f54.txt"
S003 = "seeds/003_5c9001e59fef8c05.txt § TypeScript Types for Webhook Events"
S004 = "seeds/004_b3453de565793e5d.txt § Payload Schemas"
BETTERFANS = "https://betterfans.link/docs/websocket/events"
FANS_EVENTS = "https://docs.onlyfansapi.com/webhooks/available-events"
FANS_LIST = "https://docs.onlyfansapi.com/api-reference/webhooks/createWebhook (events options)"
OFAUTH_CONNECTIONS = "https://docs.ofauth.com/api-reference/system-webhook-events/connection-events"
OFAUTH_BETA = "https://docs.ofauth.com/api-reference/realtime/beta/"
SDK = "onlyfans_sdk 3.1 webhooks.py"


@dataclass(frozen=True)
class Shape:
    """One row: the documented fields, the assumed ones and why, the documented values."""

    source: str
    fields: Mapping[str, str]
    assumed: Mapping[str, str] = field(default_factory=dict)
    why: str = ""
    values: Mapping[str, frozenset[Any]] = field(default_factory=dict)


def _under(prefix: str, fields: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}.{path}": kind for path, kind in fields.items()}


# ---- OFAPI: seed 003 (integration guide) and seed 004 (event reference) ----------------------
SUBSCRIBER = {"fanId": "string", "username": "string", "subscriptionPrice": "number",
              "subscriptionDuration": "number", "isRebill": "boolean", "isTrial": "boolean",
              "trialDays": "number?", "referralSource": "string?"}
REF_WHO = {"creator": "string", "creator_id": "string", "username": "string"}
TIP_CONTEXTS = frozenset({"stream", "post", "message", "profile"})

# ---- OnlyFans objects --------------------------------------------------------------------------
# the chat message: OFAuth's Realtime example (seed 002), which OnlyFansAPI's messages examples
# repeat with more keys (FANS_EVENTS § Messages)
USER_BRIEF = {"id": "number", "name": "string", "username": "string", "isVerified": "boolean",
              "lastSeen": "string"}
MESSAGE = {"id": "number", "queueId": "number", "responseType": "string", "text": "string",
           "price": "number", "isFree": "boolean", "isTip": "boolean", "isNew": "boolean",
           "isOpened": "boolean", "isFromQueue": "boolean", "isMediaReady": "boolean",
           "mediaCount": "number", "createdAt": "string", "changedAt": "string",
           "cancelSeconds": "number", "fromUser": "object", **_under("fromUser", USER_BRIEF),
           "media": "array", "previews": "array"}
FANS_MESSAGE = {**MESSAGE, "giphyId": "null|string", "lockedText": "boolean",
                "isReportedByMe": "boolean", "isCouplePeopleMedia": "boolean",
                "isMarkdownDisabled": "boolean", "fromUser.avatar": "string"}
MEDIA_ITEM = {"media[]": "object?", **{f"media[].{k}": f"{v}?" for k, v in {
    "id": "number", "type": "string", "canView": "boolean", "hasError": "boolean",
    "convertedToVideo": "boolean", "isReady": "boolean", "duration": "number",
    "src": "string", "preview": "string", "thumb": "string", "createdAt": "string"}.items()},
    "previews[]": "number?"}
MEDIA_WHY = ("the examples' media and previews lists are empty: items follow OnlyFans' media "
             "object (id, type, canView, hasError, convertedToVideo, isReady, duration, "
             "createdAt in OFAuth's API reference; src/preview/thumb URLs assumed)")
ACCOUNT = {"state": "string", "progress": "string", "latestAuthAttempt": "object",
           **_under("latestAuthAttempt", {
               "started_at": "string", "completed_at": "string|null", "success": "boolean",
               "error_message": "string|null", "needs_otp": "boolean",
               "needs_face_otp": "boolean", "otp_phone_ending": "string|null"})}
ACCOUNT_VALUES = {"state": frozenset({"authenticated"}), "progress": frozenset({"started"})}
FANS_USER = {"user": "object", "user.id": "number", "user.name": "string",
             "user.username": "string", "user.avatar": "string"}
SUBSCRIPTION = {**FANS_USER, "subscribePrice": "number", "subscribedAt": "string",
                "expiresAt": "string", "isTrial": "boolean", "autoRenew": "boolean"}
UNDOCUMENTED = "OnlyFansAPI documents no payload for this event: the whole shape is assumed"

# ---- OFAuth -------------------------------------------------------------------------------------
CONNECTION = {"clientReferenceId": "string", "connection": "object", "connection.id": "string",
              "connection.status": "string"}
CONNECTION_FULL = {**CONNECTION, "connection.permissions": "array",
                   "connection.permissions[]": "string", "connection.userData": "object",
                   **_under("connection.userData", {"id": "string", "name": "string",
                                                    "username": "string", "avatar": "string"})}
STATUSES = frozenset({"active", "expired", "awaiting_2fa"})  # onlyfans_sdk models.Status
REALTIME = {"connection": "object", "connection.id": "string",
            "connection.clientReferenceId": "string", "environment": "string",
            "eventBody": "object"}
ENVIRONMENTS = {"environment": frozenset({"live", "test", "sandbox"})}
CHOSEN = "the name is ofevents' choice (OFAuth names the event only by a label or a schema page); "


def realtime(source: str, body: Mapping[str, str], assumed: Mapping[str, str] | None = None,
             why: str = "") -> Shape:
    """A Realtime row: the shared envelope data plus eventBody's fields."""
    return Shape(source, {**REALTIME, **_under("eventBody", body)},
                 _under("eventBody", assumed or {}), why, ENVIRONMENTS)


# ---- EventBus -----------------------------------------------------------------------------------
EB_USER = {"id": "number", "name": "string", "username": "string"}
EB_IDS = ("types of other ids follow the documented ones: userId-like fields are strings, "
          "message ids numbers like chat_message.id")

SHAPES: dict[tuple[str, str, str], Shape] = {
    # OFAPI, integration guide
    **{("ofapi", name, "integration"): Shape(f"{S003} (SubscriberData)", SUBSCRIBER)
       for name in ("subscriber.new", "subscriber.renewed", "subscriber.cancelled",
                    "subscriber.expired")},
    ("ofapi", "message.received", "integration"): Shape(f"{S003} (MessageData)", {
        "messageId": "string", "fanId": "string", "username": "string", "content": "string",
        "hasMedia": "boolean", "mediaCount": "number?", "sentAt": "string"}),
    ("ofapi", "tip.received", "integration"): Shape(f"{S003} (TipData)", {
        "fanId": "string", "username": "string", "amount": "number", "message": "string?",
        "context": "string", "contextId": "string?"}, values={"context": TIP_CONTEXTS}),
    ("ofapi", "ppv.purchased", "integration"): Shape(f"{S003} (PPVData)", {
        "fanId": "string", "username": "string", "messageId": "string", "price": "number",
        "mediaCount": "number"}),
    # OFAPI, event reference (revenue.received has only this shape, and it as its default)
    ("ofapi", "subscriber.new", "reference"): Shape(f"{S004}, subscriber.new", {
        **REF_WHO, "user_id": "string", "subscription_price": "number",
        "subscription_type": "string", "started_at": "string", "expires_at": "string"},
        values={"subscription_type": frozenset({"recurring"})}),
    ("ofapi", "subscriber.expired", "reference"): Shape(f"{S004}, subscriber.expired", {
        **REF_WHO, "user_id": "string", "subscribed_since": "string", "expired_at": "string",
        "total_spent": "number", "renewal_count": "number"}),
    ("ofapi", "revenue.received", "reference"): Shape(f"{S004}, revenue.received", {
        **REF_WHO, "type": "string", "amount": "number", "net_amount": "number",
        "currency": "string", "description": "string"}, values={"type": frozenset({"tip"})}),
    ("ofapi", "message.received", "reference"): Shape(f"{S004}, message.received", {
        "creator": "string", "creator_id": "string", "from_user": "string",
        "from_user_id": "string", "message_id": "string", "text": "string",
        "has_media": "boolean", "is_paid": "boolean"}),
    # OnlyFansAPI
    **{("onlyfansapi", name, "default"): Shape(f"{FANS_EVENTS} § Accounts", ACCOUNT,
                                               values=ACCOUNT_VALUES)
       for name in ("accounts.connected", "accounts.reconnected", "accounts.session_expired",
                    "accounts.authentication_failed", "accounts.otp_code_required",
                    "accounts.face_otp_required")},
    **{("onlyfansapi", name, "default"): Shape(f"{FANS_EVENTS} § Messages; {S002}",
                                               FANS_MESSAGE, MEDIA_ITEM, MEDIA_WHY)
       for name in ("messages.received", "messages.sent")},
    ("onlyfansapi", "messages.ppv.unlocked", "default"): Shape(
        f"name: {FANS_LIST}", {}, {**FANS_MESSAGE, **MEDIA_ITEM},
        "no example of its own: the messages.received message object (integrators report a "
        "notification-shaped payload instead)"),
    ("onlyfansapi", "messages.deleted", "default"): Shape(
        "integrator reports", {}, {**FANS_MESSAGE, **MEDIA_ITEM},
        "integrator-reported event: the deleted message as the message object"),
    **{("onlyfansapi", name, "default"): Shape(source, {}, SUBSCRIPTION, UNDOCUMENTED)
       for name, source in (("subscriptions.new", f"name: {FANS_LIST}"),
                            ("subscriptions.renewed", "integrator reports"),
                            ("subscriptions.expired", "integrator reports"))},
    ("onlyfansapi", "tips.received", "default"): Shape("integrator reports", {}, {
        "user": "object", **_under("user", USER_BRIEF), "amount": "number", "message": "string",
        "context": "string", "contextId": "number", "createdAt": "string"}, UNDOCUMENTED),
    ("onlyfansapi", "posts.liked", "default"): Shape(f"name: {FANS_LIST}", {}, {
        "post_id": "number", **FANS_USER, "likesCount": "number", "likedAt": "string"},
        UNDOCUMENTED),
    ("onlyfansapi", "users.typing", "default"): Shape(f"name: {FANS_LIST}", {}, {
        "user_id": "number", "chat_id": "number", "started_at": "string"}, UNDOCUMENTED),
    **{("onlyfansapi", name, "default"): Shape("integrator reports", {}, {
        "user_id": "number", "lastSeen": "string"}, UNDOCUMENTED)
       for name in ("users.online", "users.offline")},
    # OFAuth system events
    ("ofauth", "connection.created", "docs"): Shape(
        f"{S001} § connection.created; {OFAUTH_CONNECTIONS}", CONNECTION_FULL,
        values={"connection.status": frozenset({"active"})}),
    ("ofauth", "connection.updated", "docs"): Shape(
        f"{S001} § connection.updated; {OFAUTH_CONNECTIONS}", CONNECTION_FULL,
        values={"connection.status": frozenset({"active"})}),
    ("ofauth", "connection.expired", "docs"): Shape(
        f"{S001} § connection.expired; {SDK} (ExpiredConnectionEventData)", CONNECTION,
        values={"connection.status": frozenset({"expired"})}),
    ("ofauth", "connection.disconnected", "docs"): Shape(
        f"{OFAUTH_CONNECTIONS} (the shape all connection events share)", CONNECTION,
        why="its own example is not captured: status is one of the documented statuses",
        values={"connection.status": STATUSES}),
    ("ofauth", "rules.updated", "docs"): Shape(f"{SDK} (RulesEventData, DynamicRules)", {
        "rules": "object", **_under("rules", {
            "static_param": "string", "format": "string", "start": "string", "end": "string",
            "prefix": "string", "suffix": "string", "checksum_constant": "number",
            "checksum_indexes": "array", "checksum_indexes[]": "number", "app_token": "string",
            "revision": "string"}), "revision": "string"}),
    # OFAuth Realtime
    ("ofauth", "realtime.chat_message.received", "docs"): realtime(
        f"{S002} § realtimeWebhookEvent", MESSAGE),
    ("ofauth", "realtime.chat_typing.updated", "docs"): realtime(
        f"{S002} § Body (Chat typing updated)", {"id": "number"}),
    ("ofauth", "realtime.system_messages.updated", "docs"): realtime(
        f"{OFAUTH_BETA}system-messages", {}, {"unreadCount": "number",
                                             "lastMessageId": "number", "changedAt": "string"},
        "eventBody's fields are not documented"),
    ("ofauth", "realtime.inbox_counts.updated", "docs"): realtime(
        f"{OFAUTH_BETA}inbox-counts", {"chat_messages": "number",
                                       "count_priority_chat": "number",
                                       "unread_tips": "number"}, why=CHOSEN.rstrip("; ")),
    ("ofauth", "realtime.stories.updated", "docs"): realtime(
        f"{OFAUTH_BETA}stories", {}, {"id": "number", "userId": "number", "isReady": "boolean",
                                      "hasPost": "boolean", "isWatched": "boolean",
                                      "createdAt": "string"},
        CHOSEN + "the upstream stories object's fields are not documented: OFAuth's story "
        "object is used"),
    ("ofauth", "realtime.system_message.received", "docs"): realtime(
        f"{OFAUTH_BETA}system-new-message", {"hasSystemNotifications": "boolean",
                                             "new_message": "object"},
        {"new_message.id": "number", "new_message.text": "string",
         "new_message.createdAt": "string", "new_message.isNew": "boolean"},
        CHOSEN + "new_message's fields are not documented"),
    **{("ofauth", name, "docs"): realtime(
        "OFAuth's list of documented event schemas (page not captured)", {},
        {"messageId": "number", "chatId": "number", "fromUser": "object",
         **_under("fromUser", USER_BRIEF), stamp: "string"}, CHOSEN + "fields assumed")
       for name, stamp in (("realtime.chat_message.liked", "likedAt"),
                           ("realtime.chat_message.unliked", "unlikedAt"))},
    ("ofauth", "realtime.toasts.received", "docs"): realtime(
        f"{OFAUTH_BETA}toasts", {}, {"id": "string", "type": "string", "text": "string",
                                     "createdAt": "string"},
        CHOSEN + "the toasts object's fields are not documented"),
    ("ofauth", "realtime.post_fundraising.updated", "docs"): realtime(
        f"{OFAUTH_BETA}post-fundraising-updated", {}, {
            "postId": "number", "target": "number", "presets": "array", "presets[]": "number",
            "collected": "number", "targetProgress": "number"},
        CHOSEN + "the post_fundraising_updated object's fields are not documented"),
    ("ofauth", "realtime.post.published", "docs"): realtime(
        "OFAuth's list of documented event schemas (page not captured)", {}, {
            "id": "number", "author": "object", "author.id": "number",
            "author.username": "string", "text": "string", "price": "number",
            "mediaCount": "number", "postedAt": "string"}, CHOSEN + "fields assumed"),
    ("ofauth", "realtime.chat_message.deleted", "docs"): realtime(
        f"{OFAUTH_BETA}chat-message-delete", {"chat_message_delete": "string"},
        why=CHOSEN + "eventBody is the documented upstream payload unchanged"),
    ("ofauth", "of.websocket.event.received", "docs"): Shape(
        f"{OFAUTH_BETA}typing (the raw relay schema)", {
            "connection": "object", "connection.id": "string",
            "connection.clientReferenceId": "string", "environment": "string",
            "receivedAt": "string", "messageType": "string", "payloadKey": "string",
            "shapeSubtype": "string|null", "truncated": "boolean", "json": "object",
            "json.typing": "object", "json.typing.id": "number", "rawText": "string|null",
            "rawBase64": "string|null?"},
        values={**ENVIRONMENTS, "payloadKey": frozenset({"of.websocket.event.received|typing"}),
                "shapeSubtype": frozenset({"chat.typing.updated", None})}),
    # EventBus
    ("eventbus", "chat_message", "emit"): Shape(f"{BETTERFANS} § chat_message; {S000}", {
        "id": "number", "text": "string", "fromUser": "object", "toUser": "object",
        "price": "number", "media": "array", "createdAt": "string"},
        {**_under("fromUser", EB_USER), **_under("toUser", EB_USER), "isFree": "boolean",
         "isOpened": "boolean"}, "sender and recipient fields are not documented"),
    ("eventbus", "tip", "emit"): Shape(f"{BETTERFANS} § tip; {S000}", {
        "amount": "number", "userId": "string", "message": "string?"}, {"context": "string"},
        "where the tip came from is not documented", {"context": TIP_CONTEXTS}),
    ("eventbus", "new_subscriber", "emit"): Shape(f"{BETTERFANS} § new_subscriber; {S000}", {
        "userId": "string"}, {"price": "number", "isTrial": "boolean"}, "not documented"),
    ("eventbus", "returning_subscriber", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "userId": "string", "price": "number", "isTrial": "boolean"},
        "fields assumed as new_subscriber's"),
    ("eventbus", "counts", "emit"): Shape(
        "https://betterfans.link/docs/plugins/realtime (counts)", {
            "chats": "object", "chats.unread": "number", "chats.priority": "number",
            "notifications": "object", "notifications.new": "number"}),
    ("eventbus", "online", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "userId": "string", "isOnline": "boolean", "lastSeen": "string"}, EB_IDS),
    ("eventbus", "typing", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "userId": "string", "chatId": "string", "isTyping": "boolean"}, EB_IDS),
    **{("eventbus", name, "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "messageId": "number", "userId": "string"}, EB_IDS)
       for name in ("chat_message_like", "chat_message_unlike")},
    ("eventbus", "ppv_purchase", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "messageId": "number", "userId": "string", "price": "number"}, EB_IDS),
    ("eventbus", "ppv_sent", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "messageId": "number", "toUserId": "string", "price": "number",
        "mediaCount": "number"}, EB_IDS),
    ("eventbus", "system_message", "emit"): Shape(f"{BETTERFANS} § event types", {}, {
        "id": "number", "text": "string", "createdAt": "string"}, "fields assumed"),
}

# envelope variant -> its top-level keys and their JSON types, with the source of each
ENVELOPE_SHAPES: dict[str, tuple[str, dict[str, str]]] = {
    "integration": (f"{S003} (interface WebhookEvent)", {
        "id": "string", "type": "string", "creatorId": "string", "timestamp": "string",
        "data": "object"}),
    "reference": (f"{S004} (envelope)", {"event": "string", "timestamp": "string",
                                         "data": "object"}),
    "default": (f"{FANS_EVENTS} (every example payload)", {
        "event": "string", "account_id": "string", "payload": "object"}),
    "docs": (f"{S001} § Payload Format; {S002}", {"type": "string", "timestamp": "string",
                                                 "data": "object"}),
    "sdk": (f"{SDK} (WebhookEvent)", {"eventType": "string", "live": "boolean",
                                       "data": "object"}),
    "emit": ("spec eventbus-protocol.md § Injecting events; accountId a string per "
             f"{BETTERFANS}", {"event": "string", "accountId": "string", "data": "object"}),
}


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def paths(node: Any, prefix: str = "") -> dict[str, set[str]]:
    """Every field path in `node` with the JSON types found there."""
    found: dict[str, set[str]] = {}

    def walk(value: Any, path: str) -> None:
        found.setdefault(path, set()).add(json_type(value))
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    for key, value in node.items():
        walk(value, f"{prefix}{key}")
    return found


def values_at(node: Any, path: str) -> list[Any]:
    """The values found at a dotted path (through list items for `[]` segments)."""
    nodes = [node]
    for part in path.split("."):
        listed = part.endswith("[]")
        key = part.removesuffix("[]")
        nodes = [n[key] for n in nodes if isinstance(n, dict) and key in n]
        if listed:
            nodes = [item for n in nodes if isinstance(n, list) for item in n]
    return nodes


def shapes_held(event: EventType) -> dict[str, Mapping[str, Any]]:
    """The data shapes a fixture holds: its default data and each variant's own."""
    default = registry.provider(event.provider).envelope().name
    return {event.envelope or default: event.data, **event.envelopes}


FIXTURE_KEYS = sorted((e.provider, e.name, variant)
                      for e in all_events() for variant in shapes_held(e))


def test_every_fixture_shape_has_a_row_and_every_row_a_fixture() -> None:
    """The table covers each fixture's shapes, and names no shape the catalogue lacks."""
    assert set(FIXTURE_KEYS) - set(SHAPES) == set(), "fixture shapes without a row"
    assert set(SHAPES) - set(FIXTURE_KEYS) == set(), "rows without a fixture shape"


def test_every_row_names_its_source_and_why_it_assumes() -> None:
    """A row cites a document, and a row that assumes fields says why."""
    for key, shape in SHAPES.items():
        assert shape.source.strip(), key
        assert not shape.assumed or shape.why.strip(), key
        assert not set(shape.fields) & set(shape.assumed), key


@pytest.mark.parametrize("key", FIXTURE_KEYS, ids="/".join)
def test_fixture_fields_and_json_types_match_the_documents(key: tuple[str, str, str]) -> None:
    """No field missing, none extra, each of its documented JSON type; no null for optional."""
    provider, name, variant = key
    shape = SHAPES[key]
    table = {**shape.fields, **shape.assumed}
    found = paths(find(name, provider).data_for(variant))
    extra = sorted(set(found) - set(table))
    missing = sorted(p for p, kind in table.items() if not kind.endswith("?") and p not in found)
    wrong = {p: (sorted(found[p]), table[p]) for p in set(found) & set(table)
             if not found[p] <= set(table[p].removesuffix("?").split("|"))}
    assert (extra, missing, wrong) == ([], [], {})


@pytest.mark.parametrize("key", sorted(k for k, s in SHAPES.items() if s.values), ids="/".join)
def test_enum_fields_hold_documented_values(key: tuple[str, str, str]) -> None:
    """Fields with documented values (context, status, environment, …) hold only those."""
    provider, name, variant = key
    data = find(name, provider).data_for(variant)
    for path, allowed in SHAPES[key].values.items():
        found = values_at(data, path)
        assert found and set(found) <= allowed, (path, found)


@pytest.mark.parametrize("variant", sorted(ENVELOPE_SHAPES))
def test_every_envelope_has_its_documented_top_level_keys_and_types(variant: str) -> None:
    """build_payload wraps data in exactly the documented envelope, types included."""
    provider = next(p.name for p in registry.providers()
                    if variant in [e.name for e in p.envelopes])
    event = next(e for e in all_events() if e.provider == provider)
    payload = build_payload(event, Stamp("evt_1", 1795000000.0), envelope=variant)
    _, expected = ENVELOPE_SHAPES[variant]
    assert {key: json_type(value) for key, value in payload.items()} == expected


def test_every_envelope_variant_has_a_row() -> None:
    """Each provider's envelope variants all appear in the envelope table."""
    assert {e.name for p in registry.providers() for e in p.envelopes} == set(ENVELOPE_SHAPES)
