"""Secrets are only ever shown masked, so output, logs and captures can be shared safely."""

from __future__ import annotations

from collections.abc import Iterable

KNOWN_PREFIXES = ("whsec_", "sk_", "bfl_", "ws_")


def mask(secret: str) -> str:
    """`whsec_MfKQ…aSw` -> `whsec_…aSw`: a known prefix and the last three characters at most."""
    prefix = next((p for p in KNOWN_PREFIXES if secret.startswith(p)), "")
    rest = secret[len(prefix) :]
    tail = rest[-3:] if len(rest) >= 12 else ""
    return f"{prefix}…{tail}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in `text` by its mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text
