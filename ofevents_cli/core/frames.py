"""The EventBus wire format (ofevents' own protocol, docs/eventbus-protocol.md), in one place.

Pure: text in, frame values out, and back. Every wire detail (op names, field names, close
codes, limits) lives here, so an adapter for another wire format is a change to this module
only. Decoding never raises: a frame that cannot be understood comes back as `Malformed`, an
op this side does not know as `Unknown`, and unknown fields are ignored. Frames are strict
JSON: a lone surrogate (`"\\ud800"`), a number out of range (`1e999`) or nesting deeper than
`strictjson.MAX_DEPTH` makes one `Malformed`, with the field that did, so every value decoded
can be printed and encoded again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ofevents_cli.core import fastjson, strictjson

__all__ = [
    "CLOSE_BAD_CREDENTIALS",
    "CLOSE_FORBIDDEN",
    "CLOSE_PROTOCOL",
    "CLOSE_RATE_LIMITED",
    "FATAL_CLOSES",
    "HELLO_TIMEOUT",
    "MAX_CLOSE_REASON",
    "MAX_FRAME",
    "META_EVENT",
    "META_ID",
    "META_TS",
    "PATH",
    "ClientFrame",
    "ErrorFrame",
    "Event",
    "Gap",
    "Hello",
    "Malformed",
    "Ping",
    "Pong",
    "Ready",
    "ServerFrame",
    "Unknown",
    "Update",
    "close_reason",
    "decode_client",
    "decode_server",
    "encode",
    "flat_json",
    "matches",
]

PATH = "/v1/events"
MAX_FRAME = 1 << 20  # bytes; larger frames close the connection (1009)
HELLO_TIMEOUT = 10.0  # seconds the server waits for `hello`

CLOSE_BAD_CREDENTIALS = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_RATE_LIMITED = 4008
CLOSE_PROTOCOL = 4400
# close code -> what went wrong, for the codes after which a client must not reconnect
FATAL_CLOSES = {
    CLOSE_BAD_CREDENTIALS: "the API key or WS token was rejected",
    CLOSE_FORBIDDEN: "an account in the filter is not one of yours",
    CLOSE_PROTOCOL: "the server rejected the hello (protocol error)",
}


@dataclass(frozen=True)
class Hello:
    """Client -> server, first frame: credentials, subscription, filter, resume point."""

    api_key: str
    ws_token: str
    subscribe: tuple[str, ...] = ()
    accounts: tuple[str, ...] | None = None
    resume: str | None = None
    client: str = ""


@dataclass(frozen=True)
class Update:
    """Client -> server: change the subscription live."""

    subscribe: tuple[str, ...] = ()
    accounts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Ping:
    """Client -> server app-level ping; `t` comes back in the pong."""

    t: Any = None


@dataclass(frozen=True)
class Ready:
    """Server -> client: the session is open with this effective subscription."""

    session: str
    subscribe: tuple[str, ...] = ()
    accounts: tuple[str, ...] | None = None
    resumed: bool = False
    last: str | None = None  # the session starts after this event id (a resume point)


# ofevents' own metadata in the object a user sees; no documented field starts with "_"
META_EVENT, META_ID, META_TS = "_event", "_id", "_ts"
_META_NAMES = ("event", "id", "ts", "accountId")


def _escaped(key: str) -> str:
    """A data key as it appears next to the metadata: `accountId` and `_…event/id/ts/accountId`
    (underscores then a meta name: only a non-conforming server sends one) get one more
    leading `_`, so no data field ever hides or is hidden by ofevents' own keys. Injective:
    nothing is lost, and stripping one `_` from such keys gives the data back."""
    if key == "accountId" or (key[:1] == "_" and key.lstrip("_") in _META_NAMES):
        return "_" + key
    return key


def _plain_keys(data: Mapping[str, Any]) -> bool:
    """The common case, checked at C speed: no data key is `accountId` or starts with `_`, so
    the flat object takes every key as it is (else `_escaped` renames the clashing ones)."""
    return "accountId" not in data and "\x00_" not in "\x00" + "\x00".join(data)


@dataclass(frozen=True, init=False)
class Event:
    """Server -> client: one event of one account."""

    id: str
    event: str
    account_id: str
    ts: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, id: str, event: str, account_id: str, ts: str,
                 data: Mapping[str, Any] | None = None) -> None:
        """One dict update instead of a frozen dataclass's `object.__setattr__` per field (a
        third of decoding an event frame); the instance stays frozen."""
        self.__dict__.update(id=id, event=event, account_id=account_id, ts=ts,
                             data={} if data is None else data)

    def flat(self) -> dict[str, Any]:
        """The event as the BetterFans SDK hands it to a handler: `accountId` and the data
        fields under their own names (a chat message's `id` is the message id), plus ofevents'
        metadata under `_event`, `_id` (the event id resume relies on) and `_ts`."""
        out: dict[str, Any] = {META_EVENT: self.event, META_ID: self.id, META_TS: self.ts,
                               "accountId": self.account_id}
        data = self.data
        if _plain_keys(data):
            out.update(data)
            return out
        for key, value in data.items():
            out[_escaped(key)] = value
        return out


@dataclass(frozen=True)
class Gap:
    """Server -> client: events after `after` are no longer available (lost)."""

    after: str | None
    reason: str = "expired"


@dataclass(frozen=True)
class ErrorFrame:
    """Server -> client, just before a close: what went wrong."""

    code: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Pong:
    """Server -> client answer to a ping."""

    t: Any = None


@dataclass(frozen=True)
class Unknown:
    """A well-formed frame with an op this side does not handle (ignored)."""

    op: str


@dataclass(frozen=True)
class Malformed:
    """A frame that could not be understood, and why (reported, then skipped)."""

    reason: str


ClientFrame = Hello | Update | Ping
ServerFrame = Ready | Event | Gap | ErrorFrame | Pong


class _Bad(Exception):
    """Internal: a field has the wrong shape."""


def _text(obj: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _Bad(f"{key!r} must be a string")
    return value


def _names(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad(f"{key!r} must be a list of strings")
    return tuple(value)


def _accounts(obj: Mapping[str, Any]) -> tuple[str, ...] | None:
    value = obj.get("filter")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Bad("'filter' must be an object")
    ids = value.get("accountIds")
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(v, (str, int)) for v in ids):
        raise _Bad("'filter.accountIds' must be a list of ids")
    return tuple(str(v) for v in ids)


def _optional(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _hello(o: Mapping[str, Any]) -> Hello:
    resume = o.get("resume")
    if resume is not None and not isinstance(resume, str):
        raise _Bad("'resume' must be an event id or null")
    return Hello(_text(o, "apiKey"), _text(o, "wsToken"), _names(o, "subscribe"),
                 _accounts(o), resume, _text(o, "client", required=False))


def _event(o: Mapping[str, Any]) -> Event:
    event_id, name, account, ts, data = (o.get("id"), o.get("event"), o.get("accountId"),
                                         o.get("ts"), o.get("data", {}))
    if (type(event_id) is str and type(name) is str and type(account) is str
            and type(ts) is str and type(data) is dict):  # the hot path: well-formed
        return Event(event_id, name, account, ts, data)
    data = o.get("data", {})
    if not isinstance(data, dict):
        raise _Bad("'data' must be an object")
    return Event(_text(o, "id"), _text(o, "event"), _text(o, "accountId"), _text(o, "ts"), data)


def _error(o: Mapping[str, Any]) -> ErrorFrame:
    retry = o.get("retryAfter")
    if retry is not None and (not isinstance(retry, (int, float)) or isinstance(retry, bool)):
        raise _Bad("'retryAfter' must be a number of seconds")
    return ErrorFrame(_text(o, "code"), _text(o, "message", required=False), retry)


_CLIENT_OPS: dict[str, Callable[[Mapping[str, Any]], ClientFrame]] = {
    "hello": _hello,
    "update": lambda o: Update(_names(o, "subscribe"), _accounts(o)),
    "ping": lambda o: Ping(o.get("t")),
}

_SERVER_OPS: dict[str, Callable[[Mapping[str, Any]], ServerFrame]] = {
    "ready": lambda o: Ready(_text(o, "session"), _names(o, "subscribe"), _accounts(o),
                             o.get("resumed") is True, _optional(o, "last")),
    "event": _event,
    "gap": lambda o: Gap(_optional(o, "after"),
                         _text(o, "reason", required=False) or "expired"),
    "error": _error,
    "pong": lambda o: Pong(o.get("t")),
}


# built once: json.loads with a keyword builds a new decoder for every frame
_DECODER = json.JSONDecoder(parse_constant=strictjson.reject_constant,
                            parse_float=strictjson.finite_float)
_LENIENT = json.JSONDecoder()  # only to say where the number the strict one refused is
def _who(obj: Any) -> str:
    """`event evt_1` (the op and id of a refused frame, when they are plain text), for reasons."""
    if not isinstance(obj, dict) or not isinstance(obj.get("op"), str):
        return "frame"
    op, ident = obj["op"], obj.get("id")
    who = strictjson.escaped(op, 20)
    return f"{who} {strictjson.escaped(ident)}" if isinstance(ident, str) else who


def _out_of_range(text: str, why: str) -> Malformed:
    try:
        obj = _LENIENT.decode(text)
    except (ValueError, RecursionError):
        obj = None
    found = strictjson.problem(obj) if isinstance(obj, dict) else None
    return Malformed(f"{_who(obj)}: {found or why}")


def _decode(text: str | bytes, ops: Mapping[str, Callable[[Mapping[str, Any]], Any]]) -> Any:
    if isinstance(text, bytes):
        return Malformed("binary frame (the protocol uses text frames only)")
    obj = fastjson.fast_loads(text, nesting=True)
    if obj is fastjson.SLOW:
        try:
            obj = _DECODER.decode(text)
        except strictjson.OutOfRange as exc:
            return _out_of_range(text, str(exc))
        except json.JSONDecodeError as exc:
            return Malformed(f"not JSON ({exc.msg} at {exc.pos})")
        except ValueError as exc:
            return Malformed(f"not JSON ({exc})")
        except RecursionError:
            return Malformed("JSON nested too deeply")
        if isinstance(obj, dict) and strictjson.suspect(text):  # lone surrogate, nesting
            found = strictjson.problem(obj)
            if found is not None:
                return Malformed(f"{_who(obj)}: {found}")
    if not isinstance(obj, dict):
        return Malformed("not a JSON object")
    op = obj.get("op")
    if not isinstance(op, str):
        return Malformed("no 'op' field")
    parse = ops.get(op)
    if parse is None:
        return Unknown(op)
    try:
        return parse(obj)
    except _Bad as exc:
        return Malformed(f"{op}: {exc}")


def decode_client(text: str | bytes) -> ClientFrame | Unknown | Malformed:
    """A frame the server received (text as a WebSocket delivers it: valid Unicode)."""
    result: ClientFrame | Unknown | Malformed = _decode(text, _CLIENT_OPS)
    return result


def decode_server(text: str | bytes) -> ServerFrame | Unknown | Malformed:
    """A frame the client received (text as a WebSocket delivers it: valid Unicode)."""
    result: ServerFrame | Unknown | Malformed = _decode(text, _SERVER_OPS)
    return result


def _filter(accounts: Sequence[str] | None) -> dict[str, Any]:
    return {} if accounts is None else {"filter": {"accountIds": list(accounts)}}


def _wire(frame: ClientFrame | ServerFrame) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(frame, Hello):
        return {"op": "hello", "apiKey": frame.api_key, "wsToken": frame.ws_token,
                "subscribe": list(frame.subscribe), **_filter(frame.accounts),
                "resume": frame.resume, "client": frame.client}
    if isinstance(frame, Update):
        return {"op": "update", "subscribe": list(frame.subscribe), **_filter(frame.accounts)}
    if isinstance(frame, Ping):
        return {"op": "ping", "t": frame.t}
    if isinstance(frame, Ready):
        out = {"op": "ready", "session": frame.session, "subscribe": list(frame.subscribe),
               **_filter(frame.accounts), "resumed": frame.resumed}
        if frame.last is not None:
            out["last"] = frame.last
        return out
    if isinstance(frame, Event):
        return {"op": "event", "id": frame.id, "event": frame.event,
                "accountId": frame.account_id, "ts": frame.ts, "data": dict(frame.data)}
    if isinstance(frame, Gap):
        return {"op": "gap", "after": frame.after, "reason": frame.reason}
    if isinstance(frame, ErrorFrame):
        out = {"op": "error", "code": frame.code, "message": frame.message}
        if frame.retry_after is not None:
            out["retryAfter"] = frame.retry_after
        return out
    return {"op": "pong", "t": frame.t}


def encode(frame: ClientFrame | ServerFrame) -> str:
    """One frame as the text of one WebSocket message (UTF-8 on the wire); ValueError for NaN,
    Infinity or a lone surrogate, which the receiving side would refuse."""
    wire = _wire(frame)
    text = json.dumps(wire, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if strictjson.lone_surrogate(text):
        raise ValueError(strictjson.problem(wire) or "a lone surrogate is not text")
    return text


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False,
                            allow_nan=False)


def flat_json(event: Event) -> bytes:
    """`event.flat()` as compact UTF-8 JSON: a `listen --json` line (without its newline) and
    a `--forward-to` body. orjson, unless a value is one it cannot write (an integer past 64
    bits): the stdlib then writes the same object. Decoded frames hold no NaN and no lone
    surrogate, so either one always succeeds."""
    data = event.data
    # the common case: `data`'s keys need no escaping, so its members follow the metadata as
    # orjson writes them (two small dumps cost less than merging them into one dict first)
    if data and _plain_keys(data):
        try:
            members = orjson.dumps(data)
        except TypeError:
            pass
        else:
            head = orjson.dumps({META_EVENT: event.event, META_ID: event.id,
                                 META_TS: event.ts, "accountId": event.account_id})
            return b"".join((head[:-1], b",", members[1:]))
    flat = event.flat()
    try:
        return orjson.dumps(flat)
    except TypeError:
        return _COMPACT.encode(flat).encode("utf-8")


def matches(event: str, account_id: str, subscribe: Sequence[str],
            accounts: Sequence[str] | None) -> bool:
    """Whether a subscription (empty = every type; None = every account) wants this event."""
    return (not subscribe or event in subscribe) and (accounts is None or account_id in accounts)



MAX_CLOSE_REASON = 123  # bytes of UTF-8 a close frame's reason may hold (RFC 6455 5.5.1)


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame, by UTF-8 bytes and at a character boundary: a reason
    one byte too long makes the close itself fail (the peer then sees 1006, not the code)."""
    raw = text.encode("utf-8", errors="replace")[:MAX_CLOSE_REASON]
    return raw.decode("utf-8", errors="ignore")
