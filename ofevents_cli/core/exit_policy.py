"""One exit policy: what each command counted, and the exit code that follows from it.

The command loops feed each value they hand a renderer to the command's tally; one pure
function per command turns the tally into an `ExitCode` (httpie's `status.py` is the model), so
renderers only print and no command decides its code in two places. The codes are the
README's table: 0 ok, 1 the job ran and found failures, 2 usage or input error, 3 unreachable,
4 credentials; errors that stop a command early carry their own code (`OfeventsError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ofevents_cli.core.sinks import Tally as SinkTally
from ofevents_cli.errors import ExitCode

__all__ = [
    "ForwardTally",
    "ListenTally",
    "ReplayTally",
    "SendTally",
    "VerifyTally",
    "forward_exit",
    "listen_exit",
    "replay_exit",
    "sinks_failed",
    "trigger_exit",
    "verify_exit",
]


@dataclass
class SendTally:
    """Requests sent (trigger, replay): answers by class, failures, latencies for p50/p99."""

    sent: int = 0
    ok: int = 0  # 2xx
    not_ok: int = 0  # any other status
    errors: int = 0  # no answer: refused, timed out, hung up
    unreachable: int = 0  # nothing accepted the connection at all
    timed_out: int = 0  # no answer within the deadline
    unsaved: int = 0  # sent, but its capture line could not be written (`trigger --save`)
    latencies: list[float] = field(default_factory=list)

    def add(self, status: int | None, ms: float, *, unreachable: bool = False,
            timed_out: bool = False) -> None:
        """Count one request: its status (None when there was no answer)."""
        self.sent += 1
        self.latencies.append(ms)
        if status is None:
            self.errors += 1
            self.unreachable += unreachable
            self.timed_out += timed_out
        elif 200 <= status < 300:
            self.ok += 1
        else:
            self.not_ok += 1

    def percentile(self, share: float) -> float | None:
        """The latency under which `share` of the requests answered (nearest rank)."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class ReplayTally(SendTally):
    """replay also skips lines: unreadable ones (input errors) and ones it could not send."""

    unreadable: int = 0  # a line of a file the user named that is not a capture
    unreadable_history: int = 0  # a line of the history that is not one: reported only
    unsendable: int = 0  # a capture that could not be re-signed or built into a request
    truncated: int = 0  # captured without its whole body: nothing faithful to send


@dataclass
class VerifyTally:
    """verify: deliveries by verdict, and input that could not be judged."""

    valid: int = 0
    invalid: int = 0
    unreadable: int = 0
    incomplete: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add_verdict(self, valid: bool, reason: str | None) -> None:
        """Count one verified delivery."""
        if valid:
            self.valid += 1
            return
        self.invalid += 1
        key = reason or "invalid"
        self.reasons[key] = self.reasons.get(key, 0) + 1

    def absorb(self, other: VerifyTally) -> None:
        """Add the counts of another tally (a worker's, for one piece of a file)."""
        self.valid += other.valid
        self.invalid += other.invalid
        self.unreadable += other.unreadable
        self.incomplete += other.incomplete
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n


@dataclass
class ListenTally:
    """listen: events shown, events lost (gaps), events that could not be forwarded."""

    events: int = 0
    gaps: int = 0
    undelivered: int = 0
    unkept: int = 0  # events `--keep` could not write
    sinks: SinkTally = field(default_factory=SinkTally)  # routes and Redis sinks


@dataclass
class ForwardTally:
    """forward: deliveries relayed, and capture lines that could not be written."""

    deliveries: int = 0
    lost_captures: int = 0
    sinks: SinkTally = field(default_factory=SinkTally)  # route copies and Redis sinks


def trigger_exit(tally: SendTally) -> ExitCode:
    """3 when a request found nobody to answer or no answer came in time (the contract's
    "timeout"), 1 when any answer was not 2xx or was cut off (a target that hangs up
    mid-answer is reachable: 1, as replay says) or a delivery could not be saved, else 0."""
    if tally.unreachable or tally.timed_out:
        return ExitCode.UNREACHABLE
    return ExitCode.FAILURES if tally.not_ok or tally.errors or tally.unsaved else ExitCode.OK


def replay_exit(tally: ReplayTally) -> ExitCode:
    """2 when a file the user named held unreadable lines (as verify), else 1 when a delivery
    was not sent or not answered 2xx, else 0 (skipped truncated captures and unreadable lines
    of the history are reported, not failures). An unreachable target stops replay with its
    own error (3)."""
    if tally.unreadable:
        return ExitCode.USAGE
    if tally.not_ok or tally.errors or tally.unsendable:
        return ExitCode.FAILURES
    return ExitCode.OK


def verify_exit(tally: VerifyTally) -> ExitCode:
    """2 when any input was unreadable, else 1 when any delivery is invalid, else 0."""
    if tally.unreadable:
        return ExitCode.USAGE
    return ExitCode.FAILURES if tally.invalid else ExitCode.OK


def listen_exit(tally: ListenTally) -> ExitCode:
    """1 when events were lost (a gap), not forwarded, not kept, or not delivered or stored by
    a route or sink, else 0 (Ctrl+C and --max-events are the normal end; an event that
    matches no route is no failure)."""
    return (ExitCode.FAILURES if tally.gaps or tally.undelivered or tally.unkept
            or sinks_failed(tally.sinks) else ExitCode.OK)


def forward_exit(tally: ForwardTally) -> ExitCode:
    """1 when a delivery was relayed but its capture line could not be written, or a copy or
    a stored entry was lost, else 0."""
    return ExitCode.FAILURES if tally.lost_captures or sinks_failed(tally.sinks) else ExitCode.OK


def sinks_failed(tally: SinkTally) -> bool:
    """Whether a route or sink could not deliver or store something (unrouted is no failure)."""
    return bool(tally.failed or tally.dropped)
