"""What an EventBus stream is asked for (`ClientSettings`) and what it yields (`Update`).

Plain values, shared by the session rules (core/session.py), the client shell that yields
them (shells/eventbus.py) and the renderers that print them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ofevents_cli.core import frames


@dataclass(frozen=True)
class ClientSettings:
    """Where to connect, what to ask for, the reconnection and liveness policy (protocol doc)."""

    url: str
    api_key: str
    ws_token: str
    subscribe: tuple[str, ...] = ()
    accounts: tuple[str, ...] | None = None
    resume: str | None = None
    max_retries: int | None = None  # failed connections in a row; None = unlimited, 0 = never
    initial_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    reset_after: float = 10.0  # up this long after `ready`: a healthy session, even if quiet
    rejoin_delay: float = 0.1  # the most a reconnect after a healthy session waits (jitter)
    open_timeout: float = 10.0  # TCP + WebSocket handshake
    ready_timeout: float = 10.0  # from the hello to the server's `ready`
    ping_interval: float | None = 20.0  # liveness pings after `ready`; None = none
    ping_timeout: float = 20.0  # a ping unanswered this long: the connection is dead


@dataclass(frozen=True)
class Connecting:
    """The first connection attempt has started."""

    url: str


@dataclass(frozen=True)
class Connected:
    """The server answered the hello."""

    session: str
    resumed: bool


@dataclass(frozen=True)
class EventReceived:
    """One event, ready to be delivered."""

    event: frames.Event


@dataclass(frozen=True)
class Gap:
    """Events were lost: the resume point `after` could not be honoured."""

    after: str | None
    reason: str


@dataclass(frozen=True)
class Problem:
    """Something odd the stream survived: a malformed frame, an error frame."""

    message: str


@dataclass(frozen=True)
class Reconnecting:
    """The connection ended (`reason`); the next attempt starts after `delay` seconds."""

    delay: float
    attempt: int
    reason: str


@dataclass(frozen=True)
class Disconnected:
    """The stream is over (the command ends next)."""

    reason: str


Update = Connecting | Connected | EventReceived | Gap | Problem | Reconnecting | Disconnected
