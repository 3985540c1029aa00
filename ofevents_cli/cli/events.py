"""`ofevents events`: the event catalogue, and `events show NAME` for one sample payload."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.examples import epilog, short_help
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import (
    FixturesOption,
    complete_event,
    complete_provider,
    provider_names,
)

app = typer.Typer(
    help="The event catalogue: every event type ofevents can trigger, per provider.",
    rich_markup_mode=None,
    invoke_without_command=True,
)




@app.callback()
@guarded
def events(
    ctx: typer.Context,
    provider: Annotated[
        str | None,
        typer.Option("--provider", "-p", help=f"Only this provider's events: {provider_names()}.",
                     autocompletion=complete_provider),
    ] = None,
    json_lines: JsonOption = False,
    output: FormatOption = None,
    fixtures: FixturesOption = None,
) -> None:
    """List every event type: name, provider, one-line description."""
    if ctx.invoked_subcommand is not None:  # `events show` reads its own --fixtures
        return
    from ofevents_cli.shells.user_fixtures import load_user_fixtures

    load_user_fixtures(fixtures)
    from ofevents_cli.core import catalogue
    from ofevents_cli.formats import Format
    from ofevents_cli.render.output import console, emit_json, surely_plain

    listed = catalogue.events(provider)
    if output_format(output, json_lines) is Format.JSON:
        for event in listed:
            emit_json({"name": event.name, "provider": event.provider,
                       "description": event.description})
        return
    out = None if surely_plain() else console()  # rich only when it may draw the table
    if out is None or not out.is_terminal or out.no_color:
        width = max(len(e.name) for e in listed)
        owner = max(len(e.provider) for e in listed)
        for event in listed:
            print(f"{event.name:<{width}}  {event.provider:<{owner}}  {event.description}")
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE, header_style="bold")
    table.add_column("Event", style="cyan", no_wrap=True)
    table.add_column("Provider", no_wrap=True)
    table.add_column("Description")
    for index, event in enumerate(listed):
        if index and event.provider != listed[index - 1].provider:
            table.add_section()
        table.add_row(event.name, event.provider, event.description)
    out.print(table)


@app.command("show", short_help=short_help("events show"),
             epilog=epilog("events show"))
@guarded
def show(
    name: Annotated[str, typer.Argument(help="The event name, e.g. tip.received.",
                                        autocompletion=complete_event)],
    provider: Annotated[
        str | None,
        typer.Option("--provider", "-p", help="The provider, when several have an event of "
                     f"that name: {provider_names()}.", autocompletion=complete_provider),
    ] = None,
    envelope: Annotated[
        str | None,
        typer.Option("--envelope", help="The provider's envelope variant (ofapi: integration, "
                     "reference; ofauth: docs, sdk). Default: the provider's first, or the one "
                     "the event's only document uses (revenue.received: reference)."),
    ] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the exact compact bytes trigger sends.")
    ] = False,
    fixtures: FixturesOption = None,
) -> None:
    """Print the sample payload as `ofevents trigger` would send it (fresh id and time)."""
    import json
    import sys

    from ofevents_cli.core.catalogue import find
    from ofevents_cli.core.payloads import Stamp, build_payload, encode
    from ofevents_cli.shells.clock import new_id, now
    from ofevents_cli.shells.user_fixtures import load_user_fixtures

    load_user_fixtures(fixtures)
    event = find(name, provider)
    payload = build_payload(event, Stamp(new_id("evt"), now()), envelope=envelope)
    if raw:
        sys.stdout.buffer.write(encode(payload) + b"\n")
    else:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
