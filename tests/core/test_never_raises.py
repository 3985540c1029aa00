"""The core never raises for outside input, beyond the error its contract names.

Outside input is what reaches ofevents from a file, the network, the environment or the command
line: bytes and text with lone surrogates (`\\ud800`), numbers out of range (`1e999`), integers
of hundreds of digits, nesting thousands deep, random and near-valid headers. Each public core
function that takes such input is driven here with it:

- `signing.verify`, `detect_scheme`, `signature_matches`: a delivery's body and headers, and the
  secrets (env, config, flags): never raise. `parse_signature` (KeyError / ValueError),
  `scheme_key`, `sign` and `signed_content` (ValueError) raise only those.
- `diagnosis.diagnose`: `verify --explain` on any delivery: never raises.
- `capture.parse_capture`, `read_captures`: a capture file's lines: never raise; a Capture they
  return is written back by `to_json` (as UTF-8) and read back equal. `parse_timestamp`: a
  `received_at` or `--now`: ValueError only.
- `frames.decode_server`, `decode_client`: a WebSocket frame: never raise; a frame they return
  encodes again (`encode`, and an event's `flat()` as JSON) and decodes back equal, so what
  `listen` prints can always be printed. `frames.encode` of any values: ValueError only.
  `matches`: a subscription against any event: never raises.
- `headers.index_headers`, `header_value`: never raise; `parse_header_line` (a `--header`):
  ValueError only.
- `payloads.parse_assignment` (a `--set`), `apply_override`, `build_payload`: InputError only;
  a payload built from what the readers accept (`--set`, `--data` as `read_data` decodes it)
  always encodes. `deliveries.scheme_for` (a `--scheme`) and `signed_delivery` (any secret):
  InputError only.
- `catalogue.find`, `provider_of` (an event name from the command line): InputError only.
- `masking.mask`, `redact` (any secret, any text): never raise.
- `config_table.get_key` / `set_key` / `unset_key` / `split_key` (a `config` key), `is_secret`,
  `leaves`, over tables of any keys and values a config file can hold: InputError only.
  Tables nest a few levels: a config file nested thousands deep is refused where it is read
  (shells/config.py).

Not here: `format_timestamp` and `traffic` (their input is ofevents' own clock and seeded
random generator), `catalogue.all_events` / `events` (the bundled fixtures, tested in
test_catalogue).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofevents_cli.core import config_table, frames, masking
from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import Capture, parse_capture, parse_timestamp, read_captures
from ofevents_cli.core.catalogue import find, provider_of
from ofevents_cli.core.deliveries import signed_delivery
from ofevents_cli.core.diagnosis import diagnose
from ofevents_cli.core.headers import header_value, index_headers, parse_header_line
from ofevents_cli.core.payloads import (
    Stamp,
    apply_override,
    build_payload,
    encode,
    parse_assignment,
)
from ofevents_cli.core.signing import (
    detect_scheme,
    digest,
    parse_signature,
    scheme_key,
    sign,
    signature_matches,
    signed_content,
    verify,
)
from ofevents_cli.core.strictjson import finite_float, problem, reject_constant
from ofevents_cli.errors import InputError

WHSEC = "whsec_" + base64.b64encode(b"never-raises-signing-key-32bytes").decode()
NOW = 1_790_000_000
RUN = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- outside input ------------------------------------------------------------------------------

SPECIAL = ["", " ", "\t", "\xa0", "\u2003", "\u200b", "\u2028", "\ufeff", "\x00", "\x1b[31m",
           "\ud800", "\udfff", "\udc80", "\ud83d\ude00", "é", "🔥", "1e999", "-1e999", "NaN",
           "Infinity", "1" * 400, "0", "-1", "1.5", "v1,", "v1", "sha256=", "t=", "t=1,v1=",
           "whsec_", "whsec_!!", WHSEC, ",", "=", ".", "[0]", "\\ud800", str(NOW)]
CHARS = st.characters(codec=None, exclude_categories=())  # surrogates included
TEXT = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(CHARS, max_size=40),
    st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(CHARS, max_size=8)),
             max_size=6).map("".join),
)
NUMBERS = st.one_of(
    st.sampled_from(["1e999", "-1e999", "1e308", "-0.0", "0", "2.5", "1E+400", "4.9e-324",
                     "1" + "0" * 400, "-" + "9" * 4000, "9" * 5000, "NaN", "Infinity"]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
ESCAPES = ["\\ud800", "\\uDFFF", "\\ud83d\\ude00", "\\ud83d", "\\u0000", "\\n", "\\\\", "\\\""]


def _string(parts: list[str]) -> str:
    return '"' + "".join(p if p in ESCAPES else json.dumps(p)[1:-1] for p in parts) + '"'


JSON_STRING = st.lists(st.one_of(st.sampled_from(ESCAPES), st.text(CHARS, max_size=10)),
                       max_size=5).map(_string)
SCALARS = st.one_of(NUMBERS, JSON_STRING, st.sampled_from(["true", "false", "null"]))


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
    st.lists(st.tuples(JSON_STRING, inner), max_size=4).map(_object)), max_leaves=12)
DEEP = st.tuples(st.integers(1, 3000), st.sampled_from(["[", '{"a":'])).map(
    lambda nd: nd[1] * nd[0] + "1" + ("]" if nd[1] == "[" else "}") * nd[0])
ANY_JSON = st.one_of(JSON, DEEP)
BYTES = st.one_of(st.binary(max_size=200), ANY_JSON.map(lambda t: t.encode("utf-8", "replace")),
                  TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))

NAMES = st.one_of(st.sampled_from([n for s in registry.schemes().values() for n in s.headers]
                                  + ["SVIX-ID", "Webhook-Signature", "x-other", ""]), TEXT)
HEADERS = st.lists(st.tuples(NAMES, TEXT), max_size=6)
SECRETS = st.lists(st.one_of(st.just(WHSEC), st.just("hex-secret"), TEXT), max_size=3)
CLOCKS = st.one_of(st.just(float(NOW)), st.floats(), st.integers(-10**12, 10**12).map(float))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str]], list[str], str]:
    """A delivery signed correctly, then with headers added, replaced or dropped at random."""
    scheme = draw(st.sampled_from(sorted(registry.schemes())))
    body = draw(BYTES)
    secret = WHSEC if scheme in ("svix", "standard-webhooks") else "hex-secret"
    headers = sign(scheme, secret, body, msg_id=draw(st.sampled_from(["msg_1", "m"])),
                   timestamp=NOW)
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(headers)))
        action = draw(st.sampled_from(["insert", "replace", "drop"]))
        if action == "insert" or index == len(headers):
            headers.insert(index, (draw(NAMES), draw(TEXT)))
        elif action == "replace":
            headers[index] = (headers[index][0], draw(TEXT))
        else:
            del headers[index]
    return body, headers, [*draw(SECRETS), secret], scheme


# --- signing and diagnosis ----------------------------------------------------------------------


@RUN
@given(delivery=deliveries(), now=CLOCKS, tolerance=st.integers(0, 10**9),
       provider=st.one_of(st.none(), st.sampled_from([*registry.names(), "nope"])),
       forced=st.one_of(st.none(), st.sampled_from([*registry.schemes(), "nope"])))
def test_verify_and_diagnose_never_raise(delivery: tuple[bytes, list[tuple[str, str]],
                                                          list[str], str],
                                         now: float, tolerance: int, provider: str | None,
                                         forced: str | None) -> None:
    """verify and diagnose answer every delivery, clock and secret with a verdict."""
    body, headers, secrets, _ = delivery
    verdict = verify(body, headers, secrets, now=now, tolerance=tolerance, scheme=forced,
                     provider=provider)
    assert verdict.valid is (verdict.reason is None)
    detect_scheme(headers, provider)
    diagnose(verdict, body, secrets, now, tolerance)
    if verdict.scheme in registry.schemes():
        assert not signature_matches(verdict.scheme, [b"\0" * 32], verdict.received)


@RUN
@given(scheme=st.sampled_from(sorted(registry.schemes())), headers=HEADERS, secret=TEXT, body=BYTES,
       msg_id=TEXT, timestamp=st.integers(-10**15, 10**15))
def test_the_signing_helpers_raise_only_their_documented_errors(
        scheme: str, headers: list[tuple[str, str]], secret: str, body: bytes, msg_id: str,
        timestamp: int) -> None:
    """parse_signature: KeyError/ValueError; scheme_key, sign, signed_content: ValueError."""
    with contextlib.suppress(KeyError, ValueError):
        parse_signature(scheme, headers)
    try:
        key = scheme_key(scheme, secret)
        digest(key, signed_content(scheme, body, msg_id, timestamp))
        sign(scheme, secret, body, msg_id=msg_id, timestamp=timestamp)
    except ValueError:
        pass
    index = index_headers(headers)
    for name, _ in headers:
        header_value(headers, name)
        header_value(index, name.lower())


# --- captures -----------------------------------------------------------------------------------


VALID_RECORD = {'"v"': "1", '"id"': '"dlv_1"', '"received_at"': '"2026-09-21T14:13:21.000000Z"',
                '"method"': '"POST"', '"path"': '"/hooks"', '"headers"': '[["a","b"]]',
                '"body"': '"{}"', '"body_base64"': "null", '"remote"': '"127.0.0.1"',
                '"response"': '{"status":200,"ms":1.5}',
                '"verification"': '{"scheme":"svix","valid":true,"reason":null}'}


@st.composite
def capture_lines(draw: st.DrawFn) -> str | bytes:
    """A valid capture record with hostile values in some fields, or any text or bytes."""
    field = st.one_of(JSON_STRING, ANY_JSON)
    hostile = {
        '"headers"': st.one_of(st.lists(st.one_of(
            st.tuples(JSON_STRING, JSON_STRING).map(lambda p: f"[{p[0]},{p[1]}]"), ANY_JSON),
            max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"), ANY_JSON),
        '"body"': st.one_of(JSON_STRING, st.just("null")),
        '"body_base64"': st.one_of(
            st.binary(max_size=20).map(lambda b: json.dumps(base64.b64encode(b).decode())),
            field),
        '"response"': st.one_of(st.tuples(NUMBERS, NUMBERS).map(
            lambda p: f'{{"status":{p[0]},"ms":{p[1]}}}'), field),
        '"verification"': st.one_of(st.tuples(JSON_STRING, JSON_STRING).map(
            lambda p: f'{{"scheme":{p[0]},"valid":true,"reason":{p[1]}}}'), field),
    }
    changed = draw(st.sets(st.sampled_from(sorted(VALID_RECORD)), max_size=3))
    pairs = [(k, draw(hostile.get(k, field)) if k in changed else v)
             for k, v in VALID_RECORD.items()]
    record = _object(pairs)
    return draw(st.one_of(st.just(record), st.just(record.encode("utf-8", "surrogatepass")),
                          TEXT, BYTES))


@RUN
@given(line=capture_lines(), secrets=SECRETS)
def test_any_capture_line_is_read_or_reported(line: str | bytes, secrets: list[str]) -> None:
    """parse_capture never raises; a Capture it returns is written back and read back equal,
    and verifies (with any secret) without raising."""
    item = parse_capture(line, 7)
    [again] = list(read_captures([line])) or [item]
    assert type(again) is type(item)
    if isinstance(item, Capture):
        written = item.to_json()
        written.encode("utf-8")  # the capture file is UTF-8: writing never fails
        assert parse_capture(written, 7) == item
        verify(item.body, item.headers, secrets, now=item.received_epoch)


@RUN
@given(text=st.one_of(TEXT, JSON_STRING))
def test_parse_timestamp_raises_only_value_error(text: str) -> None:
    """A received_at or --now that is not a moment is a ValueError."""
    with contextlib.suppress(ValueError):
        parse_timestamp(text)


# --- EventBus frames ----------------------------------------------------------------------------

OPS = st.sampled_from(['"event"', '"ready"', '"gap"', '"error"', '"pong"', '"hello"',
                       '"update"', '"ping"', '"other"'])


@st.composite
def frame_texts(draw: st.DrawFn) -> str | bytes:
    """A frame with each known field at hostile values, or any text (valid Unicode, as a
    WebSocket delivers it) or bytes."""
    keys = ["id", "event", "accountId", "ts", "data", "session", "subscribe", "filter",
            "resumed", "last", "after", "reason", "code", "message", "retryAfter", "t",
            "apiKey", "wsToken", "resume", "client"]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=8))
    pairs = [('"op"', draw(OPS))] + [(f'"{k}"', draw(ANY_JSON)) for k in chosen]
    if draw(st.booleans()):
        data = draw(st.lists(st.tuples(JSON_STRING, ANY_JSON), max_size=4).map(_object))
        pairs += [('"id"', '"e1"'), ('"event"', '"tip"'), ('"accountId"', '"1"'),
                  ('"ts"', '"2026-11-22T10:30:00.000Z"'), ('"data"', data)]
    text = _object(pairs)
    unicode = TEXT.map(lambda t: t.encode("utf-8", "replace").decode("utf-8"))  # as received
    return draw(st.one_of(st.just(text), unicode, st.binary(max_size=50), ANY_JSON))


@RUN
@given(text=frame_texts())
def test_any_frame_decodes_to_a_value_that_prints_and_encodes(text: str | bytes) -> None:
    """decode never raises, and what it decodes encodes again (and back equal), an event's
    flat form as UTF-8 JSON too: so listen can always print and forward it."""
    for decode in (frames.decode_server, frames.decode_client):
        frame = decode(text)
        if isinstance(frame, (frames.Malformed, frames.Unknown)):
            escaped = frame.reason if isinstance(frame, frames.Malformed) else frame.op
            if isinstance(frame, frames.Malformed):
                escaped.encode("utf-8")  # a reason is printable
            continue
        encoded = frames.encode(frame)
        encoded.encode("utf-8")
        assert decode(encoded) == frame
        if isinstance(frame, frames.Event):
            flat = json.dumps(frame.flat(), ensure_ascii=False, allow_nan=False)
            flat.encode("utf-8")


@RUN
@given(values=st.lists(st.one_of(TEXT, st.floats(), st.integers()), min_size=6, max_size=6),
       subscribe=st.lists(TEXT, max_size=3),
       accounts=st.one_of(st.none(), st.lists(TEXT, max_size=3)))
def test_encode_raises_only_value_error_and_matches_never(values: list[Any],
                                                          subscribe: list[str],
                                                          accounts: list[str] | None) -> None:
    """encode of any values: a frame or ValueError (NaN, Infinity, a lone surrogate)."""
    a, b, c, d, e = (str(v) for v in values[:5])
    for frame in (frames.Event(a, b, c, d, {e: values[5]}), frames.Ping(values[0]),
                  frames.Hello(a, b, tuple(subscribe), tuple(accounts or ()), c, d),
                  frames.ErrorFrame(a, b, values[2] if isinstance(values[2], float) else None)):
        with contextlib.suppress(ValueError):
            frames.encode(frame).encode("utf-8")
    frames.matches(a, b, subscribe, accounts)


# --- command-line input: headers, payloads, catalogue, secrets, config --------------------------


@RUN
@given(line=TEXT)
def test_parse_header_line_raises_only_value_error(line: str) -> None:
    """A --header flag is a pair or a ValueError saying why not."""
    try:
        name, value = parse_header_line(line)
    except ValueError:
        return
    (name + value).encode("utf-8")


EVENTS = [("tip.received", "ofapi"), ("connection.created", "ofauth"), ("tip", "eventbus"),
          ("messages.received", "onlyfansapi")]


@RUN
@given(assignments=st.lists(st.tuples(TEXT, st.one_of(ANY_JSON, TEXT)), max_size=4),
       data=st.one_of(st.none(), ANY_JSON), event=st.sampled_from(EVENTS), secret=TEXT,
       scheme=st.one_of(st.none(), TEXT, st.sampled_from(sorted(registry.schemes()))),
       envelope=st.one_of(st.none(), TEXT))
def test_payloads_raise_only_input_error_and_always_encode(
        assignments: list[tuple[str, str]], data: str | None, event: tuple[str, str],
        secret: str, scheme: str | None, envelope: str | None) -> None:
    """--set, --data (as read_data decodes it), --envelope, --scheme and any secret: a signed
    delivery or an InputError, and every payload built encodes."""
    kind = find(*event)
    try:
        overrides = [parse_assignment(f"{path}={value}") for path, value in assignments]
    except InputError:
        overrides = []
    fields = None
    if data is not None:  # what shells.triggering.read_data accepts
        try:
            decoded = json.loads(data, parse_constant=reject_constant, parse_float=finite_float)
        except (ValueError, RecursionError):
            decoded = None
        ok = isinstance(decoded, dict) and problem(decoded, surrogates=False) is None
        fields = decoded if ok else None
    stamp = Stamp("evt_1", NOW)
    try:
        payload = build_payload(kind, stamp, envelope=envelope, data=fields, overrides=overrides)
    except InputError:
        return
    assert json.loads(encode(payload)) is not None
    for path, value in overrides:
        with contextlib.suppress(InputError):
            apply_override(payload, path, value)
    try:
        chosen = registry.provider(kind.provider).signing_scheme(scheme).name
        signed_delivery(kind, stamp, scheme=chosen, secret=secret, user_agent="t",
                        envelope=envelope, data=fields, overrides=overrides)
    except InputError:
        pass


@RUN
@given(name=TEXT, provider=st.one_of(st.none(), st.sampled_from(registry.names()), TEXT),
       secret=TEXT, text=TEXT, others=st.lists(TEXT, max_size=3))
def test_event_names_and_secrets_from_anywhere(name: str, provider: str | None, secret: str,
                                               text: str, others: list[str]) -> None:
    """find: an event or InputError; provider_of, mask and redact never raise."""
    with contextlib.suppress(InputError):
        find(name, provider)
    provider_of(name)
    masking.mask(secret)
    masking.redact(text, [secret, *others])


TOML_SCALARS = st.one_of(TEXT, st.integers(), st.floats(), st.booleans())
TABLES = st.recursive(
    st.dictionaries(TEXT, TOML_SCALARS, max_size=3),
    lambda inner: st.dictionaries(TEXT, st.one_of(inner, TOML_SCALARS,
                                                  st.lists(TOML_SCALARS, max_size=3)),
                                  max_size=3),
    max_leaves=10)


@RUN
@given(table=TABLES, key=st.one_of(TEXT, st.sampled_from(sorted(config_table.known_keys()))),
       value=TOML_SCALARS)
def test_config_tables_raise_only_input_error(table: dict[str, Any], key: str,
                                              value: Any) -> None:
    """get/set/unset with any key on any table: a result or InputError; leaves of any table
    a config file can hold never raise."""
    config_table.is_secret(key)
    list(config_table.leaves(table))
    table = copy.deepcopy(table)
    try:
        config_table.split_key(key)
        config_table.get_key(table, key)
        config_table.set_key(table, key, value)
        config_table.unset_key(table, key)
    except InputError:
        pass
