"""`trigger`'s I/O: read `--data`, stamp fresh ids, send signed deliveries, save captures."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ofevents_cli import __version__
from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import Capture, CaptureResponse, format_timestamp
from ofevents_cli.core.catalogue import EventType
from ofevents_cli.core.deliveries import SignedDelivery, signed_delivery
from ofevents_cli.core.masking import mask
from ofevents_cli.core.payloads import Stamp, build_payload, encode, parse_assignment
from ofevents_cli.core.strictjson import OutOfRange, finite_float, problem, reject_constant
from ofevents_cli.core.targets import parse_target
from ofevents_cli.errors import InputError
from ofevents_cli.shells.clock import new_id, now
from ofevents_cli.shells.config import resolve, secret_envs, secrets_for
from ofevents_cli.shells.http_client import HttpSettings
from ofevents_cli.shells.sender import Sent

if TYPE_CHECKING:
    import aiohttp

USER_AGENT = f"ofevents/{__version__}"


@dataclass(frozen=True)
class Outcome:
    """One request sent for a delivery, and what came back."""

    delivery: SignedDelivery
    sent: Sent
    capture_error: str | None = None  # `--save` could not write its line


def read_data(source: str | None) -> dict[str, Any] | None:
    """`--data FILE|-`: a JSON object that replaces the fixture's data."""
    if source is None:
        return None
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read --data {source}: {reason}", "check the path") from None
    try:  # NaN, Infinity and 1e999 (infinity) have no JSON to send them as
        value = json.loads(text, parse_constant=reject_constant, parse_float=finite_float)
    except json.JSONDecodeError as exc:
        raise InputError(f"--data {source} is not JSON ({exc.msg}, line {exc.lineno})",
                         "give a JSON object with the event's data fields") from None
    except (ValueError, RecursionError) as exc:  # NaN, 1e999, 5000 digits, absurd nesting
        what = ("nested too deeply" if isinstance(exc, RecursionError)
                else str(exc) if isinstance(exc, OutOfRange) else str(exc).split(";")[0])
        raise InputError(f"--data {source} is not readable JSON ({what})",
                         "give a JSON object with the event's data fields") from None
    if not isinstance(value, dict):
        raise InputError(f"--data {source} is not a JSON object", "wrap the fields in { }")
    found = problem(value, surrogates=False)  # nesting too deep to send
    if found is not None:
        raise InputError(f"--data {source}: {found}", "give a JSON object with the event's "
                         "data fields")
    return value


@dataclass(frozen=True)
class Plan:
    """Everything `trigger` resolved from its flags, env vars and config before sending."""

    event: EventType
    url: str
    scheme: str
    secret: str
    envelope: str | None
    data: Mapping[str, Any] | None
    overrides: tuple[tuple[str, Any], ...]

    @classmethod
    def make(
        cls,
        event: EventType,
        to: str | None,
        secret: str | None,
        assignments: Sequence[str],
        data_source: str | None,
        scheme: str | None,
        envelope: str | None,
    ) -> Plan:
        """Resolve and check every input up front, so a bad flag fails before anything is sent."""
        url = parse_target(to)
        chosen = registry.provider(event.provider).signing_scheme(
            scheme, envelope or event.envelope or None).name
        found = [secret] if secret else secrets_for(None, event.provider)
        if not found:
            raise InputError(f"no signing secret for {event.provider}",
                             f"pass --secret or set {secret_envs(event.provider)}")
        key = found[0]
        overrides = tuple(parse_assignment(text) for text in assignments)
        plan = cls(event, url, chosen, key, envelope, read_data(data_source), overrides)
        next(plan.build(1))  # a bad --set path, envelope or secret fails here, not mid-run
        return plan

    @property
    def id_prefix(self) -> str:
        """The kind of delivery id the scheme carries (`msg_…` for Svix, else `evt_…`)."""
        return registry.scheme(self.scheme).id_prefix

    def build(self, count: int) -> Iterator[SignedDelivery]:
        """`count` deliveries, each with a fresh id and timestamp, made as they are taken."""
        for _ in range(count):
            yield signed_delivery(self.event, Stamp(new_id(self.id_prefix), now()),
                                  scheme=self.scheme, secret=self.secret, user_agent=USER_AGENT,
                                  envelope=self.envelope, data=self.data,
                                  overrides=self.overrides)

    def request_record(self, delivery: SignedDelivery) -> dict[str, Any]:
        """The `--dry-run --json` form of a request."""
        return {"method": "POST", "url": self.url, "headers": [list(h) for h in delivery.headers],
                "body": delivery.body.decode("utf-8"), "delivery_id": delivery.delivery_id}


BATCH = 500  # events per POST /v1/emit request


@dataclass(frozen=True)
class Injection:
    """An eventbus event for a running emulator (`trigger EVENT --to ws://…`): the items
    `POST /v1/emit` takes, and the credentials it checks."""

    event: EventType
    url: str
    items: tuple[dict[str, Any], ...]
    api_key: str
    ws_token: str

    @classmethod
    def make(
        cls,
        event: EventType,
        to: str | None,
        assignments: Sequence[str],
        data_source: str | None,
        count: int,
        duplicate: int,
    ) -> Injection:
        """Build `count` items, each sent `duplicate` times; the URL must be the emulator's."""
        from ofevents_cli.shells import emulator

        if not to or not to.startswith(("ws://", "wss://")):
            raise InputError(f"{event.name} is an EventBus event: it is injected into an emulator",
                             "pass --to ws://127.0.0.1:8765 (start one with `ofevents emulator`)")
        overrides = tuple(parse_assignment(text) for text in assignments)
        data = read_data(data_source)
        # the emulator assigns the event id and time: the stamp is not part of an emit item
        items = [build_payload(event, Stamp("", now()), data=data, overrides=overrides)
                 for _ in range(count)]
        key = resolve(None, "BFL_API_KEY", "eventbus.api_key", emulator.DEFAULT_API_KEY)
        token = resolve(None, "BFL_WS_TOKEN", "eventbus.ws_token", emulator.DEFAULT_WS_TOKEN)
        return cls(event, to, tuple(i for i in items for _ in range(duplicate)), key or "",
                   token or "")

    def request_text(self) -> str:
        """The `POST /v1/emit` request `--dry-run` shows (credentials masked)."""
        from ofevents_cli.shells.emit import emit_url

        body = json.dumps(list(self.items), ensure_ascii=False, indent=2)
        return (f"POST {emit_url(self.url)}\nX-API-Key: {mask(self.api_key)}\n"
                f"X-WS-Token: {mask(self.ws_token)}\n\n{body}")

    async def send(self) -> list[Outcome]:
        """Inject the items in requests of BATCH (one request for all could pass the
        emulator's 1 MiB body limit); one Outcome per event the emulator accepted."""
        from ofevents_cli.shells.emit import emit_events

        outcomes = []
        for first in range(0, len(self.items), BATCH):
            batch = list(self.items[first:first + BATCH])
            start = now()
            ids = await emit_events(self.url, self.api_key, self.ws_token, batch)
            sent = Sent(202, (now() - start) * 1000)
            outcomes += [Outcome(SignedDelivery(self.event.name, "eventbus", ident,
                                                encode(item), ()), sent)
                         for ident, item in zip(ids, batch, strict=False)]
        return outcomes


async def send_all(
    deliveries: Iterable[SignedDelivery],
    url: str,
    *,
    duplicate: int,
    concurrency: int,
    on_outcome: Callable[[Outcome], None],
    save: str | None = None,
    rotate: bool = False,
    http: HttpSettings | None = None,
) -> None:
    """Send each delivery `duplicate` times with a fixed pool of `concurrency` workers, each
    taking the next delivery as it is built (memory stays flat in the count); report each
    result as it comes (and keep it in `save`, a history session when `rotate`)."""
    from ofevents_cli.shells.history_home import open_capture
    from ofevents_cli.shells.http_client import proxy, session
    from ofevents_cli.shells.sender import send

    settings = http or HttpSettings()
    via = proxy(url)
    capture = open_capture(Path(save), rotate) if save else None
    failed: list[str] = []  # the first capture write that failed
    path = urlsplit(url).path or "/"
    jobs = (d for d in deliveries for _ in range(duplicate))  # shared: each worker takes one

    async def worker(client: aiohttp.ClientSession) -> None:
        for delivery in jobs:
            sent_at = now()
            sent = await send(client, "POST", url, delivery.headers, delivery.body, proxy=via)
            problem = None
            if capture is not None and not failed:
                response = (CaptureResponse(sent.status, round(sent.ms, 3)) if sent.status
                            else None)
                try:
                    capture.append(Capture(new_id("dlv"), format_timestamp(sent_at), "POST",
                                           path, delivery.headers, delivery.body,
                                           response=response))
                except OSError as exc:  # disk full (`--save /dev/full`): said once, not again
                    problem = f"{capture.path}: {exc.strerror or exc}"
                    failed.append(problem)
            elif capture is not None:
                problem = failed[0]
            on_outcome(Outcome(delivery, sent, problem))

    try:
        async with session(settings, limit=concurrency) as client:
            await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    finally:
        if capture is not None:
            capture.close()


def request_text(delivery: SignedDelivery, url: str) -> str:
    """The HTTP/1.1 request `--dry-run` shows instead of sending (LF-separated for reading):
    what the client of `send_all` writes, `Host` first and `Content-Length` last
    (shells/http_client.py: no header of the client's own)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in delivery.headers]
    lines.append(f"Content-Length: {len(delivery.body)}")
    return "\n".join(lines) + "\n\n" + delivery.body.decode("utf-8")
