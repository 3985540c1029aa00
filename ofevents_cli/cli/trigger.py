"""`ofevents trigger` (being built)."""

from __future__ import annotations

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.errors import InputError


@guarded
def trigger() -> None:
    """Not available yet."""
    raise InputError("`ofevents trigger` is not built yet")
