"""`ofevents check URL`: grade a webhook endpoint the way an attacker and a provider would."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import finite


def _case_names(incomplete: str) -> list[str]:
    from ofevents_cli.core.check_cases import CASES

    return [name for name in (*CASES, "bad-input") if name.startswith(incomplete)]


@guarded
def check(
    url: Annotated[str, typer.Argument(help="The endpoint: 3000, localhost:3000/webhooks or a "
                                       "URL.", show_default=False)],
    provider: Annotated[
        str | None,
        typer.Option(help="ofapi, onlyfansapi, ofauth or eventbus (default: the one that has "
                     "--event).", show_default=False),
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(help="Event type to send (default: the provider's money or connection "
                     "event).", show_default=False),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", "-s", help="The endpoint's signing secret (default: the "
                     "provider's env var, then the config file).", show_default=False),
    ] = None,
    scheme: Annotated[
        str | None,
        typer.Option(help="Signature scheme: svix, standard-webhooks or ofauth-signature for "
                     "ofauth.", show_default=False),
    ] = None,
    envelope: Annotated[
        str | None,
        typer.Option(help="Envelope variant: integration|reference (ofapi), docs|sdk (ofauth).",
                     show_default=False),
    ] = None,
    case: Annotated[
        list[str] | None,
        typer.Option("--case", help="Run only this case (repeatable; bad-input = its four).",
                     show_default=False, autocompletion=_case_names),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds to wait for each answer (default: the provider's timeout, "
                     "10).", min=0.1, callback=lambda v: v if v is None else finite(v),
                     show_default=False),
    ] = None,
    json_lines: JsonOption = False,
    output: FormatOption = None,
) -> None:
    """Send a battery of genuine, forged and malformed deliveries to URL and grade the answers
    (exit 1 if any case fails, 3 if nothing answers)."""
    import asyncio

    from ofevents_cli.core.check_verdicts import exit_code, grade
    from ofevents_cli.formats import Format
    from ofevents_cli.render.check import CardRenderer
    from ofevents_cli.shells.checking import CheckPlan, run_check

    as_json = output_format(output, json_lines) is Format.JSON
    plan = CheckPlan.make(url, provider=provider, event=event, secret=secret, scheme=scheme,
                          envelope=envelope, cases=case or [], timeout=timeout)
    with CardRenderer(as_json, len(plan.cases)) as renderer:
        report = asyncio.run(run_check(plan, renderer.show))
    code = exit_code(report.results, report.unreachable is not None)
    if report.unreachable is not None:
        renderer.unreachable(plan.url, report.unreachable, int(code))
    else:
        renderer.finish(plan.url, plan.setup, grade(report.results), int(code))
    raise typer.Exit(int(code))
