"""`ofevents listen`: tail the EventBus (or the embedded emulator with --demo)."""

from typing import TYPE_CHECKING, Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import finite

if TYPE_CHECKING:
    from ofevents_cli.core.routes import Route
    from ofevents_cli.core.sink_urls import RedisSpec
    from ofevents_cli.shells.fanout import Plan
    from ofevents_cli.shells.forwarder import ForwardSettings


@guarded
def listen(
    url: Annotated[str | None, typer.Option("--url", metavar="URL", help="EventBus URL [env OFEVENTS_EVENTBUS_URL; default ws://127.0.0.1:8765/v1/events].")] = None,  # noqa: E501
    api_key: Annotated[str | None, typer.Option("--api-key", metavar="KEY", help="API key [env BFL_API_KEY].")] = None,  # noqa: E501
    ws_token: Annotated[str | None, typer.Option("--ws-token", metavar="TOKEN", help="WS token [env BFL_WS_TOKEN].")] = None,  # noqa: E501
    event: Annotated[list[str] | None, typer.Option("--event", "-e", metavar="EVENT", help="Only this event type (repeatable; default: all).")] = None,  # noqa: E501
    account: Annotated[list[str] | None, typer.Option("--account", "-a", metavar="ID", help="Only this account id (repeatable; default: all).")] = None,  # noqa: E501
    as_json: JsonOption = False,
    output: FormatOption = None,
    max_events: Annotated[int | None, typer.Option("--max-events", metavar="N", min=1, help="Exit 0 after N events.")] = None,  # noqa: E501
    forward_to: Annotated[str | None, typer.Option("--forward-to", metavar="URL", help="POST each event as a signed webhook to this URL (3000, localhost:3000/path, or a URL).")] = None,  # noqa: E501
    provider: Annotated[str, typer.Option("--provider", metavar="PROVIDER", help="Webhook format for --forward-to (eventbus = Standard Webhooks).")] = "eventbus",  # noqa: E501
    secret: Annotated[str | None, typer.Option("--secret", metavar="SECRET", help="Signing secret for --forward-to [env of the --provider, e.g. OFAPI_WEBHOOK_SECRET; default: the saved session secret].")] = None,  # noqa: E501
    demo: Annotated[bool, typer.Option("--demo", help="Start the embedded emulator with realistic traffic and tail it.")] = False,  # noqa: E501
    max_retries: Annotated[int | None, typer.Option("--max-retries", metavar="N", min=0, help="Reconnect at most N times in a row (default: unlimited).")] = None,  # noqa: E501
    no_reconnect: Annotated[bool, typer.Option("--no-reconnect", help="Stop when the connection ends.")] = False,  # noqa: E501
    resume: Annotated[str | None, typer.Option("--resume", metavar="ID|auto", help="Start after this event id (replayed from the server's buffer); auto: after the newest event in the first --sink's stream.")] = None,  # noqa: E501
    route: Annotated[list[str] | None, typer.Option("--route", metavar="PATTERN[@ACCOUNT,…]=URL", help="POST the events that match (tip, subscriber_*, *; only these accounts) as signed webhooks to URL; repeatable, each event to every route it matches [default: the config file's [[routes]]].")] = None,  # noqa: E501
    routes_file: Annotated[str | None, typer.Option("--routes", metavar="FILE", help="A TOML file of [[routes]] tables (events, accounts, to, secret, provider, timeout).")] = None,  # noqa: E501
    sink: Annotated[list[str] | None, typer.Option("--sink", metavar="URL", help="Store every event in a Redis stream: redis://[:password@]host:port/db?stream=NAME&maxlen=N; repeatable [default: the config file's [[sinks]]].")] = None,  # noqa: E501
    keep: Annotated[str | None, typer.Option("--keep", metavar="[FILE]", help="Keep each event: alone, in the history (`ofevents history`); with FILE, appended to that file.")] = None,  # noqa: E501
    print_secret: Annotated[bool, typer.Option("--print-secret", help="Print the --forward-to session secret and exit.")] = False,  # noqa: E501
    forward_timeout: Annotated[float, typer.Option("--forward-timeout", metavar="SEC", min=0.01, callback=finite, help="Seconds each --forward-to attempt waits for an answer (then retried).")] = 10.0,  # noqa: E501
    insecure: Annotated[bool, typer.Option("--insecure", help="Do not verify an https:// --forward-to target's TLS certificate (a local server with a self-signed one).")] = False,  # noqa: E501
    cacert: Annotated[str | None, typer.Option("--cacert", metavar="FILE", help="Trust an https:// --forward-to target's certificate if this PEM file's CA signed it.")] = None,  # noqa: E501
) -> None:
    """Tail the EventBus: one line per event (or JSON), optionally forwarded as webhooks."""
    # the emulator, the forwarder and the session secret are imported only by the flags that
    # use them: a plain `listen` starts without them
    if print_secret:
        from ofevents_cli.shells.session_secret import session_secret

        print(session_secret())
        return

    import contextlib
    import dataclasses
    import os

    from ofevents_cli.core import providers as registry
    from ofevents_cli.core.catalogue import find
    from ofevents_cli.core.exit_policy import ListenTally, listen_exit
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.events import Renderer
    from ofevents_cli.shells import config, event_loop, eventbus, listener
    from ofevents_cli.shells.user_fixtures import load_user_fixtures

    load_user_fixtures()
    for name in event or ():
        find(name, "eventbus")  # a typo would silently match nothing: say so instead
    demo_settings = None
    if demo:
        from ofevents_cli.shells.emulator import EmulatorSettings

        demo_settings = EmulatorSettings(port=0, rate=3.0)
    key = config.resolve(api_key, "BFL_API_KEY", "eventbus.api_key")
    token = config.resolve(ws_token, "BFL_WS_TOKEN", "eventbus.ws_token")
    if demo_settings is None and not (key and token):
        missing = "--api-key (BFL_API_KEY)" if not key else "--ws-token (BFL_WS_TOKEN)"
        raise InputError(f"no EventBus credentials: {missing} is not set",
                         f"pass {missing.split()[0]}, or try `ofevents listen --demo`")
    client = eventbus.ClientSettings(
        url=config.resolve(url, "OFEVENTS_EVENTBUS_URL", "eventbus.url",
                           eventbus.DEFAULT_URL) or eventbus.DEFAULT_URL,
        api_key=key or "", ws_token=token or "",
        subscribe=tuple(event or ()), accounts=tuple(account) if account else None,
        resume=resume, max_retries=0 if no_reconnect else max_retries)
    forward = None
    if forward_to:
        from ofevents_cli.core.targets import parse_target
        from ofevents_cli.shells import forwarder
        from ofevents_cli.shells.session_secret import session_secret

        known = ([secret] if secret else config.secrets_for(None, provider)
                 if registry.provider(provider).secret_env else [])
        forward = forwarder.ForwardSettings(parse_target(forward_to, flag="--forward-to"),
                                            known[0] if known else session_secret(), provider,
                                            timeout=forward_timeout, insecure=insecure,
                                            cacert=cacert)
        forwarder.check(forward)
    from ofevents_cli.core.routes import is_glob
    from ofevents_cli.shells.route_config import routes_for, sinks_for

    routes = routes_for("listen", route or [], routes_file, default_path="/webhooks")
    sinks = sinks_for("listen", sink or [])
    for chosen in routes:  # a typo in an event name would route nothing: say so instead
        for pattern in chosen.events:
            if not is_glob(pattern):
                try:
                    find(pattern, "eventbus")
                except InputError as exc:
                    raise InputError(f"{chosen.label}: {exc.message}", exc.hint) from None
    if (secret or provider != "eventbus" or insecure or cacert) and not forward_to \
            and not routes:
        raise InputError("--secret, --provider, --insecure and --cacert only apply to "
                         "--forward-to and --route",
                         "add --forward-to URL or --route PATTERN=URL, or drop them")
    plan = None
    if routes or sinks or resume == "auto":
        if resume == "auto" and not sinks:
            raise InputError("--resume auto needs a --sink (it resumes after the newest "
                             "event stored there)", "add --sink redis://…, or --resume ID")
        plan = _plan(routes, sinks, forward, provider, secret, resume == "auto",
                     (forward_timeout, insecure, cacert))
        client = dataclasses.replace(client, resume=None if resume == "auto" else resume)
        forward = None  # --forward-to is the first route now
    drain = _seconds(os.environ.get(DRAIN_ENV), listener.DRAIN_TIMEOUT)
    tally = ListenTally()
    renderer = Renderer(output_format(output, as_json), tally)
    show = renderer.show
    keeper = None
    if keep is not None:
        from pathlib import Path

        from ofevents_cli.shells import clock, history_home

        keeper = history_home.EventKeeper(
            Path(keep) if keep else history_home.session_path("listen", clock.now()), not keep)
        show(listener.Note(f"keeping events in {keeper.file.path}"
                           + ("" if keep else " (the history: `ofevents history`)")))

        def show(value: object) -> None:
            if isinstance(value, eventbus.EventReceived):
                failed = keeper.keep(value.event, clock.now())
                if failed:
                    tally.unkept += 1
                    renderer.show(listener.Note(f"warning: {failed}"))
            renderer.show(value)
    try:
        event_loop.run(listener.listen(client, show, flush=renderer.flush,
                                       max_events=max_events, forward=forward,
                                       demo=demo_settings, plan=plan, drain=drain))
    except KeyboardInterrupt:
        with contextlib.suppress(BrokenPipeError):
            renderer.flush()
        renderer.show(eventbus.Disconnected("interrupted"))
    finally:
        if keeper is not None:
            keeper.close()
    renderer.finish()
    raise typer.Exit(int(listen_exit(tally)))

DRAIN_ENV = "OFEVENTS_DRAIN_TIMEOUT"


def _seconds(text: str | None, default: float) -> float:
    """A number of seconds from an env var (unset: `default`); InputError when it is none."""
    import math

    from ofevents_cli.errors import InputError

    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{DRAIN_ENV}={text!r} is not a number of seconds",
                         f"unset it, or give e.g. {DRAIN_ENV}=10")
    return value


def _plan(routes: "tuple[Route, ...]", sinks: "tuple[RedisSpec, ...]",
          forward: "ForwardSettings | None", provider: str, secret: str | None,
          resume_auto: bool, http: tuple[float, bool, str | None]) -> "Plan":
    """The fan-out: `--forward-to` as the first route (every event), then each route with
    its webhook settings (`http`: the command's timeout, insecure and cacert), then the
    sinks."""
    from ofevents_cli.core.routes import Route
    from ofevents_cli.shells.fanout import Plan
    from ofevents_cli.shells.route_config import webhook_settings

    chosen = [(Route(("*",), forward.url, label="--forward-to"), forward)] if forward else []
    timeout, insecure, cacert = http
    chosen += [(r, webhook_settings(r, provider, secret, timeout=timeout, insecure=insecure,
                                    cacert=cacert)) for r in routes]
    return Plan(tuple(chosen), sinks, resume_auto)
