"""The selection flags `history`, `replay` and `inspect` share, and the Query they make."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ofevents_cli.cli.options import complete_event, complete_provider

if TYPE_CHECKING:
    from ofevents_cli.core.history_query import Query


def _complete_status(incomplete: str) -> list[str]:
    return [s for s in ("2xx", "3xx", "4xx", "5xx", "none") if s.startswith(incomplete)]


Events = Annotated[list[str] | None, typer.Option(
    "--event", "-e", help="Only this event type; a glob like 'tip.*' works (repeatable).",
    show_default=False, autocompletion=complete_event)]
Providers = Annotated[list[str] | None, typer.Option(
    "--provider", "-p", help="Only this provider: ofapi, onlyfansapi, ofauth or eventbus "
    "(repeatable).", show_default=False, autocompletion=complete_provider)]
Accounts = Annotated[list[str] | None, typer.Option(
    "--account", "-a", help="Only this account id (repeatable).", show_default=False)]
Since = Annotated[str | None, typer.Option(
    help="Only records received since: 2h, 30m, 7d, unix seconds or ISO-8601 (local time "
    "unless it has an offset).", show_default=False)]
Until = Annotated[str | None, typer.Option(
    help="Only records received until (same forms as --since).", show_default=False)]
Statuses = Annotated[list[str] | None, typer.Option(
    "--status", help="Only deliveries answered with this status: 5xx, 404, 2xx, or none "
    "(repeatable).", show_default=False, autocompletion=_complete_status)]
Invalid = Annotated[bool, typer.Option(
    "--invalid", help="Only deliveries whose signature was recorded invalid.")]
Grep = Annotated[str | None, typer.Option(
    help="Only records whose headers or body contain TEXT (case-insensitive).",
    show_default=False)]
Last = Annotated[int | None, typer.Option(
    help="Only the N newest matching records.", min=1, show_default=False)]
Secrets = Annotated[list[str] | None, typer.Option(
    "--secret", "-s", help="Secret to check signatures with (repeatable; default: the "
    "providers' env vars).", show_default=False)]


def build_query(
    events: list[str] | None = None,
    providers: list[str] | None = None,
    accounts: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    statuses: list[str] | None = None,
    invalid: bool = False,
    grep: str | None = None,
    ids: list[str] | None = None,
) -> Query:
    """The flags as one Query; a bad value is an InputError naming its flag."""
    from datetime import datetime

    from ofevents_cli.core import providers as registry
    from ofevents_cli.core.history_query import Query, parse_moment, parse_status
    from ofevents_cli.errors import InputError
    from ofevents_cli.shells.clock import now

    local = datetime.now().astimezone().tzinfo
    assert local is not None
    moments: list[float | None] = []
    for flag, text in (("--since", since), ("--until", until)):
        try:
            moments.append(None if text is None else parse_moment(text, now(), local))
        except ValueError:
            raise InputError(f"{flag} {text!r} is not a moment",
                             "use 2h, 30m, 7d, unix seconds, or ISO-8601 "
                             "(2026-11-22 or 2026-11-22T10:30:00Z)") from None
    for provider in providers or ():
        if provider not in registry.names():
            raise InputError(f"unknown --provider {provider!r}",
                             f"use {', '.join(registry.names())}")
    try:
        patterns = tuple(parse_status(s) for s in statuses or ())
    except ValueError as exc:
        raise InputError(f"--status {exc}", "use a code (404), a class (5xx), or none") from None
    if grep == "":
        raise InputError("--grep is empty", "give the text to look for")
    return Query(tuple(events or ()), tuple(providers or ()), tuple(accounts or ()),
                 moments[0], moments[1], patterns, invalid, grep, tuple(ids or ()))
