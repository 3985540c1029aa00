"""The signature of one history record, checked now with today's secrets (`history show`,
`inspect`): the verify command's check, against the moment the delivery was received."""

from __future__ import annotations

from collections.abc import Sequence

from ofevents_cli.core.capture import Capture
from ofevents_cli.core.history_query import Entry
from ofevents_cli.core.signing import DEFAULT_TOLERANCE
from ofevents_cli.errors import InputError
from ofevents_cli.shells.verification import Checked, Keyring, Settings, check

__all__ = ["check_entry"]


def check_entry(entry: Entry, secrets: Sequence[str] = (), explain: bool = False,
                tolerance: int = DEFAULT_TOLERANCE) -> Checked | str | None:
    """The verdict, or why there is none (no secret, body cut short); None for an event."""
    record = entry.record
    if not isinstance(record, Capture):
        return None
    if record.truncated:
        return "not checked: the body did not arrive whole (truncated)"
    try:
        keys = Keyring.load(list(secrets) or None, entry.provider)
    except InputError as exc:
        return f"not checked: {exc.message} ({exc.hint})"
    return check(record.id, record.line, entry.source, record.body, record.headers,
                 record.received_epoch, keys, Settings(None, tolerance, None, explain))
