"""Fuzz the core verifier: correctly signed deliveries, mutated, checked against an oracle.

Run (from a venv with `.[test]` installed; about 1,000,000 deliveries take a few minutes on two
cores):

    .venv/bin/python bench/fuzz.py --seed 1 --count 1000000

Each delivery is signed with one of the registry's schemes (`core/providers.py`, in turn), with the
scheme's real secret (one in 20 with an attacker's secret instead), then gets up to three
mutations: bytes of the body, of the id, timestamp and signature headers (flipped, inserted,
deleted, truncated), Unicode (spaces, zero-width and control characters, lone surrogates,
non-ASCII digits), case changes, duplicated, dropped and renamed headers, timestamps moved or
written differently, signatures re-encoded, joined with others, or cut from another delivery.
Then, all in this process and with no network:

- `crashes`: the core `verify` raised (it must answer every input with a verdict).
- `false accepts`: `verify` said valid, but the oracle, which knows what was signed, says no: the
  body, the id and the timestamp text are not byte for byte what was signed with the real
  secret, or the timestamp is more than 300 s from the clock.
- `disagreements` with the official `svix` and `standardwebhooks` verifiers, for the Svix and
  Standard Webhooks deliveries, by class. Both libraries read the wall clock: here it is pinned
  to the moment ofevents verifies at, so tolerance is compared exactly (both accept 300 s,
  refuse 301 s). They get the headers as a dict of the first value of each name, lower-cased,
  as ofevents reads them. Classes marked "by design" are documented in docs/signatures.md.

Deliveries are generated in blocks of 10,000, each from its own seed, so the figures for a seed
and count are the same whatever `--workers`. Exit status 1 if any crash, false accept or
unexplained disagreement.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.signing import DEFAULT_TOLERANCE, sign, verify

NOW = 1_790_000_000
BLOCK = 10_000
WHSEC = "whsec_" + base64.b64encode(b"fuzz-real-signing-key-32-bytes!!").decode()
WHSEC_ATTACKER = "whsec_" + base64.b64encode(b"fuzz-attacker-key-not-the-real!!").decode()
TEXT_SECRET = "fuzz-real-hex-secret"
TEXT_ATTACKER = "fuzz-attacker-secret"
SVIX = ("svix", "standard-webhooks")
ORDER = tuple(sorted(registry.schemes()))
# the schemes whose signed content and key are the same: a renamed header is the same delivery
FAMILY = {"svix": "svix", "standard-webhooks": "svix", "ofapi": "body", "ofapi-hex": "body",
          "onlyfansapi": "body",
          "ofauth-signature": "ofauth"}
ID_TS = {"svix": ("svix-id", "svix-timestamp"),
         "standard-webhooks": ("webhook-id", "webhook-timestamp")}
ODD = ["\xa0", "\u2003", "\u200b", "\ufeff", "\x00", "\x1c", "\t", " ", "\n", "\ud800", "\udfff",
       "é", "\u0661", "\uff11", ",", "=", "v1,", "  "]


def _secret(scheme: str, attacker: bool) -> str:
    if scheme in SVIX:
        return WHSEC_ATTACKER if attacker else WHSEC
    return TEXT_ATTACKER if attacker else TEXT_SECRET


def _bodies(rng: random.Random) -> list[bytes]:
    """A pool of bodies: realistic JSON (ASCII and not), empty, and bytes that are not UTF-8."""
    pool = []
    for n in range(60):
        payload = {"type": rng.choice(["tip.received", "connection.created", "users.typing"]),
                   "id": f"evt_{n}", "data": {"amount": rng.randint(1, 500), "n": n,
                                              "text": rng.choice(["hi", "🔥 merci", "a\\nb", ""])}}
        pool.append(json.dumps(payload, separators=(",", ":"), ensure_ascii=n % 2 == 0).encode())
    pool += [b"", b"{}", b"\xff\xfe\x00", bytes(range(256)), "é".encode("latin-1"),
             b'{"a":"\\ud800"}', b'{"n":1e999}']
    return pool


@dataclass
class Delivery:
    """One delivery: what was signed (the oracle's truth), then what is sent after mutation."""

    scheme: str
    body: bytes
    msg_id: str
    timestamp: int
    forged: bool
    headers: list[tuple[str, str]]
    sent: bytes = b""
    labels: list[str] = field(default_factory=list)
    signed: list[tuple[bytes, str, int]] = field(default_factory=list)  # with the real secret


def _signature_names(d: Delivery) -> list[int]:
    names = {n.lower() for n in registry.scheme(d.scheme).headers}
    return [i for i, (k, _) in enumerate(d.headers) if k.lower() in names] or [0]


def _pick(rng: random.Random, d: Delivery) -> int:
    return rng.choice(_signature_names(d))


def _set(d: Delivery, index: int, value: str) -> None:
    d.headers[index] = (d.headers[index][0], value)


def _edit_text(rng: random.Random, text: str) -> str:
    where = rng.randrange(len(text) + 1)
    kind = rng.randrange(4)
    if kind == 0 and text:
        i = min(where, len(text) - 1)
        return text[:i] + chr((ord(text[i]) + rng.randint(1, 60)) % 0x110000) + text[i + 1:]
    if kind == 1:
        return text[:where] + rng.choice(ODD) + text[where:]
    if kind == 2:
        return text[:where] + text[where + 1:]
    return text[:where]


def m_body_bytes(rng: random.Random, d: Delivery) -> None:
    body = bytearray(d.sent)
    where = rng.randrange(len(body) + 1)
    kind = rng.randrange(5)
    if kind == 0 and body:
        i = min(where, len(body) - 1)
        body[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        body.insert(where, rng.randrange(256))
    elif kind == 2 and body:
        del body[min(where, len(body) - 1)]
    elif kind == 3:
        del body[where:]
    else:
        body += rng.choice([b"\n", b" ", b"\r\n", d.sent])
    d.sent = bytes(body)


def m_body_text(rng: random.Random, d: Delivery) -> None:
    try:
        value = json.loads(d.sent)
    except ValueError:
        d.sent = d.sent.swapcase()
        return
    forms = [dict(indent=2), dict(sort_keys=True), dict(separators=(",", ":")),
             dict(ensure_ascii=False)]
    d.sent = json.dumps(value, **rng.choice(forms)).encode("utf-8", "surrogatepass")


def m_value(rng: random.Random, d: Delivery) -> None:
    i = _pick(rng, d)
    _set(d, i, _edit_text(rng, d.headers[i][1]))


def m_value_case(rng: random.Random, d: Delivery) -> None:
    i = _pick(rng, d)
    _set(d, i, rng.choice([str.upper, str.lower, str.swapcase])(d.headers[i][1]))


def m_value_spacing(rng: random.Random, d: Delivery) -> None:
    i = _pick(rng, d)
    odd = rng.choice(ODD)
    value = d.headers[i][1]
    _set(d, i, rng.choice([odd + value, value + odd, odd + value + odd, ""]))


def m_header_drop(rng: random.Random, d: Delivery) -> None:
    del d.headers[_pick(rng, d)]


def m_header_duplicate(rng: random.Random, d: Delivery) -> None:
    i = _pick(rng, d)
    name, value = d.headers[i]
    copy = (name, _edit_text(rng, value) if rng.random() < 0.7 else value)
    d.headers.insert(i + rng.randrange(2), copy)


def m_header_name(rng: random.Random, d: Delivery) -> None:
    i = _pick(rng, d)
    name, value = d.headers[i]
    renames = {"svix-": "webhook-", "webhook-": "svix-", "x-ofapi-signature": "signature",
               "signature": "x-ofapi-signature"}
    lower = name.lower()
    for old, new in renames.items():
        if lower.startswith(old) and rng.random() < 0.5:
            d.headers[i] = (new + lower[len(old):], value)
            return
    d.headers[i] = ("".join(c.upper() if rng.random() < 0.5 else c for c in name), value)


def _timestamp_index(d: Delivery) -> tuple[int, str] | None:
    if d.scheme in SVIX:
        name = ID_TS[d.scheme][1]
        return next(((i, v) for i, (k, v) in enumerate(d.headers) if k.lower() == name), None)
    return None


def m_timestamp(rng: random.Random, d: Delivery) -> None:
    """Move the timestamp, or write the same one differently (the signature is not redone)."""
    found = _timestamp_index(d)
    ts = str(d.timestamp)
    forms = [str(d.timestamp + rng.choice([1, -1, 300, -300, 301, -301, 10**6])), "0" + ts,
             "+" + ts, ts + ".0", " " + ts, ts + " ", f"{d.timestamp:e}", "1_" + ts[1:],
             "".join(chr(0x660 + int(c)) for c in ts), ts[:-1], ts + "0", "-" + ts, "", "9" * 40]
    new = rng.choice(forms)
    if found is not None:
        _set(d, found[0], new)
    elif d.scheme == "ofauth-signature":
        i = _pick(rng, d)
        _set(d, i, d.headers[i][1].replace(f"t={ts}", f"t={new}", 1))
    else:
        m_value(rng, d)


def m_signature(rng: random.Random, d: Delivery) -> None:
    """Re-encode, join or replace the signature value."""
    i = _pick(rng, d)
    value = d.headers[i][1]
    other = base64.b64encode(rng.randbytes(32)).decode()
    choices: list[Callable[[str], str]] = [
        lambda v: f"v1,{other} {v}", lambda v: f"{v} v1,{other}", lambda v: f"{v}  {v}",
        lambda v: v.replace("v1,", "v2,", 1), lambda v: v.replace("v1,", "V1,", 1),
        lambda v: v.replace("v1,", "", 1), lambda v: v.rstrip("="),
        lambda v: v.replace("+", "-").replace("/", "_"), lambda v: v + "\n",
        lambda v: v[:10] + "!" + v[10:], lambda v: v.replace("sha256=", "SHA256=", 1),
        lambda v: v.replace("sha256=", "", 1), lambda v: v.upper(),
        lambda v: v + ",v1=" + rng.randbytes(32).hex(), lambda v: f"v1,{other}\xa0{v}",
        lambda v: v.replace(",", " , ", 1), lambda v: f"t={d.timestamp}, " + v,
    ]
    _set(d, i, rng.choice(choices)(value))


def m_cut_and_paste(rng: random.Random, d: Delivery) -> None:
    """The real signature headers of another delivery (another body, id or time), pasted in."""
    body = d.body + b" " if rng.random() < 0.5 else d.body
    msg_id = d.msg_id + "x" if rng.random() < 0.5 else d.msg_id
    ts = d.timestamp + rng.choice([0, 1, -1, 3600])
    if (body, msg_id, ts) == (d.body, d.msg_id, d.timestamp):
        body = b"[" + body
    pasted = sign(d.scheme, _secret(d.scheme, False), body, msg_id=msg_id, timestamp=ts)
    d.signed.append((body, msg_id, ts))
    names = {n.lower() for n in registry.scheme(d.scheme).headers}
    if rng.random() < 0.5:  # the whole set
        d.headers = [h for h in d.headers if h[0].lower() not in names] + pasted
    else:  # one header of it, in place of ours
        name, value = rng.choice(pasted)
        d.headers = [(k, value if k.lower() == name.lower() else v) for k, v in d.headers]


MUTATIONS: tuple[Callable[[random.Random, Delivery], None], ...] = (
    m_body_bytes, m_body_bytes, m_body_text, m_value, m_value, m_value_case, m_value_spacing,
    m_header_drop, m_header_duplicate, m_header_name, m_timestamp, m_timestamp, m_signature,
    m_signature, m_cut_and_paste)


def make(rng: random.Random, number: int, bodies: list[bytes]) -> Delivery:
    """A delivery signed with scheme number % 5, its timestamp mostly within tolerance."""
    scheme = ORDER[number % len(ORDER)]
    body = rng.choice(bodies)
    msg_id = rng.choice(["msg_", "evt_", "m"]) + "".join(rng.choices("0123456789abcdef", k=12))
    drift = rng.choice([rng.randint(-250, 250)] * 8 + [300, -300, 301, -301, -7200])
    forged = rng.random() < 0.05
    headers = [("content-type", "application/json"), ("user-agent", "fuzz/1")]
    headers += sign(scheme, _secret(scheme, forged), body, msg_id=msg_id, timestamp=NOW + drift)
    rng.shuffle(headers)
    d = Delivery(scheme, body, msg_id, NOW + drift, forged, headers, body,
                 signed=[] if forged else [(body, msg_id, NOW + drift)])
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        if not d.headers:  # every header dropped: nothing left to mutate but the body
            break
        mutation = rng.choice(MUTATIONS)
        mutation(rng, d)
        d.labels.append(mutation.__name__[2:])
    return d


# --- the oracle and the official libraries ------------------------------------------------------


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _ofauth_t(value: str | None) -> str | None:
    """The first `t=` item of an OFAuth-Signature value (items are comma-separated, spaces and
    tabs around an item or its `=` do not count)."""
    for item in (value or "").split(","):
        key, sep, val = item.strip(" \t").partition("=")
        if sep and key.strip(" \t") == "t":
            return val.strip(" \t")
    return None


def authentic(d: Delivery, scheme: str | None) -> bool:
    """Whether accepting the delivery under `scheme` is right: what that scheme covers (body, id
    and timestamp text as received) is, byte for byte, something signed with the real secret,
    and its time is within tolerance."""
    if scheme is None or FAMILY[scheme] != FAMILY[d.scheme]:
        return False
    if FAMILY[scheme] == "body":
        return any(body == d.sent for body, _, _ in d.signed)
    if scheme in SVIX:
        id_name, ts_name = ID_TS[scheme]
        msg_id, stamp = _first(d.headers, id_name), _first(d.headers, ts_name)
    else:
        msg_id, stamp = None, _ofauth_t(_first(d.headers, "ofauth-signature"))
    return any(body == d.sent and (msg_id is None or msg_id == signed_id) and stamp == str(ts)
               and abs(NOW - ts) <= DEFAULT_TOLERANCE for body, signed_id, ts in d.signed)


def _pin_official_clock() -> None:
    """The libraries call datetime.now(tz=timezone.utc): make that NOW, as ofevents is given."""
    from standardwebhooks import webhooks

    class Pinned(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(NOW, tz=tz or timezone.utc)

    webhooks.datetime = Pinned  # type: ignore[misc]


def official(d: Delivery) -> dict[str, str]:
    """What the official libraries say: `ok`, `rejected`, or the exception they raised. svix
    reads svix-* and webhook-* headers, so it checks both schemes; standardwebhooks reads
    webhook-* only, so it checks standard-webhooks deliveries."""
    from standardwebhooks.webhooks import Webhook as StandardWebhook
    from standardwebhooks.webhooks import WebhookVerificationError
    from svix.webhooks import Webhook as SvixWebhook

    given: dict[str, str] = {}
    for name, value in d.headers:
        given.setdefault(name.lower(), value)
    said = {}
    libraries: list[tuple[str, Callable[[], Any]]] = [
        ("svix", lambda: SvixWebhook(WHSEC).verify(d.sent, dict(given)))]
    if d.scheme == "standard-webhooks":
        libraries.append(("standardwebhooks", lambda: StandardWebhook(WHSEC).verify(
            d.sent, dict(given), json_parse=False)))
    for label, check in libraries:
        try:
            check()
        except WebhookVerificationError:
            said[label] = "rejected"
        except Exception as exc:  # they raise ValueError, binascii.Error, UnicodeError too
            said[label] = type(exc).__name__
        else:
            said[label] = "ok"
    return said


def _signature_header(d: Delivery, library: str) -> str:
    """The signature header value the library used."""
    svix = _first(d.headers, "svix-signature") if library == "svix" else None
    return svix if svix is not None else _first(d.headers, "webhook-signature") or ""


def _lenient_only(value: str, expected: str | None) -> bool:
    """Whether a v1 token decodes to the expected MAC only with the libraries' lenient base64
    (characters outside the alphabet dropped), its text not being the MAC's."""
    if expected is None:
        return False
    for token in value.split(" "):
        parts = token.split(",")
        if len(parts) != 2 or parts[0] != "v1" or parts[1] == expected:
            continue
        try:
            if base64.b64decode(parts[1]) == base64.b64decode(expected):
                return True
        except ValueError:
            continue
    return False


def _raises_on_a_token(value: str) -> bool:
    """Whether the libraries' token loop raises on some token: no comma or two, bad base64."""
    for token in value.split(" "):
        parts = token.split(",")
        if len(parts) != 2:
            return True
        try:
            base64.b64decode(parts[1])
        except ValueError:
            return True
    return False


def classify(d: Delivery, ours: Any, library: str, said: str) -> tuple[str, bool]:
    """The class of a disagreement, and whether it is by design (docs/signatures.md)."""
    reason = ours.reason.value if ours.reason is not None else None
    value = _signature_header(d, library)
    if said == "ok" and reason == "malformed_header" and "timestamp" in ours.detail:
        return ("timestamp written other than its digits (' 1790000000', '+1790000000', "
                "'1790000000.0', '1_790000000', non-ASCII digits): the libraries read it with "
                "float(); ofevents refuses it", True)
    if said == "ok" and reason == "mismatch" and _lenient_only(value, ours.expected):
        return ("signature text with characters outside base64 (`v1,ab!c…`, a newline): the "
                "libraries' base64 decoder drops them; ofevents compares the exact text", True)
    svix_names = [_first(d.headers, f"svix-{n}") is not None for n in ("id", "timestamp",
                                                                       "signature")]
    if library == "svix" and any(svix_names) and not all(svix_names):
        return ("svix-* and webhook-* headers mixed: the svix library takes each of the three "
                "from either set; ofevents reads the set its signature header belongs to", True)
    if library == "standardwebhooks" and _first(d.headers, "svix-signature") is not None:
        return ("a svix-signature header next to the webhook-* ones: ofevents verifies the "
                "svix-* set (it detects svix-signature first); standardwebhooks reads webhook-*",
                True)
    if said == "UnicodeDecodeError" and ours.valid:
        return ("a body that is not UTF-8: the libraries decode it and raise; ofevents verifies "
                "the bytes", True)
    if said in ("ValueError", "Error") and ours.valid and _raises_on_a_token(value):
        return ("a signature token that is empty, has no comma or two (doubled spaces, "
                "`v1,a,b`), or is not padded base64, before the matching one: the libraries "
                "raise on it; ofevents skips it and checks the others", True)
    return (f"ofevents {'accepts' if ours.valid else reason}, library: {said}", False)


# --- running ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Figures for one block (summed over blocks)."""

    deliveries: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    authentic: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    false_accepts: Counter[str] = field(default_factory=Counter)
    compared: Counter[str] = field(default_factory=Counter)
    disagreements: Counter[tuple[str, str, bool]] = field(default_factory=Counter)
    library_raised: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        """Sum another block's figures into this one."""
        for name in ("deliveries", "accepted", "authentic", "crashes", "false_accepts",
                     "compared", "disagreements", "library_raised"):
            getattr(self, name).update(getattr(other, name))
        for key, text in other.examples.items():
            self.examples.setdefault(key, text)


def _example(d: Delivery) -> str:
    shown = [h for h in d.headers if h[0].lower() not in ("content-type", "user-agent")]
    return f"{d.scheme} mutations={d.labels} body={d.sent[:60]!r} headers={shown}"


def run_block(seed: int, block: int, count: int) -> Tally:
    """`count` deliveries of one block, from its own seed."""
    _pin_official_clock()
    rng = random.Random(f"{seed}:{block}")
    bodies = _bodies(random.Random(seed))
    tally = Tally()
    for number in range(block * BLOCK, block * BLOCK + count):
        d = make(rng, number, bodies)
        tally.deliveries[d.scheme] += 1
        try:
            ours = verify(d.sent, d.headers, [_secret(d.scheme, False)], now=NOW)
        except Exception as exc:
            tally.crashes[d.scheme] += 1
            tally.examples.setdefault(f"crash {type(exc).__name__}", _example(d))
            continue
        right = authentic(d, ours.scheme)
        tally.authentic[d.scheme] += right
        tally.accepted[d.scheme] += ours.valid
        if ours.valid and not right:
            tally.false_accepts[d.scheme] += 1
            tally.examples.setdefault(f"false accept {d.scheme}", _example(d))
        if d.scheme not in SVIX:
            continue
        for library, said in official(d).items():
            tally.compared[library] += 1
            if said not in ("ok", "rejected"):
                tally.library_raised[said] += 1
            if ours.valid == (said == "ok"):
                continue
            kind, by_design = classify(d, ours, library, said)
            tally.disagreements[(library, kind, by_design)] += 1
            if not by_design:
                tally.examples.setdefault(f"unexplained {kind}", _example(d))
    return tally


def report(total: Tally, args: argparse.Namespace, seconds: float) -> int:
    """Print the figures; the exit status."""
    n = sum(total.deliveries.values())
    print(f"ofevents bench/fuzz.py: {n:,} mutated deliveries, seed {args.seed}, "
          f"{args.workers} worker(s), {seconds:.0f} s")
    print(f"{'scheme':<20}{'deliveries':>12}{'accepted':>10}{'authentic':>11}{'crashes':>9}"
          f"{'false accepts':>15}")
    for scheme in ORDER:
        print(f"{scheme:<20}{total.deliveries[scheme]:>12,}{total.accepted[scheme]:>10,}"
              f"{total.authentic[scheme]:>11,}{total.crashes[scheme]:>9,}"
              f"{total.false_accepts[scheme]:>15,}")
    crashes, false = sum(total.crashes.values()), sum(total.false_accepts.values())
    print(f"{'all':<20}{n:>12,}{sum(total.accepted.values()):>10,}"
          f"{sum(total.authentic.values()):>11,}{crashes:>9,}{false:>15,}")
    print("official libraries, on the svix and standard-webhooks deliveries (clock pinned):")
    unexplained = 0
    for library in ("svix", "standardwebhooks"):
        rows = {k: v for k, v in total.disagreements.items() if k[0] == library}
        print(f"  {library}: {total.compared[library]:,} compared, "
              f"{sum(rows.values()):,} disagreements")
        for (_, kind, by_design), count in sorted(rows.items(), key=lambda kv: -kv[1]):
            unexplained += 0 if by_design else count
            print(f"    {count:>9,}  {'by design' if by_design else 'UNEXPLAINED'}: {kind}")
    if total.library_raised:
        raised = ", ".join(f"{k} {v:,}" for k, v in total.library_raised.most_common())
        print(f"  the libraries raised something other than WebhookVerificationError: {raised}")
    for key, text in sorted(total.examples.items()):
        print(f"example, {key}: {text}")
    return 1 if crashes or false or unexplained else 0


def main() -> int:
    """Parse the flags, run the blocks on `--workers` processes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="deliveries (1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes (2, or fewer CPUs)")
    args = parser.parse_args()
    sizes = [min(BLOCK, args.count - start) for start in range(0, args.count, BLOCK)]
    started = time.monotonic()
    total = Tally()
    if args.workers <= 1:
        for block, size in enumerate(sizes):
            total.add(run_block(args.seed, block, size))
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            for tally in pool.map(run_block, [args.seed] * len(sizes), range(len(sizes)), sizes):
                total.add(tally)
    return report(total, args, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
