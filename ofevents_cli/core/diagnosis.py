"""Why a signature fails: re-verify under the usual mistakes and say which one matches.

The common causes are tried, not guessed: a body re-serialised (compact, pretty, sorted keys),
a trailing newline added or removed, a secret used with/without its `whsec_` prefix or without
base64-decoding, and clock skew.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ofevents_cli.core import providers as registry
from ofevents_cli.core.signing import (
    Reason,
    Verdict,
    digest,
    scheme_key,
    signature_matches,
    signed_content,
)

__all__ = ["Cause", "Variant", "body_variants", "diagnose"]


@dataclass(frozen=True)
class Cause:
    """One mistake that was tried (`tried`), whether the signature matches under it, and advice."""

    name: str
    tried: str
    matched: bool
    advice: str


Variant = tuple[str, str, bytes, str]  # cause name, what was tried, bytes, advice


def _json_variants(body: bytes) -> Iterator[Variant]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return
    forms: tuple[tuple[str, Callable[[object], str]], ...] = (
        ("compact", lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
        ("spaced", lambda v: json.dumps(v, ensure_ascii=False)),
        ("pretty", lambda v: json.dumps(v, indent=2, ensure_ascii=False)),
        ("sorted keys", lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"))),
        ("ASCII-escaped", lambda v: json.dumps(v, separators=(",", ":"))),
        ("spaced, ASCII-escaped", json.dumps),  # Python's json.dumps(request.json)
    )
    seen = {body}
    for label, render in forms:
        try:  # a lone surrogate cannot be UTF-8, so no sender re-encoded to it; nor deep nesting
            candidate = render(value).encode("utf-8")
        except (ValueError, RecursionError):
            continue
        if candidate not in seen:
            seen.add(candidate)
            yield "body_reserialised", f"body re-serialised as {label} JSON", candidate, (
                "the sender signed a re-encoded object, not the raw bytes it sent: sign and "
                "verify the raw request body"
            )


def body_variants(body: bytes) -> Iterator[Variant]:
    """The body as a mistaken signer or verifier may have hashed it instead of the raw bytes."""
    yield from _json_variants(body)
    yield "trailing_newline", "trailing newline added", body + b"\n", (
        "the signer's body ended with a newline the delivered body lacks: sign the exact bytes"
    )
    stripped = body.rstrip(b"\r\n")
    if stripped != body:
        yield "trailing_newline", "trailing newline removed", stripped, (
            "the delivered body gained a trailing newline after signing: send the signed bytes"
        )


def diagnose(
    verdict: Verdict,
    body: bytes,
    secrets: Sequence[str],
    now: float,
    tolerance: int,
) -> list[Cause]:
    """The causes tried for a failed verdict; a matched one is the explanation."""
    scheme = verdict.scheme
    if verdict.valid or scheme is None or verdict.reason in (
        None, Reason.MISSING_HEADER, Reason.MALFORMED_HEADER, Reason.BAD_SECRET,
        Reason.UNSUPPORTED_SCHEME,
    ):  # nothing to try: the verdict's detail already says what is missing
        return []
    if verdict.reason is Reason.TIMESTAMP_OUTSIDE_TOLERANCE and verdict.timestamp is not None:
        skew = now - verdict.timestamp
        where = "behind" if skew > 0 else "ahead of"
        return [Cause("clock_skew", f"timestamp {abs(skew):.0f} s {where} the clock", True,
                      f"the signature is right but the timestamp is {abs(skew):.0f} s {where} "
                      f"the verifying clock (tolerance {tolerance} s): check the clocks, or "
                      "pass --now / --tolerance")]
    causes: list[Cause] = []
    received = verdict.received
    keys: list[bytes] = []
    for secret in secrets:
        try:
            keys.append(scheme_key(scheme, secret))
        except ValueError:
            continue
    for name, tried, candidate, advice in body_variants(body):
        content = signed_content(scheme, candidate, verdict.msg_id, verdict.timestamp)
        hit = signature_matches(scheme, [digest(k, content) for k in keys], received)
        causes.append(Cause(name, tried, hit, advice))
    content = signed_content(scheme, body, verdict.msg_id, verdict.timestamp)
    for secret in secrets:
        for tried, key, advice in registry.scheme(scheme).key_variants(secret):
            hit = signature_matches(scheme, [digest(key, content)], received)
            causes.append(Cause("secret_encoding", tried, hit, advice))
    if not any(c.matched for c in causes):
        causes.append(Cause("unknown", "nothing else", False,
                            "no common mistake explains it: most likely a different secret (was "
                            "it rotated? pass every candidate with --secret) or a body changed "
                            "in transit"))
    return causes
