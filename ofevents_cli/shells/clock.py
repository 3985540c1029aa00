"""The clock and id source the pure core is handed (the core never reads them itself)."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> float:
    """Unix seconds, wall clock."""
    return time.time()


# two Crockford characters per 10 bits: 13 table look-ups instead of 26 divisions
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]


def new_id(prefix: str) -> str:
    """A sortable unique id, `prefix_` + 26 Crockford base32 chars (48-bit ms time, 80 random)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    pairs = [_PAIRS[(value >> shift) & 1023] for shift in range(120, -10, -10)]
    return f"{prefix}_{''.join(pairs)}"
