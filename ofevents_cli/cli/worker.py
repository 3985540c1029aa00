"""`ofevents worker`: deliver what a Redis stream holds to your server, with a consumer group."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.options import complete_provider, finite


@guarded
def worker(
    source: Annotated[str, typer.Option("--from", metavar="URL", help="The stream: redis://[:password@]host:port/db?stream=S&group=G (group default ofevents).", show_default=False)],  # noqa: E501
    to: Annotated[str, typer.Option("--to", metavar="URL", help="Your server: 3000, localhost:3000/path or a URL (a delivery's captured path is appended).", show_default=False)],  # noqa: E501
    consumer: Annotated[str | None, typer.Option("--consumer", metavar="NAME", help="This worker's name in the group [default: host-pid].", show_default=False)] = None,  # noqa: E501
    claim_after: Annotated[float, typer.Option("--claim-after", metavar="SEC", min=0.1, callback=finite, help="Take over entries another consumer left pending this long.")] = 60.0,  # noqa: E501
    max_attempts: Annotated[int, typer.Option("--max-attempts", metavar="N", min=1, help="Attempts per entry before it moves to S:dead.")] = 5,  # noqa: E501
    retry_delay: Annotated[float, typer.Option("--retry-delay", metavar="SEC", min=0.0, callback=finite, help="Wait before the second attempt (doubling, at most 30 s).")] = 0.5,  # noqa: E501
    concurrency: Annotated[int, typer.Option("--concurrency", metavar="N", min=1, max=1000, help="Entries in flight at once.")] = 10,  # noqa: E501
    timeout: Annotated[float, typer.Option("--timeout", metavar="SEC", min=0.01, callback=finite, help="Seconds to wait for each answer.")] = 10.0,  # noqa: E501
    provider: Annotated[str, typer.Option("--provider", metavar="PROVIDER", autocompletion=complete_provider, help="Webhook format for event entries (eventbus = Standard Webhooks), as listen --forward-to.")] = "eventbus",  # noqa: E501
    secret: Annotated[str | None, typer.Option("--secret", metavar="SECRET", help="Signing secret for event entries [env of the --provider; default: listen's session secret].", show_default=False)] = None,  # noqa: E501
    until_empty: Annotated[bool, typer.Option("--until-empty", help="Exit once the group has nothing left: no new entry, none pending anywhere.")] = False,  # noqa: E501
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per entry attempt on stdout.")] = False,  # noqa: E501
) -> None:
    """Deliver a Redis stream's entries to your server: ack on 2xx, retry, dead-letter."""
    import asyncio

    from ofevents_cli.core import providers as registry
    from ofevents_cli.core.sink_urls import parse_redis_url
    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.core.worker import exit_code
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.worker import WorkerView
    from ofevents_cli.shells import config
    from ofevents_cli.shells.forwarder import ForwardSettings, check
    from ofevents_cli.shells.signals import stop_on_signals
    from ofevents_cli.shells.worker import WorkerSettings, default_consumer, work

    if provider not in registry.names():
        raise InputError(f"unknown --provider {provider!r}",
                         f"use one of {', '.join(registry.names())}")
    if consumer is not None and not consumer.strip():
        raise InputError("--consumer is empty", "give the worker a name, or leave it out")
    target = parse_target(to, default=None)
    known = ([secret] if secret else config.secrets_for(None, provider)
             if registry.provider(provider).secret_env else [])
    if not known:
        from ofevents_cli.shells.session_secret import session_secret

        known = [session_secret()]
    check(ForwardSettings(target, known[0], provider))  # a secret that cannot sign: now
    settings = WorkerSettings(
        source=parse_redis_url(source, flag="--from", worker=True), target=target,
        secret=known[0], consumer=consumer or default_consumer(), provider=provider,
        claim_after=claim_after, max_attempts=max_attempts, retry_delay=retry_delay,
        concurrency=concurrency, timeout=timeout, until_empty=until_empty)
    view = WorkerView(json_lines)

    async def main() -> None:
        stop, force = asyncio.Event(), asyncio.Event()
        stop_on_signals(stop, force)
        async for value in work(settings, stop):
            view.show(value)

    asyncio.run(main())
    view.summary()
    code = exit_code(view.tally)
    if code:
        raise typer.Exit(int(code))
