"""`ofevents config`: read and edit the settings file (TOML in the user config dir)."""

from typing import Annotated, Any

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.examples import epilog, short_help
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format

app = typer.Typer(
    help="Read and edit the config file. Settings precedence: flag > env var > config file "
    "> default. Secrets are shown masked.",
    rich_markup_mode=None,
    no_args_is_help=True,
)

KeyArgument = Annotated[str, typer.Argument(help="A dotted key, e.g. secrets.ofapi.")]


def _shown(key: str, value: Any) -> str:
    """The value as printed: masked when the key holds a secret."""
    from ofevents_cli.core.config_table import masked

    return str(masked(key, value))


@app.command("path", short_help=short_help("config path"),
             epilog=epilog("config path"))
@guarded
def path() -> None:
    """Print where the config file is (it may not exist yet)."""
    from ofevents_cli.shells.config import config_file

    print(config_file())


@app.command("list", short_help=short_help("config list"),
             epilog=epilog("config list"))
@guarded
def list_keys(
    all_known: Annotated[
        bool, typer.Option("--all", help="Also list the known keys that are not set.")
    ] = False,
    json_lines: JsonOption = False,
    output: FormatOption = None,
) -> None:
    """List the keys set in the config file, secrets masked."""
    from ofevents_cli.core.config_table import is_secret, known_keys, leaves
    from ofevents_cli.formats import Format
    from ofevents_cli.render.output import emit_json, say
    from ofevents_cli.shells.config import config_file, load_config

    json_lines = output_format(output, json_lines) is Format.JSON
    values: dict[str, Any] = dict(leaves(load_config()))
    known_table = known_keys()
    keys = sorted(set(values) | set(known_table)) if all_known else sorted(values)
    if not keys and not json_lines:
        say(f"no keys set in {config_file()}; the known ones: ofevents config list --all")
    for key in keys:
        known = known_table.get(key)
        shown = _shown(key, values[key]) if key in values else None
        if json_lines:
            emit_json({"key": key, "value": shown, "secret": is_secret(key),
                       "env": known.env if known else None})
        elif shown is None:
            print(f"{key} (not set; env {known.env if known else '-'})")
        else:
            print(f"{key} = {shown}")


@app.command("get", short_help=short_help("config get"),
             epilog=epilog("config get"))
@guarded
def get(key: KeyArgument) -> None:
    """Print one key's value (masked if secret); exit 1 if it is not set."""
    from collections.abc import Mapping

    from ofevents_cli.core.config_table import get_key, leaves
    from ofevents_cli.render.output import say
    from ofevents_cli.shells.config import load_config

    value = get_key(load_config(), key)
    if value is None:
        say(f"{key} is not set")
        raise typer.Exit(1)
    if isinstance(value, Mapping):
        for sub, item in leaves(value, key + "."):
            print(f"{sub} = {_shown(sub, item)}")
    else:
        print(_shown(key, value))


@app.command("set", short_help=short_help("config set"),
             epilog=epilog("config set"))
@guarded
def set_(
    key: KeyArgument,
    value: Annotated[str, typer.Argument(help="The value (a string); `-` reads it from stdin, "
                                        "which keeps a secret out of the shell history.")],
) -> None:
    """Set a key in the config file (created if missing, owner-only permissions)."""
    import sys

    from ofevents_cli.core.config_table import known_keys, set_key, split_key
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.output import say
    from ofevents_cli.shells.config import load_document, save_config

    if value == "-":
        try:
            value = sys.stdin.buffer.readline().decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InputError("the value on stdin is not UTF-8 text",
                             "config values are text: pass the secret as the dashboard shows "
                             "it") from None
        if not value:
            raise InputError("no value on stdin",
                             f"example: echo VALUE | ofevents config set {key} -")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # argv bytes that were not UTF-8 arrive as lone surrogates
        raise InputError("the value is not UTF-8 text",
                         f"check the value, or pipe it: ofevents config set {key} -") from None
    split_key(key)
    known = known_keys()
    if key not in known:  # a typo would be written, then silently never read
        import difflib

        close = difflib.get_close_matches(key, list(known), n=1)
        raise InputError(f"unknown config key {key!r}: no command reads it",
                         (f"did you mean {close[0]}? " if close else "")
                         + "list the keys with `ofevents config list --all`")
    document = load_document()
    set_key(document, key, value)
    written = save_config(document)
    say(f"set {key} = {_shown(key, value)} in {written}")


@app.command("unset", short_help=short_help("config unset"),
             epilog=epilog("config unset"))
@guarded
def unset(key: KeyArgument) -> None:
    """Remove a key from the config file (nothing to do if it is not set)."""
    from ofevents_cli.core.config_table import unset_key
    from ofevents_cli.render.output import say
    from ofevents_cli.shells.config import load_document, save_config

    document = load_document()
    if not unset_key(document, key):
        say(f"{key} was not set")
        return
    written = save_config(document)
    say(f"unset {key} in {written}")
