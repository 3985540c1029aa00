"""Reference webhook endpoints on 127.0.0.1 for `check`'s tests.

Each verifies with an independent implementation: the official `svix` and `standardwebhooks`
libraries, or the seed documents' own verification code ported line by line (the seed is named
at each port). Behaviours: `correct` (every case passes), `unchecked` (never checks a
signature), `reserialising` (verifies `json.dumps(request.json)`, Python's usual mistake),
`compact` (verifies the compact re-encoding, like `JSON.stringify(req.body)`), `crashy`
(verifies, but any surprise, a repeated id included, is an unhandled error: a 500).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError as StandardError
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError as SvixError

Verifier = Callable[[bytes, dict[str, str]], bool]  # (raw body, lower-cased headers) -> valid
LIMIT = 256 * 1024  # the correct endpoint's body limit


def svix_verifier(secret: str) -> Verifier:
    """The official Svix library."""
    hook = SvixWebhook(secret)

    def verify(body: bytes, headers: dict[str, str]) -> bool:
        try:
            hook.verify(body, headers)
        except (SvixError, ValueError):
            return False
        return True

    return verify


def standard_verifier(secret: str) -> Verifier:
    """The official Standard Webhooks library."""
    hook = StandardWebhook(secret)

    def verify(body: bytes, headers: dict[str, str]) -> bool:
        try:
            hook.verify(body, headers)
        except (StandardError, ValueError):
            return False
        return True

    return verify


_HEX_PAIRS = re.compile(r"(?:[0-9a-fA-F]{2})*")


def ofapi_seed003(secret: str) -> Verifier:
    """Seed 003 (OFAPI webhook integration guide), `verifySignature`, ported from TypeScript."""

    def verify(raw_body: bytes, headers: dict[str, str]) -> bool:
        signature_header = headers.get("x-ofapi-signature")
        if not signature_header:  # if (!signatureHeader) return false;
            return False
        # const [algorithm, providedSignature] = signatureHeader.split("=");
        parts = signature_header.split("=")
        algorithm, provided_signature = parts[0], parts[1] if len(parts) > 1 else ""
        if algorithm != "sha256" or not provided_signature:
            return False
        expected_signature = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
        # Buffer.from(x, "hex") decodes hex pairs up to the first that is not one
        expected = bytes.fromhex(expected_signature)
        match = _HEX_PAIRS.match(provided_signature)
        provided = bytes.fromhex(match.group(0) if match else "")
        if len(expected) != len(provided):
            return False
        return hmac.compare_digest(expected, provided)  # crypto.timingSafeEqual

    return verify


def fans_seed004(secret: str, header: str = "signature") -> Verifier:
    """Seed 004 (OFAPI event reference), the Flask handler's `verify_signature`: a bare-hex
    HMAC-SHA256 of the raw body in `header` (`X-OFAPI-Signature` there; OnlyFansAPI.com's
    `Signature` is the same scheme)."""

    def verify(payload_body: bytes, headers: dict[str, str]) -> bool:
        signature = headers.get(header, "")  # request.headers.get(..., "")
        expected = hmac.new(secret.encode(), payload_body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    return verify


def ofauth_seed001(secret: str, both_ways: bool = True) -> Verifier:
    """Seed 001 (OFAuth Realtime webhooks), "Signature Verification" steps 1-4, with hex as
    docs/providers.md assumes. The seed only rejects deliveries *older* than 5 minutes;
    `both_ways` also rejects ones dated more than 5 minutes ahead."""

    def verify(raw_body: bytes, headers: dict[str, str]) -> bool:
        value = headers.get("ofauth-signature", "")
        # 1. Extracting the timestamp (t) and signature (v1)
        fields = dict(part.strip().partition("=")[::2] for part in value.split(","))
        timestamp, signature = fields.get("t", ""), fields.get("v1", "")
        if not timestamp.isdigit() or not signature:
            return False
        # 2. Rejecting requests older than 5 minutes
        age = time.time() - int(timestamp)
        if age > 300 or (both_ways and age < -300):
            return False
        # 3. Computing an HMAC-SHA256 of {timestamp}.{raw_body} using your signing secret
        signed = timestamp.encode() + b"." + raw_body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        # 4. Comparing the expected signature with a constant-time comparison
        return hmac.compare_digest(expected.encode(), signature.encode())

    return verify


VERIFIERS: dict[str, Callable[[str], Verifier]] = {
    "ofapi": ofapi_seed003,
    "ofapi-hex": lambda secret: fans_seed004(secret, "x-ofapi-signature"),
    "onlyfansapi": fans_seed004,
    "svix": svix_verifier,
    "standard-webhooks": standard_verifier,
    "ofauth-signature": ofauth_seed001,
}


@dataclass
class Endpoint:
    """A running endpoint: its URL and the delivery ids it processed (once each)."""

    url: str
    processed: list[str] = field(default_factory=list)


def _dedupe_key(body: bytes, headers: dict[str, str], payload: object) -> str:
    for name in ("svix-id", "webhook-id"):
        if headers.get(name):
            return headers[name]
    if isinstance(payload, dict) and isinstance(payload.get("id"), str):
        return payload["id"]
    return hashlib.sha256(body).hexdigest()


def _answer(behaviour: str, verify: Verifier, state: Endpoint, body: bytes,
            headers: dict[str, str]) -> int:
    """The status each behaviour answers."""
    if behaviour == "crashy":  # no error handling: every surprise raises (a 500)
        payload = json.loads(body)
        if not verify(body, headers):
            return 401
        key = _dedupe_key(body, headers, payload)
        if key in state.processed:  # a unique index on the id, its violation unhandled
            raise KeyError(f"duplicate key {key}")
        state.processed.append(key)
        return 200
    if behaviour == "correct":
        if len(body) > LIMIT:
            return 413
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return 415
        if not verify(body, headers):
            return 401
    try:
        payload = json.loads(body)
    except ValueError:
        return 400
    if behaviour == "reserialising" and not verify(json.dumps(payload).encode(), headers):
        return 401
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    if behaviour == "compact" and not verify(compact, headers):
        return 401
    key = _dedupe_key(body, headers, payload)
    if key not in state.processed:  # at-least-once: a repeat is acknowledged, not redone
        state.processed.append(key)
    return 200


@contextlib.contextmanager
def endpoint(behaviour: str, verify: Verifier) -> Iterator[Endpoint]:
    """Serve one behaviour on 127.0.0.1:0 at /webhooks until the block ends."""
    state = Endpoint("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                with lock:
                    status = _answer(behaviour, verify, state, body, headers)
            except Exception:  # the crashy handler's unhandled error, as a framework does
                status = 500
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
