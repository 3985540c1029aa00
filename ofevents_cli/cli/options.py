"""Checks shared by the commands' options (typer callbacks run while the flags are parsed)."""

from __future__ import annotations

import math
from typing import Annotated

import typer


def finite(value: float) -> float:
    """Refuse `inf` and `nan` (`1e309` parses as inf): a deadline or rate must be a number."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def provider_names(kind: str | None = None, *, auto: bool = False) -> str:
    """`auto, ofapi, onlyfansapi or ofauth`: the choices of a --provider flag, for its help."""
    from ofevents_cli.core import providers as registry

    names = (["auto"] if auto else []) + list(registry.names(kind))
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def complete_provider(incomplete: str) -> list[str]:
    """Shell completion of provider names."""
    from ofevents_cli.core import providers as registry

    return [name for name in registry.names() if name.startswith(incomplete)]


def complete_webhook_provider(incomplete: str) -> list[str]:
    """Shell completion of --provider where `auto` and the webhook providers apply."""
    from ofevents_cli.core import providers as registry

    return [n for n in ("auto", *registry.names("webhook")) if n.startswith(incomplete)]


def complete_event(incomplete: str) -> list[str]:
    """Shell completion of event names."""
    from ofevents_cli.core.catalogue import all_events

    return sorted({e.name for e in all_events() if e.name.startswith(incomplete)})


def envelope_choices() -> str:
    """`ofapi: integration, reference; ofauth: docs, sdk`: providers with a choice of envelope."""
    from ofevents_cli.core import providers as registry

    return "; ".join(f"{p.name}: {', '.join(e.name for e in p.envelopes)}"
                     for p in registry.providers() if len(p.envelopes) > 1)


def scheme_choices() -> str:
    """`ofapi: ofapi, ofapi-hex; ofauth: svix, …`: providers with a choice of scheme."""
    from ofevents_cli.core import providers as registry

    return "; ".join(f"{p.name}: {', '.join(p.schemes)}"
                     for p in registry.providers("webhook") if len(p.schemes) > 1)


def webhook_provider(value: str) -> str | None:
    """A `--provider auto|P` value as the provider it names (None for auto); InputError for a
    name that is not a webhook provider."""
    from ofevents_cli.core import providers as registry
    from ofevents_cli.errors import InputError

    if value == "auto":
        return None
    if value not in registry.names("webhook"):
        raise InputError(f"unknown --provider {value!r}",
                         f"use {provider_names('webhook', auto=True)}")
    return value


FixturesOption = Annotated[
    str | None,
    typer.Option("--fixtures", metavar="DIR", show_default=False,
                 help="A folder of your own event types (<provider>/<event>.json), on top of "
                      "the built-in ones and <config dir>/fixtures/."),
]


INSECURE_HELP = ("Do not verify the https:// target's TLS certificate (a local server with a "
                 "self-signed one).")
CACERT_HELP = "Trust the https:// target's certificate if this PEM file's CA signed it."
