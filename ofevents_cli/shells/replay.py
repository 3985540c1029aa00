"""Re-sending captured deliveries in order: byte for byte, or re-signed with fresh ids and times.

Yields `Replayed` per delivery and `Skipped` per unusable line; stops with an
`UnreachableError` (exit 3) when nothing accepts the connection (refused, DNS, connect
timeout). The target gets exactly the captured headers (plus Host and a recomputed
Content-Length): no client defaults, no cookies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Union

from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import Capture, CaptureProblem
from ofevents_cli.core.request_target import request_problem
from ofevents_cli.core.signing import detect_scheme, scheme_key, sign
from ofevents_cli.errors import InputError, UnreachableError
from ofevents_cli.shells import clock
from ofevents_cli.shells.capture_file import read_capture_file
from ofevents_cli.shells.config import secret_envs, secrets_for
from ofevents_cli.shells.envelope import event_of
from ofevents_cli.shells.http_client import HttpSettings, proxy, session
from ofevents_cli.shells.relay import HOP_BY_HOP, join_url
from ofevents_cli.shells.sender import send

__all__ = ["ReplaySettings", "Replayed", "Skipped", "read_replay_file", "replay", "sendable"]

REPLAY_TIMEOUT = 10.0


@dataclass(frozen=True)
class ReplaySettings:
    """Where to send, and whether to re-sign (`secrets` first) or keep the captured headers."""

    target: str
    resign: bool = False
    secrets: tuple[str, ...] = ()
    timeout: float = REPLAY_TIMEOUT
    insecure: bool = False  # an https:// target with a self-signed certificate
    cacert: str | None = None


@dataclass(frozen=True)
class Replayed:
    """One capture sent again: the target's status (None when there was no answer)."""

    id: str
    line: int
    event: str | None
    method: str
    url: str
    status: int | None
    ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Skipped:
    """A capture line that was not sent, and why. `kind`: `unreadable` (not a capture: an
    input error, exit 2), `unsendable` (a capture that could not be re-signed or built into a
    request: exit 1), `truncated` (captured without its whole body: reported, not a failure)."""

    line: int
    message: str
    kind: str = "unreadable"

    @property
    def failed(self) -> bool:
        """A capture that should have been sent was not."""
        return self.kind == "unsendable"


ReplayEvent = Union[Replayed, Skipped]  # noqa: UP007 - a runtime alias must work on 3.10


def read_replay_file(path: str) -> Iterator[Capture | CaptureProblem]:
    """The records of a capture file (`-` is stdin); an unreadable file is an input error."""
    try:
        yield from read_capture_file(path)
    except OSError as exc:
        raise InputError(f"cannot read capture file {path}: {exc.strerror or exc}",
                         "check the CAPTURE path given to replay") from exc


def signing_secret(scheme: str, flags: tuple[str, ...]) -> str | None:
    """The secret to sign `scheme` with: the first `--secret` that can key it (a `whsec_` one
    only for a scheme whose secrets are `whsec_`), else the provider's env var or config key,
    else any `--secret` that can key it."""
    whsec = "whsec_" in registry.scheme(scheme).secret_form
    fallback = secrets_for(None, registry.owner(scheme).name)
    fitting = [s for s in flags if whsec or not s.startswith("whsec_")]
    for secret in [*fitting, *fallback, *flags]:
        try:
            scheme_key(scheme, secret)
        except ValueError:
            continue
        return secret
    return None


def resigned(capture: Capture, secrets: tuple[str, ...]) -> list[tuple[str, str]] | str:
    """The captured headers with fresh signature headers, or why that is impossible."""
    scheme = detect_scheme(capture.headers)
    if scheme is None:
        return "no signature header to re-sign"
    chosen, provider = registry.scheme(scheme), registry.owner(scheme).name
    secret = signing_secret(scheme, secrets)
    if secret is None:
        return (f"cannot re-sign ({scheme}): no --secret is {chosen.secret_form} for "
                f"{provider}, nor {secret_envs(provider)}")
    names = {name.lower() for name in chosen.headers}
    fresh = sign(scheme, secret, capture.body, msg_id=clock.new_id(chosen.id_prefix),
                 timestamp=int(clock.now()))
    return [(k, v) for k, v in capture.headers if k.lower() not in names] + fresh


def sendable(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Captured headers minus the hop-by-hop ones (the worker re-sends deliveries too)."""
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


def check_secrets(settings: ReplaySettings) -> None:
    """--resign with no secret anywhere can sign nothing: say so before sending anything."""
    if settings.resign and not settings.secrets and not secrets_for(None, None):
        raise InputError("--resign needs a secret",
                         f"pass --secret, or set {secret_envs()}")


async def replay(records: Iterator[Capture | CaptureProblem], settings: ReplaySettings
                 ) -> AsyncIterator[ReplayEvent]:
    """Send each capture in the order given (`replay_selection` picks them); stop with
    UnreachableError if the target is down."""
    check_secrets(settings)
    via = proxy(settings.target)
    http = HttpSettings(settings.timeout, settings.insecure, settings.cacert)
    async with session(http, limit=1) as client:
        for record in records:
            if isinstance(record, CaptureProblem):
                yield Skipped(record.line, record.message)
                continue
            if record.truncated:
                yield Skipped(record.line, "its body was not received whole (truncated): "
                              "there is nothing faithful to re-send", kind="truncated")
                continue
            event = event_of(record.body)
            headers = resigned(record, settings.secrets) if settings.resign else record.headers
            if isinstance(headers, str):
                yield Skipped(record.line, headers, kind="unsendable")
                continue
            refused = request_problem(record.method, record.path)
            if refused is not None:  # a capture file must not choose the host either
                yield Skipped(record.line, f"path {record.path!r}: {refused}", kind="unsendable")
                continue
            url = join_url(settings.target, "", record.path)
            try:
                sent = await send(client, record.method, url, sendable(headers),
                                  record.body, proxy=via)
            except ValueError as exc:
                yield Skipped(record.line, f"cannot send this request: {exc}", kind="unsendable")
                continue
            yield Replayed(record.id, record.line, event, record.method, url, sent.status,
                           sent.ms, sent.error)
            if sent.unreachable:
                raise UnreachableError(f"{url} is unreachable: {sent.error}",
                                       "start your server, or fix --to")
