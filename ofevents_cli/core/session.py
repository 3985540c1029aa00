"""The EventBus client's session rules, without I/O (websockets' protocol.py is the model).

The shell (shells/eventbus.py) owns the socket and the clock. It tells a `Session` what
happened, and when: a connection opened, a frame arrived, a timer fired, the consumer took an
event, the connection ended. The session answers with the frame to send, the values to yield
and, once a connection has ended, whether to try again and after how long. So the hello, the
resume point, gap detection, the ready deadline, liveness, which endings are fatal and the
backoff are all decided here and tested without a server.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ofevents_cli.core import frames
from ofevents_cli.core.stream import (
    ClientSettings,
    Connected,
    EventReceived,
    Gap,
    Problem,
    Reconnecting,
    Update,
)
from ofevents_cli.errors import (
    CredentialsError,
    ExitCode,
    InputError,
    OfeventsError,
    UnreachableError,
)

CLOSE_ABNORMAL = 1006  # no close frame: the connection was cut
CLOSE_TOO_BIG = 1009  # a frame larger than frames.MAX_FRAME
CLOSE_TRY_LATER = 1013
SLOW_DOWN = frozenset({frames.CLOSE_RATE_LIMITED, CLOSE_TRY_LATER})  # never "at once"
REDIRECTS = range(300, 400)
RETRIED_STATUSES = frozenset({408, 429})  # 4xx that may well be answered differently later


@dataclass(frozen=True)
class Closed:
    """The WebSocket closed with this code and reason (1006: cut without a close frame)."""

    code: int
    reason: str = ""


@dataclass(frozen=True)
class Refused:
    """The handshake was answered with this HTTP status instead of 101 Switching Protocols."""

    status: int
    location: str | None = None  # the Location header of a redirect


@dataclass(frozen=True)
class Failed:
    """No WebSocket at all: connection refused, DNS, a timeout, a broken handshake."""

    reason: str


Ending = Closed | Refused | Failed


@dataclass(frozen=True)
class Stop:
    """Do not reconnect: show `reason` as the last state, then fail with `error`."""

    reason: str
    error: OfeventsError


class Blocked(OfeventsError):
    """The same event is too large for a frame again after a resume: waiting cannot help."""

    exit_code = ExitCode.FAILURES


def backoff(attempt: int, settings: ClientSettings, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_delay, initial_delay * factor ** (attempt - 1))],
    so the first reconnect waits at most `initial_delay`."""
    ceiling = min(settings.max_delay, settings.initial_delay * settings.factor ** (attempt - 1))
    return rng.uniform(0, ceiling)


def close_reason(code: int | None, reason: str) -> str:
    """`closed 1012 (drop-every)`, or the transport failure when there was no close."""
    if code is None:
        return reason
    return f"closed {code}" + (f" ({reason})" if reason else "")


def describe(ending: Ending) -> str:
    """One line for how a connection ended, as `reconnecting …` and `disconnected: …` show it."""
    if isinstance(ending, Closed):
        return close_reason(ending.code, ending.reason)
    if isinstance(ending, Refused):
        return f"handshake refused: HTTP {ending.status}"
    return ending.reason


def _short(text: str, width: int = 200) -> str:
    """A server-chosen string (a Location header) cut to a length fit for one error line."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _join(url: str, location: str) -> str:
    """Where a redirect points, in full; the Location itself when it is not a valid URL."""
    try:
        return urljoin(url, location)
    except ValueError:
        return location


def _refused(url: str, ending: Refused) -> OfeventsError | None:
    """The error for a handshake status that will be answered the same way again; else None.

    A redirect is not followed, not even to the same host: the hello carries the API key and
    WS token, so following would hand them to a URL the user never named; and the same URL
    gets the same redirect on every retry. The hint names where it points, for --url.
    """
    status = ending.status
    if status in REDIRECTS:
        if not ending.location:
            return UnreachableError(f"EventBus at {url} answered HTTP {status} (a redirect) "
                                    "without a Location", "check --url (or OFEVENTS_EVENTBUS_URL)")
        target = _short(_join(url, ending.location))
        return UnreachableError(f"EventBus at {url} redirects to {target} (HTTP {status}); "
                                "ofevents does not follow redirects",
                                "if that is your EventBus, pass it as --url "
                                "(or OFEVENTS_EVENTBUS_URL)")
    if status == 401:
        return CredentialsError(f"EventBus at {url} refused the connection (HTTP 401)",
                                "check --api-key/--ws-token (or BFL_API_KEY/BFL_WS_TOKEN)")
    if status < 300 or (400 <= status < 500 and status not in RETRIED_STATUSES):
        return UnreachableError(f"no EventBus at {url} (the handshake got HTTP {status})",
                                "check --url (or OFEVENTS_EVENTBUS_URL): the path is usually "
                                "/v1/events" + ("; or the credentials" if status == 403 else ""))
    return None


def _fatal_close(ending: Closed) -> CredentialsError | InputError:
    """The error a fatal close code (4001, 4003, 4400) ends the stream with."""
    what = frames.FATAL_CLOSES[ending.code]
    if ending.code == frames.CLOSE_PROTOCOL:
        return InputError(f"{what}: {ending.reason}", "check --event and --account")
    hint = ("check --api-key/--ws-token (or BFL_API_KEY/BFL_WS_TOKEN)"
            if ending.code == frames.CLOSE_BAD_CREDENTIALS
            else "check --account: use ids of accounts your key manages")
    return CredentialsError(f"{what} (close code {ending.code})", hint)


@dataclass
class _Connection:
    """What the session knows about the current connection (a fresh one per `opened`)."""

    hello_at: float
    ready_at: float | None = None
    start: str | None = None  # the server's `ready.last`: where this session starts
    unresumed: str | None = None  # resume point the server did not honour, gap not yet shown
    events: int = 0
    retry_after: float | None = None
    seen: int = 0  # frames received: any frame shows the server's application is alive
    next_ping: float = 0.0
    ping: int = 0  # the outstanding ping's `t` (0: none)
    ping_at: float = 0.0
    ping_seen: int = 0  # `seen` when it was sent
    ponged: bool = False  # its WebSocket pong arrived
    dropped: str | None = None  # why the session gave up on this connection


@dataclass
class Session:
    """The rules of one `listen` stream across all its connections.

    The resume point is the last event acknowledged, with every event before it. By default
    the shell acknowledges an event once the consumer asks for the next value
    (`acknowledge_on_delivery`); a consumer that stores events elsewhere (a sink) turns that
    off and calls `acknowledge` once an event is safely stored, in any order.
    """

    settings: ClientSettings
    rng: random.Random
    client: str = ""
    acknowledge_on_delivery: bool = True
    resume_point: str | None = field(init=False)
    attempt: int = field(default=0, init=False)  # failed connections in a row
    _unacked: deque[str] = field(default_factory=deque, init=False)  # handed out, in order
    _acked: set[str] = field(default_factory=set, init=False)  # acked ahead of an earlier one
    _too_big_after: tuple[str | None, ...] = field(default=(), init=False)
    _conn: _Connection | None = field(default=None, init=False)
    _pings: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.resume_point = self.settings.resume

    # -- a connection -------------------------------------------------------------------

    def opened(self, now: float) -> frames.Hello:
        """The socket is open: the hello to send first. The ready deadline starts now."""
        self._conn = _Connection(hello_at=now)
        s = self.settings
        return frames.Hello(s.api_key, s.ws_token, s.subscribe, s.accounts, self.resume_point,
                            self.client)

    def receive(self, frame: frames.ServerFrame | frames.Unknown | frames.Malformed,
                now: float) -> tuple[Update, ...]:
        """A frame from the server: the values to yield, in order."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("Session.receive() before opened()")
        conn.seen += 1
        if type(frame) is frames.Event:
            conn.events += 1
            if not self.acknowledge_on_delivery:
                self._unacked.append(frame.id)
            if conn.unresumed is None:
                return (EventReceived(frame),)
            lost, conn.unresumed = conn.unresumed, None
            self._restart_from(conn.start, keep=frame.id)  # the loss is reported: go on
            return Gap(lost, "not_resumed"), EventReceived(frame)
        if isinstance(frame, frames.Ready):
            return self._ready(conn, frame, now)
        if isinstance(frame, frames.Gap):
            conn.unresumed = None
            if not conn.events:
                self._restart_from(conn.start)  # the loss is reported: go on from the start
            return (Gap(frame.after, frame.reason),)
        if isinstance(frame, frames.ErrorFrame):
            conn.retry_after = frame.retry_after
            return (Problem(f"server error {frame.code}: {frame.message}"),)
        if isinstance(frame, frames.Malformed):
            return (Problem(f"malformed frame skipped: {frame.reason}"),)
        return ()  # pong, or an op this client does not know

    def _ready(self, conn: _Connection, frame: frames.Ready, now: float) -> tuple[Update, ...]:
        if conn.ready_at is None:
            conn.ready_at = now
            conn.next_ping = now + (self.settings.ping_interval or 0.0)
        conn.start = frame.last
        if self.resume_point is not None and not frame.resumed:
            conn.unresumed = self.resume_point  # a gap, unless the server sends its own
        elif self.resume_point is None and not conn.events:
            self.resume_point = frame.last  # so a drop before the first event loses none
        return (Connected(frame.session, frame.resumed),)

    def _restart_from(self, start: str | None, keep: str | None = None) -> None:
        """Events before `start` are reported lost: resume from there, forget older acks
        (all but `keep`, the event just received)."""
        if start is not None:
            self.resume_point = start
        self._acked.clear()
        self._unacked.clear()
        if keep is not None and not self.acknowledge_on_delivery:
            self._unacked.append(keep)

    # -- acknowledgements ---------------------------------------------------------------

    def delivered(self, event_id: str) -> None:
        """The consumer took this event (it asks for the next value). By default that is
        its acknowledgement: events are handed out one at a time, in order."""
        if self.acknowledge_on_delivery:
            self.resume_point = event_id

    def acknowledge(self, event_id: str) -> None:
        """With `acknowledge_on_delivery=False`: this event is safely handled. The resume
        point moves past every event acknowledged so far without one missing before it; an id
        this connection did not hand out (or one already acknowledged) is ignored."""
        unacked = self._unacked
        if not unacked:
            return
        if unacked[0] != event_id:
            if event_id in unacked:
                self._acked.add(event_id)
            return
        unacked.popleft()
        self.resume_point = event_id
        acked = self._acked
        while acked and unacked and unacked[0] in acked:
            self.resume_point = unacked.popleft()
            acked.discard(self.resume_point)

    # -- timers -------------------------------------------------------------------------

    @property
    def deadline(self) -> float | None:
        """When `on_timer` must run next (None: no timer is due on this connection)."""
        conn, s = self._conn, self.settings
        if conn is None or conn.dropped:
            return None
        if conn.ready_at is None:
            return conn.hello_at + s.ready_timeout
        if not s.ping_interval:
            return None
        return conn.ping_at + s.ping_timeout if conn.ping else conn.next_ping

    def on_timer(self, now: float, waiting: bool = True) -> frames.Ping | None:
        """Check the ready deadline and liveness: a ping to send (as a WebSocket ping and as
        the protocol's `ping` op), or None. When the server missed a deadline, `dropped` says
        why and the shell cuts the connection. `waiting` is False while the consumer holds the
        stream: frames may be waiting unread, so silence proves nothing and deadlines move."""
        conn, s = self._conn, self.settings
        if conn is None or conn.dropped:
            return None
        if conn.ready_at is None:
            if now >= conn.hello_at + s.ready_timeout:
                if waiting:
                    conn.dropped = f"no ready within {s.ready_timeout:g} s of the hello"
                else:
                    conn.hello_at = now
            return None
        if not s.ping_interval:
            return None
        if conn.ping:
            if now < conn.ping_at + s.ping_timeout:
                return None
            if conn.ponged and conn.seen > conn.ping_seen:
                conn.ping = 0  # answered at both levels: the next ping is due on schedule
            elif not waiting:
                conn.ping_at, conn.ping_seen = now, conn.seen
                return None
            elif not conn.ponged:
                conn.dropped = f"no pong within {s.ping_timeout:g} s: the connection is dead"
                return None
            else:
                conn.dropped = (f"the server answers WebSocket pings but sent nothing for "
                                f"{s.ping_timeout:g} s after a ping: its EventBus is stuck")
                return None
        if now < conn.next_ping:
            return None
        self._pings += 1
        conn.ping, conn.ping_at, conn.ping_seen, conn.ponged = self._pings, now, conn.seen, False
        conn.next_ping = now + s.ping_interval
        return frames.Ping(self._pings)

    def pong(self, t: int) -> None:
        """The WebSocket pong for ping `t` arrived."""
        if self._conn is not None and self._conn.ping == t:
            self._conn.ponged = True

    @property
    def dropped(self) -> str | None:
        """Why the session gave up on the current connection (a missed deadline), if it did."""
        return self._conn.dropped if self._conn is not None else None

    # -- the end of a connection --------------------------------------------------------

    def ended(self, ending: Ending, now: float) -> Reconnecting | Stop:
        """The connection is over: reconnect (after the delay) or stop (with the error).

        A drop after a healthy session (ready reached, then events or `reset_after` seconds)
        is no failure: the count of failures restarts and the reconnect is at once, after a
        small jitter (up to `rejoin_delay`, never more than the first backoff step). The
        backoff grows only while connecting, or reaching `ready`, keeps failing. A slow-down
        close (4008, 1013) always waits.
        """
        s, conn = self.settings, self._conn
        self._conn = None
        self._unacked.clear()  # not acknowledged: the server replays them after the resume
        self._acked.clear()
        reason = (conn.dropped if conn is not None and conn.dropped else None) or describe(ending)
        if isinstance(ending, Refused):
            error = _refused(s.url, ending)
            if error is not None:
                return Stop(reason, error)
        if isinstance(ending, Closed) and ending.code in frames.FATAL_CLOSES:
            return Stop(reason, _fatal_close(ending))
        code = ending.code if isinstance(ending, Closed) else None
        if code == CLOSE_TOO_BIG and self._too_big_after == (self.resume_point,):
            return Stop(reason, Blocked(
                f"the event after {self.resume_point or 'the start'} is larger than "
                f"{frames.MAX_FRAME} bytes, again after a resume: it blocks the stream",
                "ask the server's operator to check that event; --resume a later id"))
        self._too_big_after = (self.resume_point,) if code == CLOSE_TOO_BIG else ()
        healthy = (conn is not None and conn.ready_at is not None
                   and (conn.events > 0 or now - conn.ready_at >= s.reset_after))
        if healthy:
            self.attempt = 0
        self.attempt += 1
        if s.max_retries is not None and self.attempt > s.max_retries:
            return Stop(reason, UnreachableError(
                f"EventBus at {s.url}: {reason}, no retries left",
                "is the server running? (--url, OFEVENTS_EVENTBUS_URL; --max-retries)"))
        retry_after = conn.retry_after if conn is not None else None
        if code == frames.CLOSE_RATE_LIMITED and retry_after is not None:
            delay = max(0.0, min(retry_after, s.max_delay))
        elif healthy and code not in SLOW_DOWN:
            delay = self.rng.uniform(0, min(s.rejoin_delay, s.initial_delay))
        else:
            delay = backoff(self.attempt, s, self.rng)
        return Reconnecting(delay, self.attempt, reason)
