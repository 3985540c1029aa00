"""`ofevents forward`: a public URL (ngrok) for real deliveries, relayed to your local server."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import (
    CACERT_HELP,
    INSECURE_HELP,
    complete_webhook_provider,
    finite,
    provider_names,
    webhook_provider,
)


@guarded
def forward(
    to: Annotated[str | None, typer.Option(
        help="Your server: 3000, localhost:3000 or a URL (its path prefixes every relayed "
        "path); it answers every delivery. Optional with --route.", show_default=False)] = None,
    tunnel: Annotated[str, typer.Option(help="ngrok, or none (loopback only).")] = "ngrok",
    port: Annotated[int, typer.Option(help="Relay port on 127.0.0.1 (0: any free port).",
                                      min=0, max=65535)] = 0,
    path: Annotated[str, typer.Option(help="Prefix added to every relayed path, after the "
                                      "--to path, e.g. /webhooks.")] = "",
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", "-s", help="Webhook secret to check signatures (repeatable; "
                     "default: the providers' env vars).", show_default=False),
    ] = None,
    provider: Annotated[str, typer.Option(help=f"{provider_names('webhook', auto=True)}.",
                                          autocompletion=complete_webhook_provider)] = "auto",
    capture: Annotated[
        str | None,
        typer.Option(help="Capture file to append to (default: a new session file in the "
                     "history directory, see `ofevents history`).", show_default=False),
    ] = None,
    reject_invalid: Annotated[
        bool, typer.Option("--reject-invalid", help="Answer 401 to a bad signature and do not "
                           "relay it.")
    ] = False,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes (413 beyond).",
                                          min=1)] = 1024 * 1024,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the target (504 after).",
                                           min=0.01, callback=finite)] = 10.0,
    authtoken: Annotated[
        str | None,
        typer.Option(help="ngrok authtoken (default: NGROK_AUTHTOKEN, the config file, or "
                     "ngrok's own config).", show_default=False),
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Your reserved ngrok domain.",
                                               show_default=False)] = None,
    region: Annotated[str | None, typer.Option(help="ngrok region (us, eu, ap, …).",
                                               show_default=False)] = None,
    ngrok_path: Annotated[
        str | None,
        typer.Option(help="The ngrok agent executable (default: PYNGROK_NGROK_PATH, else "
                     "pyngrok's copy in ~/.config/ngrok/, downloaded on first use).",
                     show_default=False),
    ] = None,
    ngrok_config: Annotated[str | None, typer.Option(help="ngrok config file to use.",
                                                     show_default=False)] = None,
    tunnel_timeout: Annotated[
        float, typer.Option(callback=finite, envvar="OFEVENTS_TUNNEL_TIMEOUT", min=0.1,
                            help="Seconds the ngrok agent gets to come up.")
    ] = 20.0,
    json_lines: JsonOption = False,
    output: FormatOption = None,
    route: Annotated[
        list[str] | None,
        typer.Option("--route", metavar="PATTERN[@ACCOUNT,…]=URL",
                     help="Relay the deliveries that match (tip.received, subscriber.*, *; only "
                     "these accounts) to URL too; repeatable. The first match answers the "
                     "caller (after --to), the others get a copy [default: the config file's "
                     "[[routes]]].", show_default=False),
    ] = None,
    routes_file: Annotated[
        str | None,
        typer.Option("--routes", metavar="FILE", help="A TOML file of [[routes]] tables "
                     "(events, accounts, to, secret, provider, timeout).", show_default=False),
    ] = None,
    sink: Annotated[
        list[str] | None,
        typer.Option("--sink", metavar="URL", help="Store every delivery in a Redis stream: "
                     "redis://[:password@]host:port/db?stream=NAME&maxlen=N; repeatable "
                     "[default: the config file's [[sinks]]].", show_default=False),
    ] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help=INSECURE_HELP)] = False,
    cacert: Annotated[str | None, typer.Option(metavar="FILE", help=CACERT_HELP,
                                               show_default=False)] = None,
) -> None:
    """Relay real deliveries to your local server: record, verify, show each one."""
    import asyncio
    from pathlib import Path

    from ofevents_cli.core.exit_policy import ForwardTally, forward_exit
    from ofevents_cli.core.masking import mask
    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.deliveries import DeliveryView
    from ofevents_cli.shells import clock, event_loop
    from ofevents_cli.shells.config import resolve, secrets_for
    from ofevents_cli.shells.history_home import session_path
    from ofevents_cli.shells.relay import RelaySettings
    from ofevents_cli.shells.relay_server import run_relay, stop_on_signals
    from ofevents_cli.shells.route_config import routes_for, sinks_for
    from ofevents_cli.shells.tunnel import TunnelSettings

    if tunnel not in ("ngrok", "none"):
        raise InputError(f"unknown --tunnel {tunnel!r}", "use --tunnel ngrok or --tunnel none")
    if path and not path.startswith("/"):
        path = "/" + path
    if any(not s.strip() for s in secret or ()):
        raise InputError("--secret is empty", "pass the webhook secret, or leave --secret out "
                         "to use the provider's *_WEBHOOK_SECRET")
    chosen = webhook_provider(provider)
    secrets = tuple(secrets_for(secret, chosen))
    if reject_invalid and not secrets:
        raise InputError("--reject-invalid needs --secret or a *_WEBHOOK_SECRET",
                         "without a secret no signature can be checked")
    tunnel_settings = TunnelSettings(
        kind=tunnel, authtoken=resolve(authtoken, "NGROK_AUTHTOKEN", "ngrok.authtoken"),
        domain=domain, region=region, ngrok_path=ngrok_path, ngrok_config=ngrok_config,
        timeout=tunnel_timeout)
    if tunnel == "ngrok" and tunnel_settings.authtoken and ngrok_config:
        from ofevents_cli.render.output import warn

        warn("with --ngrok-config the authtoken is passed on the ngrok agent's command line, "
             "where other users can see it; put it in that file (`authtoken:`) instead")
    routes = routes_for("forward", route or [], routes_file, default_path="")
    if not to and not routes:
        raise InputError("forward needs --to or a --route",
                         "pass --to localhost:3000, or --route 'PATTERN=URL' (or [[routes]] in "
                         "the config file)")
    settings = RelaySettings(
        target=parse_target(to, default_path="", default=None) if to else "",
        routes=routes, sinks=sinks_for("forward", sink or []),
        capture=Path(capture) if capture else session_path("forward", clock.now()),
        history=not capture,
        port=port, path=path, secrets=secrets, provider=chosen, reject_invalid=reject_invalid,
        max_body=max_body, timeout=timeout, tunnel=tunnel_settings, insecure=insecure,
        cacert=cacert)
    shown = ", ".join(mask(s) for s in secrets)
    tally = ForwardTally()
    view = DeliveryView(output_format(output, json_lines),
                        f"checked with {shown}" if secrets else
                        "not checked (pass --secret or set the provider's *_WEBHOOK_SECRET)",
                        tally)

    async def main() -> None:
        stop, force = asyncio.Event(), asyncio.Event()
        stop_on_signals(stop, force)
        async for event in run_relay(settings, stop, force):
            view.show(event)

    try:
        event_loop.run(main())
    finally:
        view.close()
    view.summary()
    raise typer.Exit(int(forward_exit(tally)))
