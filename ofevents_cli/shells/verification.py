"""Offline verification: stream capture files (or one body + headers) through the core verifier.

A file that cannot be opened or a line that cannot be read becomes an `Unreadable` value and the
rest is still verified; memory stays flat in the file size.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ofevents_cli.core import providers as registry
from ofevents_cli.core.capture import Capture, CaptureProblem, parse_timestamp, read_captures
from ofevents_cli.core.diagnosis import Cause, diagnose
from ofevents_cli.core.headers import Headers, index_headers, parse_header_line
from ofevents_cli.core.masking import mask
from ofevents_cli.core.signing import Verdict, detect_scheme, verify
from ofevents_cli.errors import InputError
from ofevents_cli.shells.capture_file import read_capture_file
from ofevents_cli.shells.clock import now
from ofevents_cli.shells.config import secret_envs, secrets_for


class Checked(NamedTuple):
    """One delivery and its verdict (with the diagnosis when asked to explain).

    A NamedTuple, like Verdict: one is made per delivery while streaming large captures.
    """

    id: str
    line: int | None
    source: str
    provider: str | None
    verdict: Verdict
    causes: tuple[Cause, ...] = ()
    secret: str | None = None  # with --explain: the masked secret `expected` was made with


@dataclass(frozen=True)
class Unreadable:
    """Input that could not be read: a whole file, or one line of it."""

    source: str
    line: int | None
    message: str


@dataclass(frozen=True)
class Incomplete:
    """A captured delivery whose body did not arrive whole: its signature cannot be judged."""

    source: str
    line: int
    id: str


@dataclass(frozen=True)
class Keyring:
    """The secrets to try: every `--secret` for all deliveries, else per provider."""

    flags: tuple[str, ...]
    by_provider: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, flags: Sequence[str] | None, provider: str | None) -> Keyring:
        """From flags, else env vars / config file; InputError when there is none at all."""
        holders = registry.names("webhook")
        found = {} if flags else {p: tuple(secrets_for(None, p)) for p in holders}
        ring = cls(tuple(flags or ()), {p: s for p, s in found.items() if s})
        wanted = [provider] if provider in holders else list(holders)
        if not ring.flags and not any(p in ring.by_provider for p in wanted):
            raise InputError("no webhook secret to verify with",
                             f"pass --secret or set {secret_envs(provider)}")
        return ring

    def secrets(self, provider: str | None) -> Sequence[str]:
        """The candidates for a delivery of `provider`."""
        return self.flags or self.by_provider.get(provider or "", ())


@dataclass(frozen=True)
class Settings:
    """How to verify: provider (None = detect), tolerance, fixed clock, explain or not."""

    provider: str | None
    tolerance: int
    now: float | None
    explain: bool


def check(
    ident: str,
    line: int | None,
    source: str,
    body: bytes,
    headers: Headers,
    received: float,
    keys: Keyring,
    settings: Settings,
) -> Checked:
    """Verify one delivery against the clock `settings.now`, else the moment it was received."""
    headers = index_headers(headers)
    scheme = detect_scheme(headers, settings.provider)
    provider = registry.owner(scheme).name if scheme else settings.provider
    secrets = keys.secrets(provider)
    now = settings.now if settings.now is not None else received
    verdict = verify(body, headers, secrets, now=now, tolerance=settings.tolerance,
                     provider=settings.provider)  # the same detection, cheaper than checking
    # the form of a given scheme again
    if verdict.reason is not None and verdict.reason.value == "bad_secret" and not secrets:
        verdict = verdict._replace(detail=f"no secret for {provider} (pass --secret or set "
                                          f"{secret_envs(provider)})")
    if not settings.explain:
        return Checked(ident, line, source, provider, verdict)
    causes = tuple(diagnose(verdict, body, secrets, now, settings.tolerance))
    used = mask(secrets[verdict.secret]) if verdict.secret is not None else None
    return Checked(ident, line, source, provider, verdict, causes, used)


def moment(text: str | None) -> float | None:
    """`--now`: unix seconds or ISO-8601; InputError otherwise."""
    if text is None:
        return None
    try:
        return float(text) if text.replace(".", "", 1).isdigit() else parse_timestamp(text)
    except ValueError:
        hint = "use unix seconds (1614265330) or ISO-8601 (2026-11-22T10:30:00Z)"
        raise InputError(f"--now {text!r} is not a moment", hint) from None


def check_body(
    body_file: str, header_lines: Sequence[str], keys: Keyring, settings: Settings
) -> Iterator[Checked | Unreadable | Incomplete]:
    """One delivery given as a raw body file (- for stdin) and `Name: value` headers."""
    headers = []
    for text in header_lines:
        try:
            headers.append(parse_header_line(text))
        except ValueError as exc:
            raise InputError(str(exc), "write headers as --header 'Name: value'") from None
    try:
        raw = sys.stdin.buffer.read() if body_file == "-" else Path(body_file).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read --body {body_file}: {exc.strerror or exc}",
                         "check the path") from None
    received = settings.now if settings.now is not None else now()
    yield check("body", None, body_file, raw, headers, received, keys, settings)


def check_captures(
    sources: Sequence[str], keys: Keyring, settings: Settings
) -> Iterator[Checked | Unreadable | Incomplete]:
    """Every delivery of every capture file, in order; `-` reads standard input."""
    for source in sources:
        try:
            # the verdict needs no more than a lean read
            yield from _checked(read_capture_file(source, lean=True), source, keys, settings)
        except OSError as exc:
            yield Unreadable(source, None, exc.strerror or str(exc))


def check_piece(piece: bytes, first_line: int, source: str, keys: Keyring, settings: Settings
                ) -> Iterator[Checked | Unreadable | Incomplete]:
    """Every delivery of a piece of a capture file (whole lines) whose first line is
    `first_line`, as `check_captures` does them."""
    lines = io.BytesIO(piece)  # split where a file is: at b"\n" only
    yield from _checked(read_captures(lines, lean=True, start=first_line), source, keys, settings)


def _checked(items: Iterable[Capture | CaptureProblem], source: str, keys: Keyring,
             settings: Settings) -> Iterator[Checked | Unreadable | Incomplete]:
    for item in items:
        if isinstance(item, CaptureProblem):
            yield Unreadable(source, item.line, item.message)
        elif item.truncated:
            yield Incomplete(source, item.line, item.id)
        else:
            yield check(item.id, item.line, source, item.body, item.headers,
                        item.received_epoch, keys, settings)
