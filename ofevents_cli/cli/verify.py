"""`ofevents verify` (being built)."""

from __future__ import annotations

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.errors import InputError


@guarded
def verify() -> None:
    """Not available yet."""
    raise InputError("`ofevents verify` is not built yet")
