"""The EventBus session rules, without a server: frames and times in, values and verdicts out."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ofevents_cli.core import frames
from ofevents_cli.core.session import Blocked, Closed, Failed, Refused, Session, Stop
from ofevents_cli.core.stream import (
    ClientSettings,
    Connected,
    EventReceived,
    Gap,
    Problem,
    Reconnecting,
)
from ofevents_cli.errors import CredentialsError, InputError, UnreachableError

URL = "ws://bus.example:8765/v1/events"


def session(**options: Any) -> Session:
    explicit = options.pop("explicit", False)
    return Session(ClientSettings(URL, "key", "token", **options), random.Random(1),
                   "ofevents/test", acknowledge_on_delivery=not explicit)


def ready(resumed: bool = False, last: str | None = None) -> frames.Ready:
    return frames.Ready("ses_1", resumed=resumed, last=last)


def event(n: int) -> frames.Event:
    return frames.Event(f"e{n}", "tip", "1", "2026-11-22T10:30:00.000Z", {"amount": n})


def deliver(s: Session, *ns: int, now: float = 0.0) -> None:
    """Receive these events and acknowledge each, as the shell does by default."""
    for n in ns:
        assert s.receive(event(n), now) == (EventReceived(event(n)),)
        s.delivered(f"e{n}")


def connect(s: Session, now: float = 0.0, **ready_options: Any) -> frames.Hello:
    hello = s.opened(now)
    s.receive(ready(**ready_options), now)
    return hello


# -- the hello and the resume point -------------------------------------------------------

def test_hello_carries_credentials_subscription_filter_and_resume_point() -> None:
    """The first frame has the key, token, event types, accounts, --resume and client name."""
    s = session(subscribe=("tip",), accounts=("111",), resume="e7")
    assert s.opened(0.0) == frames.Hello("key", "token", ("tip",), ("111",), "e7",
                                         "ofevents/test")


def test_only_acknowledged_events_move_the_resume_point() -> None:
    """An event received but not yet taken is replayed after a reconnect, not skipped."""
    s = session()
    connect(s)
    deliver(s, 1, 2)
    s.receive(event(3), 0.0)  # dropped before the consumer took it
    s.ended(Closed(1012), 1.0)
    assert s.opened(1.0).resume == "e2"


def test_explicit_acknowledgements_resume_after_the_last_event_with_none_missing() -> None:
    """Acks in any order: the resume point is the newest event with every earlier one acked."""
    s = session(explicit=True)
    connect(s)
    for n in range(1, 6):
        s.receive(event(n), 0.0)
    assert s.resume_point is None
    s.acknowledge("e2")
    s.acknowledge("e3")
    assert s.resume_point is None  # e1 is not stored yet
    s.acknowledge("e1")
    assert s.resume_point == "e3"
    s.acknowledge("e5")
    s.acknowledge("nope")  # an id this session never handed out
    assert s.resume_point == "e3"
    s.ended(Closed(1006), 1.0)
    s.acknowledge("e4")  # too late: e4 and e5 are replayed by the next connection
    assert s.opened(1.0).resume == "e3"


def test_without_a_resume_point_ready_last_becomes_one() -> None:
    """A drop before the first event resumes from `ready.last`, so nothing is lost."""
    s = session()
    connect(s, last="e0")
    s.ended(Closed(1012), 1.0)
    assert s.opened(1.0).resume == "e0"


# -- gaps ---------------------------------------------------------------------------------

def test_ready_not_resumed_is_a_gap_at_the_first_event() -> None:
    """resume sent, ready(resumed=false), no gap frame: Gap(not_resumed) before the event."""
    s = session(resume="e0")
    connect(s, last="e5")
    assert s.receive(event(6), 0.0) == (Gap("e0", "not_resumed"), EventReceived(event(6)))
    s.ended(Closed(1012), 1.0)
    assert s.opened(1.0).resume == "e5"  # the loss was reported once: go on from the start


def test_a_gap_frame_is_reported_once_and_the_stream_goes_on_from_ready_last() -> None:
    """The server's own gap frame replaces the not_resumed one; the next hello resumes later."""
    s = session(resume="e0")
    s.opened(0.0)
    assert s.receive(ready(last="e5"), 0.0) == (Connected("ses_1", False),)
    assert s.receive(frames.Gap("e0", "expired"), 0.0) == (Gap("e0", "expired"),)
    assert s.receive(event(6), 0.0) == (EventReceived(event(6)),)
    s.ended(Closed(1012), 1.0)
    assert s.opened(1.0).resume == "e5"


def test_error_and_malformed_frames_are_problems_unknown_ops_are_ignored() -> None:
    """An error frame and a malformed frame are shown; a pong or an unknown op is not."""
    s = session()
    connect(s)
    assert s.receive(frames.ErrorFrame("rate_limited", "slow"), 0.0) == (
        Problem("server error rate_limited: slow"),)
    assert s.receive(frames.Malformed("not JSON"), 0.0) == (
        Problem("malformed frame skipped: not JSON"),)
    assert s.receive(frames.Unknown("hologram"), 0.0) == ()
    assert s.receive(frames.Pong(1), 0.0) == ()


# -- retry or stop ------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "error"), [(4001, CredentialsError), (4003, CredentialsError),
                                             (4400, InputError)])
def test_fatal_close_codes_stop(code: int, error: type[Exception]) -> None:
    """4001/4003 stop with a credentials error (exit 4), 4400 with a usage error (exit 2)."""
    s = session()
    connect(s)
    verdict = s.ended(Closed(code, "no"), 1.0)
    assert isinstance(verdict, Stop) and isinstance(verdict.error, error)
    assert verdict.reason == f"closed {code} (no)"


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1011, 1012, 1013, 4008, 1002, 4999])
def test_other_close_codes_reconnect(code: int) -> None:
    """Every other close code is retried."""
    s = session()
    s.opened(0.0)
    assert isinstance(s.ended(Closed(code), 1.0), Reconnecting)


def test_a_frame_too_large_twice_at_the_same_resume_point_is_blocked() -> None:
    """1009, no progress, 1009 again: Blocked (exit 1); with progress in between: retried."""
    s = session()
    connect(s)
    deliver(s, 1)
    assert isinstance(s.ended(Closed(1009), 1.0), Reconnecting)
    connect(s, 1.0, resumed=True)
    deliver(s, 2)
    assert isinstance(s.ended(Closed(1009), 2.0), Reconnecting)
    connect(s, 2.0, resumed=True)
    verdict = s.ended(Closed(1009), 3.0)
    assert isinstance(verdict, Stop) and isinstance(verdict.error, Blocked)
    assert "after e2" in verdict.error.message


@pytest.mark.parametrize(("location", "target"), [
    ("ws://other.example/v1/events", "ws://other.example/v1/events"),
    ("/v2/events", "ws://bus.example:8765/v2/events"),
    ("http://other.example/x", "http://other.example/x"),
    ("ws://[::1", "ws://[::1"),  # not a URL at all: shown as it came
])
def test_a_redirect_is_not_followed_and_names_its_target(location: str, target: str) -> None:
    """A 3xx handshake stops with exit 3, the target (joined to --url) in the message."""
    verdict = session().ended(Refused(301, location), 0.0)
    assert isinstance(verdict, Stop) and isinstance(verdict.error, UnreachableError)
    assert f"redirects to {target} (HTTP 301)" in verdict.error.message
    assert "does not follow redirects" in verdict.error.message
    assert "--url" in (verdict.error.hint or "")


def test_a_redirect_without_location_or_with_a_huge_one_is_a_short_clear_error() -> None:
    """No Location: says so; a 10 kB Location is cut to one line."""
    bare = session().ended(Refused(302), 0.0)
    assert isinstance(bare, Stop) and "without a Location" in bare.error.message
    huge = session().ended(Refused(307, "/" + "x" * 10_000), 0.0)
    assert isinstance(huge, Stop) and len(huge.error.message) < 400


@pytest.mark.parametrize(("status", "error"), [(401, CredentialsError), (403, UnreachableError),
                                               (404, UnreachableError), (200, UnreachableError)])
def test_handshake_statuses_that_will_not_change_stop(status: int,
                                                      error: type[Exception]) -> None:
    """401 is a credentials error; another 4xx, or a 200 that did not upgrade, is exit 3."""
    verdict = session().ended(Refused(status), 0.0)
    assert isinstance(verdict, Stop) and isinstance(verdict.error, error)
    assert verdict.reason == f"handshake refused: HTTP {status}"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_handshake_statuses_that_may_change_are_retried(status: int) -> None:
    """Timeouts, rate limits and server errors on the upgrade are retried with backoff."""
    verdict = session().ended(Refused(status), 0.0)
    assert verdict == Reconnecting(verdict.delay, 1, f"handshake refused: HTTP {status}")


def test_failures_in_a_row_escalate_and_end_when_no_retries_are_left() -> None:
    """Refused connections: attempts 1, 2, 3 under a growing ceiling, then exit 3."""
    s = session(max_retries=3, initial_delay=1.0)
    verdicts = [s.ended(Failed("connection refused"), 0.0) for _ in range(4)]
    waits = verdicts[:3]
    assert [v.attempt for v in waits] == [1, 2, 3]  # type: ignore[union-attr]
    assert all(isinstance(v, Reconnecting) and v.delay <= 2 ** (v.attempt - 1) for v in waits)
    last = verdicts[3]
    assert isinstance(last, Stop) and isinstance(last.error, UnreachableError)
    assert "connection refused, no retries left" in last.error.message


def test_max_retries_zero_never_reconnects() -> None:
    """--no-reconnect: the first ending stops the stream."""
    assert isinstance(session(max_retries=0).ended(Failed("timed out"), 0.0), Stop)


# -- the reconnect rule: a healthy session is no failure ----------------------------------

def test_drops_after_healthy_sessions_reconnect_at_once_and_never_escalate() -> None:
    """A bus that drops every 200 events: every reconnect is attempt 1, within rejoin_delay."""
    s = session(initial_delay=5.0, rejoin_delay=0.1)
    verdicts = []
    for round_ in range(20):
        connect(s, float(round_), resumed=round_ > 0)
        deliver(s, *range(round_ * 200, round_ * 200 + 200))
        verdicts.append(s.ended(Closed(1012, "drop-every"), round_ + 0.5))
    assert all(isinstance(v, Reconnecting) and v.attempt == 1 and v.delay <= 0.1
               for v in verdicts)


def test_a_failure_after_a_healthy_drop_escalates_from_there() -> None:
    """Healthy drop (at once), then refused twice: attempts 1, 2, 3 with backoff."""
    s = session(initial_delay=5.0, rejoin_delay=0.1)
    connect(s)
    deliver(s, 1)
    first = s.ended(Closed(1012), 1.0)
    second = s.ended(Failed("connection refused"), 1.0)
    third = s.ended(Failed("connection refused"), 2.0)
    assert [v.attempt for v in (first, second, third)] == [1, 2, 3]  # type: ignore[union-attr]
    assert first.delay <= 0.1  # type: ignore[union-attr]


def test_ready_then_a_quick_drop_without_events_is_a_failure() -> None:
    """Ready reached but nothing delivered and up for less than reset_after: backoff grows."""
    s = session()
    attempts = []
    for n in range(3):
        connect(s, float(n))
        verdict = s.ended(Closed(1011), n + 0.1)
        attempts.append(verdict.attempt)  # type: ignore[union-attr]
    assert attempts == [1, 2, 3]


def test_a_quiet_session_up_for_reset_after_is_healthy() -> None:
    """No events, but up reset_after seconds after ready: the count restarts."""
    s = session(reset_after=10.0)
    s.ended(Failed("connection refused"), 0.0)
    connect(s, 1.0)
    verdict = s.ended(Closed(1001), 11.0)
    assert isinstance(verdict, Reconnecting) and verdict.attempt == 1 and verdict.delay <= 0.1


def test_slow_down_closes_wait_even_after_a_healthy_session() -> None:
    """4008 waits retryAfter (capped at max_delay); 1013 waits the backoff, not at once."""
    s = session(max_delay=3.0, rejoin_delay=0.0, initial_delay=1.0)
    connect(s)
    deliver(s, 1)
    s.receive(frames.ErrorFrame("rate_limited", "x", retry_after=60), 0.0)
    assert s.ended(Closed(4008), 1.0) == Reconnecting(3.0, 1, "closed 4008")
    s2 = session(rejoin_delay=0.0, initial_delay=1.0, factor=1.0)
    waits = []
    for n in range(30):
        connect(s2, float(n), resumed=n > 0)
        deliver(s2, n)
        waits.append(s2.ended(Closed(1013), n + 0.5).delay)  # type: ignore[union-attr]
    assert max(waits) > 0.5  # drawn from [0, 1], not [0, rejoin_delay]


# -- deadlines: ready and liveness --------------------------------------------------------

def test_no_ready_within_ready_timeout_drops_and_counts_as_a_failure() -> None:
    """hello at t=0, nothing by t=10: dropped with a reason; the reconnect escalates."""
    s = session(ready_timeout=10.0)
    s.opened(0.0)
    assert s.deadline == 10.0
    assert s.on_timer(9.9) is None and s.dropped is None
    assert s.on_timer(10.0) is None
    assert s.dropped == "no ready within 10 s of the hello"
    assert s.deadline is None
    first = s.ended(Closed(1006, "connection lost"), 10.0)
    assert first == Reconnecting(first.delay, 1, "no ready within 10 s of the hello")  # type: ignore[union-attr]
    s.opened(11.0)
    s.on_timer(21.0)
    assert s.ended(Closed(1006), 21.0).attempt == 2  # type: ignore[union-attr]


def test_a_ping_answered_at_both_levels_keeps_the_connection() -> None:
    """Every ping_interval a ping; its WebSocket pong and any frame after it answer it."""
    s = session(ping_interval=20.0, ping_timeout=20.0)
    connect(s, 0.0)
    assert s.deadline == 20.0
    assert s.on_timer(19.0) is None
    assert s.on_timer(20.0) == frames.Ping(1)
    s.pong(1)
    s.receive(frames.Pong(1), 20.1)
    assert s.deadline == 40.0
    assert s.on_timer(40.0) == frames.Ping(2)
    assert s.dropped is None


def test_a_ping_without_a_pong_drops_the_connection() -> None:
    """No WebSocket pong within ping_timeout: the connection is dead, say so."""
    s = session(ping_interval=20.0, ping_timeout=5.0)
    connect(s, 0.0)
    assert s.on_timer(20.0) == frames.Ping(1)
    assert s.deadline == 25.0
    assert s.on_timer(24.9) is None and s.dropped is None
    s.on_timer(25.0)
    assert s.dropped == "no pong within 5 s: the connection is dead"


def test_a_pong_without_any_frame_from_the_application_is_a_stuck_server() -> None:
    """The WebSocket layer answers but the EventBus sends nothing after the ping: dropped."""
    s = session(ping_interval=1.0, ping_timeout=1.0)
    connect(s, 0.0)
    deliver(s, 1, now=0.5)  # before the ping: does not answer it
    assert s.on_timer(1.0) == frames.Ping(1)
    s.pong(1)
    s.on_timer(2.0)
    assert s.dropped is not None and "EventBus is stuck" in s.dropped
    verdict = s.ended(Closed(1006), 2.0)
    assert isinstance(verdict, Reconnecting) and "stuck" in verdict.reason
    assert verdict.delay <= 0.1  # events had flowed: a healthy session, back at once


def test_a_consumer_holding_the_stream_is_not_a_silent_server() -> None:
    """While the shell is not waiting on the server, a due deadline moves instead of dropping."""
    s = session(ping_interval=1.0, ping_timeout=1.0, ready_timeout=1.0)
    s.opened(0.0)
    s.on_timer(1.0, waiting=False)
    assert s.dropped is None and s.deadline == 2.0
    s.receive(ready(), 1.5)
    assert s.on_timer(2.5) == frames.Ping(1)
    s.on_timer(3.5, waiting=False)
    assert s.dropped is None and s.deadline == 4.5
    s.pong(1)
    s.receive(frames.Pong(1), 4.0)
    assert s.on_timer(4.5) == frames.Ping(2) and s.dropped is None


def test_no_pings_when_liveness_is_off() -> None:
    """ping_interval=None: no timer after ready."""
    s = session(ping_interval=None)
    connect(s, 0.0)
    assert s.deadline is None and s.on_timer(1e9) is None
