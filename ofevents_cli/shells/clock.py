"""The clock and id source the pure core is handed (the core never reads them itself)."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> float:
    """Unix seconds, wall clock."""
    return time.time()


def new_id(prefix: str) -> str:
    """A sortable unique id, `prefix_` + 26 Crockford base32 chars (48-bit ms time, 80 random)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
