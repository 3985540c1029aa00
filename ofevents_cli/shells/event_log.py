"""The emulator's event log and resume buffer: every event once, in order, by sequence number.

Each connection keeps a cursor into this one bounded log, so live delivery, replay after a
resume and slow consumers are the same code path; `changed` wakes the cursors.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core import frames


@dataclass(frozen=True)
class _Stored:
    seq: int
    event: str
    account_id: str
    text: str


class Bus:
    """The event log and the resume buffer: ids are `evt_<run>_<seq>`.

    `run` is random per emulator start, so an id from an earlier run is refused (gap
    "unknown") instead of resuming at the same sequence number of a different stream.
    """

    def __init__(self, size: int, known_accounts: set[str], run: str | None = None) -> None:
        self.log: deque[_Stored] = deque(maxlen=size)
        self.last = 0
        self.accounts = known_accounts
        self.changed = asyncio.Event()
        self.run = run or secrets.token_hex(4)

    def id_of(self, seq: int) -> str:
        """The wire id of sequence number `seq` (0: before the first event)."""
        return f"evt_{self.run}_{seq:012d}"

    def seq_of(self, event_id: str) -> int | None:
        """The sequence number behind an id, None when it is not one of this run's."""
        digits = event_id.removeprefix(f"evt_{self.run}_")
        return int(digits) if digits != event_id and digits.isdigit() else None

    @property
    def first(self) -> int:
        """The oldest sequence number still held (last + 1 when empty)."""
        return self.log[0].seq if self.log else self.last + 1

    def publish(self, event: str, account_id: str, data: dict[str, Any], ts: str) -> str:
        """Append an event, wake every connection, return its id."""
        self.last += 1
        event_id = self.id_of(self.last)
        text = frames.encode(frames.Event(event_id, event, account_id, ts, data))
        self.log.append(_Stored(self.last, event, account_id, text))
        self.accounts.add(account_id)
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()
        return event_id

    def at(self, seq: int) -> _Stored:
        """The held event with sequence number `seq` (first <= seq <= last)."""
        return self.log[seq - self.first]
