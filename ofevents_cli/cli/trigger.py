"""`ofevents trigger`: send a realistic, correctly signed test delivery of any event type."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import (
    CACERT_HELP,
    INSECURE_HELP,
    FixturesOption,
    complete_event,
    complete_provider,
    finite,
    provider_names,
)


@guarded
def trigger(
    event: Annotated[str, typer.Argument(help="Event type, e.g. tip.received (see `ofevents "
                                         "events`).", show_default=False,
                                         autocompletion=complete_event)],
    provider: Annotated[
        str | None,
        typer.Option(help=f"{provider_names()} (default: the one that has EVENT).",
                     show_default=False, autocompletion=complete_provider),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(help="Where to send: 3000, localhost:3000 or a URL (ws://… injects "
                     "eventbus events into an emulator). Default: http://localhost:3000/webhooks.",
                     show_default=False),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", "-s", help="Signing secret (default: the provider's env var).",
                     show_default=False),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="PATH=VALUE to change in the payload (VALUE parsed as JSON, "
                     "else a string), e.g. data.amount=100.", show_default=False),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(help="JSON file (- for stdin) replacing the fixture's data.",
                     show_default=False),
    ] = None,
    count: Annotated[int, typer.Option(help="How many deliveries, each fresh.", min=1)] = 1,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.", min=1)] = 1,
    duplicate: Annotated[
        int, typer.Option(help="Send each delivery K times, identical (idempotency test).", min=1)
    ] = 1,
    scheme: Annotated[
        str | None,
        typer.Option(help="Signature scheme: svix, standard-webhooks or ofauth-signature for "
                     "ofauth; ofapi (sha256=<hex>) or ofapi-hex (bare hex) for ofapi. Default: "
                     "the provider's first, for ofapi the form its envelope's document shows "
                     "(integration: ofapi, reference: ofapi-hex).", show_default=False),
    ] = None,
    envelope: Annotated[
        str | None,
        typer.Option(help="Envelope variant: integration|reference (ofapi), docs|sdk (ofauth). "
                     "Default: the provider's first (revenue.received: reference).",
                     show_default=False),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the exact signed request; send nothing.")
    ] = False,
    save: Annotated[
        str | None,
        typer.Option(metavar="[FILE]", help="Keep each delivery: alone, in the history "
                     "(`ofevents history`); with FILE, appended to that capture file.",
                     show_default=False),
    ] = None,
    json_lines: JsonOption = False,
    output: FormatOption = None,
    fixtures: FixturesOption = None,
    timeout: Annotated[float, typer.Option(metavar="SEC", callback=finite, min=0.01,
                                           help="Seconds to wait for each answer.")] = 10.0,
    insecure: Annotated[bool, typer.Option("--insecure", help=INSECURE_HELP)] = False,
    cacert: Annotated[str | None, typer.Option(metavar="FILE", help=CACERT_HELP,
                                               show_default=False)] = None,
) -> None:
    """Sign and send a realistic test delivery of EVENT."""
    from ofevents_cli.core.catalogue import find
    from ofevents_cli.core.exit_policy import SendTally, trigger_exit
    from ofevents_cli.errors import InputError
    from ofevents_cli.formats import Format
    from ofevents_cli.render.output import emit_json
    from ofevents_cli.render.triggers import OutcomeRenderer
    from ofevents_cli.shells import event_loop
    from ofevents_cli.shells.http_client import HttpSettings, tls
    from ofevents_cli.shells.triggering import Injection, Plan, request_text, send_all
    from ofevents_cli.shells.user_fixtures import load_user_fixtures

    fmt = output_format(output, json_lines)
    load_user_fixtures(fixtures)
    found = find(event, provider)
    tally = SendTally()
    if found.provider == "eventbus":
        if save is not None:
            raise InputError("--save keeps webhook deliveries; EventBus events have none",
                             "drop --save (the emulator keeps the events in its resume buffer)")
        injection = Injection.make(found, to, set_ or [], data, count, duplicate)
        if dry_run:
            print(injection.request_text())
            return
        renderer = OutcomeRenderer(fmt, injection.url, 0, tally)
        for outcome in event_loop.run(injection.send()):
            renderer.show(outcome)
        renderer.close("event")
        raise typer.Exit(int(trigger_exit(tally)))
    plan = Plan.make(found, to, secret, set_ or [], data, scheme, envelope)
    history = save == ""  # `--save` alone
    if history and not dry_run:
        from ofevents_cli.shells.clock import now
        from ofevents_cli.shells.history_home import session_path

        save = str(session_path("trigger", now()))
    deliveries = plan.build(count)
    if dry_run:
        for delivery in deliveries:
            if fmt is Format.JSON:
                emit_json(plan.request_record(delivery))
            else:
                print(request_text(delivery, plan.url), end="\n\n")
        return
    http = HttpSettings(timeout, insecure, cacert)
    tls(http)  # an unreadable --cacert is a usage error before anything is sent
    renderer = OutcomeRenderer(fmt, plan.url, count * duplicate, tally)
    try:
        with renderer:
            event_loop.run(send_all(deliveries, plan.url, duplicate=duplicate,
                                    concurrency=concurrency, on_outcome=renderer.show,
                                    save=save, rotate=history, http=http))
    finally:
        renderer.close()
    if history:
        from ofevents_cli.render.output import say

        say(f"kept in the history: {save} (see `ofevents history`)")
    raise typer.Exit(int(trigger_exit(tally)))
