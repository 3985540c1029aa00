"""What `ofevents worker` reports (plain values the shell yields and a renderer prints), its
retry schedule, and its exit status. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from ofevents_cli.errors import ExitCode

__all__ = [
    "Claimed",
    "Handled",
    "Outcome",
    "RedisDown",
    "RedisUp",
    "TargetDown",
    "TargetUp",
    "WorkerReady",
    "WorkerStopping",
    "WorkerTally",
    "WorkerValue",
    "exit_code",
    "retry_delay",
]

# acked: 2xx, acknowledged. retrying: another attempt follows. dead: moved to S:dead.
# released: the worker stopped before it got through; the entry stays pending for another
# worker (after --claim-after). trimmed: the stream dropped it (maxlen) before any worker
# delivered it: nothing left to send.
Outcome = Literal["acked", "retrying", "dead", "released", "trimmed"]
MAX_DELAY = 30.0


def retry_delay(attempt: int, first: float) -> float:
    """The wait after failed attempt `attempt` (1, 2, …): `first`, doubling, at most 30 s."""
    return float(min(MAX_DELAY, first * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class WorkerReady:
    """Reading: the stream, the group, this consumer, the target, and what is pending."""

    stream: str
    group: str
    consumer: str
    target: str
    pending: int


@dataclass(frozen=True)
class Handled:
    """One attempt at one stream entry (`entry` is its stream id, `item` the event or delivery
    id it holds)."""

    entry: str
    item: str | None
    event: str | None
    status: int | None
    ms: float
    attempt: int
    outcome: Outcome
    error: str | None = None
    retry_in: float | None = None


@dataclass(frozen=True)
class Claimed:
    """Entries left pending longer than --claim-after by another consumer, now this one's."""

    count: int


@dataclass(frozen=True)
class RedisDown:
    """Redis cannot be reached; the worker tries again after `retry_in` seconds."""

    reason: str
    retry_in: float


@dataclass(frozen=True)
class RedisUp:
    """Redis answers again."""


@dataclass(frozen=True)
class TargetDown:
    """Nothing accepts connections at the target: entries wait (no attempt is counted)."""

    target: str
    reason: str


@dataclass(frozen=True)
class TargetUp:
    """The target accepts connections again."""

    target: str


@dataclass(frozen=True)
class WorkerStopping:
    """Ctrl+C: no new entries; `in_flight` finish their current attempt; `unacked` are
    acknowledgements not yet written (those entries are delivered again if they never are)."""

    in_flight: int
    unacked: int = 0


WorkerValue = Union[  # noqa: UP007 - a runtime alias must work on 3.10
    WorkerReady, Handled, Claimed, RedisDown, RedisUp, TargetDown, TargetUp, WorkerStopping]


@dataclass
class WorkerTally:
    """Final outcomes over a run; the ids of the entries that did not get through."""

    acked: int = 0
    dead: int = 0
    released: int = 0
    trimmed: int = 0
    retries: int = 0
    failed_entries: list[str] = field(default_factory=list)

    def add(self, handled: Handled) -> None:
        """Count one attempt's outcome."""
        if handled.outcome == "acked":
            self.acked += 1
        elif handled.outcome == "retrying":
            self.retries += 1
        elif handled.outcome == "released":
            self.released += 1
        else:
            if handled.outcome == "dead":
                self.dead += 1
            else:
                self.trimmed += 1
            if len(self.failed_entries) < 20:
                self.failed_entries.append(handled.entry)


def exit_code(tally: WorkerTally) -> ExitCode:
    """1 when an entry went to the dead letters or was trimmed away undelivered; a released
    entry is no failure (another worker delivers it)."""
    return ExitCode.FAILURES if tally.dead or tally.trimmed else ExitCode.OK
