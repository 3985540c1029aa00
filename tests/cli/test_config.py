"""`ofevents config`: path, list, get, set, unset, through the real CLI and a real file."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.shells.config import resolve, secrets_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

runner = CliRunner()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _file(config_dir: Path) -> dict[str, object]:
    return tomllib.loads((config_dir / "config.toml").read_text(encoding="utf-8"))


def test_path_prints_the_config_file_in_the_config_dir(isolated_env: Path) -> None:
    """`config path` prints config.toml under $OFEVENTS_CONFIG_DIR on stdout."""
    result = runner.invoke(app, ["config", "path"])
    assert result.exit_code == 0
    assert result.stdout == f"{isolated_env / 'config.toml'}\n"


def test_set_then_get_round_trips_a_plain_value(isolated_env: Path) -> None:
    """A set key is written to the TOML file and read back by `config get`."""
    result = runner.invoke(app, ["config", "set", "eventbus.url", "ws://127.0.0.1:8765/v1/ws"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "set eventbus.url = ws://127.0.0.1:8765/v1/ws" in result.stderr
    assert _file(isolated_env) == {"eventbus": {"url": "ws://127.0.0.1:8765/v1/ws"}}
    got = runner.invoke(app, ["config", "get", "eventbus.url"])
    assert (got.exit_code, got.stdout) == (0, "ws://127.0.0.1:8765/v1/ws\n")


def test_secrets_are_stored_but_only_ever_shown_masked(isolated_env: Path) -> None:
    """A secret lands in an owner-only file and is masked in set, get and list output."""
    outputs = [runner.invoke(app, ["config", "set", "secrets.ofauth", SECRET]),
               runner.invoke(app, ["config", "get", "secrets.ofauth"]),
               runner.invoke(app, ["config", "list"]),
               runner.invoke(app, ["config", "list", "--json"]),
               runner.invoke(app, ["config", "get", "secrets"])]
    for result in outputs:
        assert result.exit_code == 0
        assert SECRET not in result.stdout + result.stderr
    assert outputs[1].stdout == "whsec_…aSw\n"
    assert outputs[2].stdout == "secrets.ofauth = whsec_…aSw\n"
    assert outputs[4].stdout == "secrets.ofauth = whsec_…aSw\n"
    path = isolated_env / "config.toml"
    assert _file(isolated_env) == {"secrets": {"ofauth": SECRET}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_dash_reads_the_value_from_stdin(isolated_env: Path) -> None:
    """`config set KEY -` takes the value from stdin (kept out of shell history)."""
    result = runner.invoke(app, ["config", "set", "ngrok.authtoken", "-"],
                           input="2abcDEFghiJKLmno_1234567890\n")
    assert result.exit_code == 0
    assert _file(isolated_env) == {"ngrok": {"authtoken": "2abcDEFghiJKLmno_1234567890"}}


def test_set_dash_with_empty_stdin_exits_2() -> None:
    """No value on stdin is an input error, not an empty setting."""
    result = runner.invoke(app, ["config", "set", "ngrok.authtoken", "-"], input="")
    assert result.exit_code == 2
    assert "ofevents: error: no value on stdin" in result.stderr


def test_list_json_all_includes_known_unset_keys() -> None:
    """`list --all --json` gives every known key with its env var; unset values are null."""
    runner.invoke(app, ["config", "set", "eventbus.api_key", "bfl_live_4f9a8c7e6d5b4a39"])
    result = runner.invoke(app, ["config", "list", "--all", "--json"])
    assert result.exit_code == 0
    records = {r["key"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["eventbus.api_key"] == {"key": "eventbus.api_key", "value": "bfl_…a39",
                                           "secret": True, "env": "BFL_API_KEY"}
    assert records["secrets.ofapi"] == {"key": "secrets.ofapi", "value": None, "secret": True,
                                        "env": "OFAPI_WEBHOOK_SECRET"}
    assert set(records) >= {"eventbus.url", "eventbus.ws_token", "ngrok.authtoken"}


def test_list_of_an_empty_config_says_so_on_stderr() -> None:
    """With no file, `config list` prints no data and points at `--all`."""
    result = runner.invoke(app, ["config", "list"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no keys set" in result.stderr


def test_get_of_an_unset_key_exits_1() -> None:
    """A key that is not set prints nothing on stdout and exits 1 (like git config)."""
    result = runner.invoke(app, ["config", "get", "eventbus.url"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "eventbus.url is not set" in result.stderr


def test_unset_removes_the_key_and_its_emptied_table(isolated_env: Path) -> None:
    """`config unset` deletes the key; a table left empty goes too."""
    runner.invoke(app, ["config", "set", "secrets.ofapi", "ofapi_secret_123456"])
    runner.invoke(app, ["config", "set", "eventbus.url", "ws://localhost:8765"])
    result = runner.invoke(app, ["config", "unset", "secrets.ofapi"])
    assert result.exit_code == 0
    assert "unset secrets.ofapi" in result.stderr
    assert _file(isolated_env) == {"eventbus": {"url": "ws://localhost:8765"}}


def test_unset_of_a_missing_key_is_a_no_op() -> None:
    """Unsetting a key that is not set succeeds and says so."""
    result = runner.invoke(app, ["config", "unset", "secrets.ofapi"])
    assert result.exit_code == 0
    assert "secrets.ofapi was not set" in result.stderr


def test_set_of_an_unknown_key_is_refused_with_the_close_match(isolated_env: Path) -> None:
    """`config set secret.ofapi x` (a typo): exit 2 naming `secrets.ofapi`; nothing written,
    so no secret sits in a key that no command reads."""
    result = runner.invoke(app, ["config", "set", "secret.ofapi", "x"])
    assert result.exit_code == 2
    assert "unknown config key 'secret.ofapi'" in result.stderr
    assert "did you mean secrets.ofapi?" in result.stderr
    assert not (isolated_env / "config.toml").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["set", "bad key", "1"], "config key 'bad key' is not valid"),
    (["set", "eventbus.url.more", "1"], "unknown config key 'eventbus.url.more'"),
    (["set", "eventbus", "1"], "unknown config key 'eventbus'"),
    (["get", "eventbus..url"], "config key 'eventbus..url' is not valid"),
    (["set", "secrets.ofapi", "1"], "config key 'secrets' holds a value"),
])
def test_impossible_keys_exit_2(isolated_env: Path, args: list[str], message: str) -> None:
    """Malformed keys, unknown keys and keys colliding with a hand-written value are usage
    errors."""
    (isolated_env / "config.toml").write_text('secrets = "flat"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", *args])
    assert result.exit_code == 2
    assert f"ofevents: error: {message}" in result.stderr
    assert "hint: " in result.stderr


def test_a_broken_config_file_exits_2_with_its_path(isolated_env: Path) -> None:
    """An unparsable config file is reported with the fix, not a traceback."""
    (isolated_env / "config.toml").write_text("[secrets\nofapi = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "list"])
    assert result.exit_code == 2
    assert "cannot read config file" in result.stderr
    assert "Traceback" not in result.stderr


def test_set_and_unset_keep_the_users_comments_order_and_other_tables(
        isolated_env: Path) -> None:
    """A hand-edited file (comments, key order, an array of tables) survives `set` and
    `unset`: only the key changes."""
    original = ('# my ofevents settings\n[eventbus]  # the bus\nurl = "ws://a"  # local\n'
                'api_key = "k"\n\n[[routes]]\nevents = ["tip"]\nto = "3000"\n')
    path = isolated_env / "config.toml"
    path.write_text(original, encoding="utf-8")
    assert runner.invoke(app, ["config", "set", "eventbus.url", "ws://b"]).exit_code == 0
    assert path.read_text(encoding="utf-8") == original.replace('"ws://a"', '"ws://b"')
    assert runner.invoke(app, ["config", "unset", "eventbus.api_key"]).exit_code == 0
    assert path.read_text(encoding="utf-8") == original.replace(
        '"ws://a"', '"ws://b"').replace('api_key = "k"\n', "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_values_are_used_below_flags_and_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value set by `config set` is the fallback after the flag and the env var."""
    runner.invoke(app, ["config", "set", "eventbus.url", "ws://from-config"])
    runner.invoke(app, ["config", "set", "secrets.onlyfansapi", "config_secret_value"])
    assert resolve(None, "OFEVENTS_EVENTBUS_URL", "eventbus.url") == "ws://from-config"
    assert secrets_for(None, "onlyfansapi") == ["config_secret_value"]
    monkeypatch.setenv("OFEVENTS_EVENTBUS_URL", "ws://from-env")
    assert resolve(None, "OFEVENTS_EVENTBUS_URL", "eventbus.url") == "ws://from-env"
    assert resolve("ws://flag", "OFEVENTS_EVENTBUS_URL", "eventbus.url") == "ws://flag"


def test_config_without_a_subcommand_shows_help() -> None:
    """`ofevents config` alone is a usage error that lists the subcommands."""
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2
    assert "path" in result.stderr and "unset" in result.stderr


@pytest.mark.parametrize(("content", "needle"), [
    (b'a = "\xff"\n', "not UTF-8"),
    (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
    (b"a = " + b"{x=" * 50_000 + b"}" * 50_000 + b"\n", "nested too deeply"),
])
@pytest.mark.parametrize("command", [["config", "list"], ["trigger", "tip.received", "--dry-run"],
                                     ["verify", "-"], ["listen", "--demo", "--max-events", "1"]])
def test_an_unreadable_config_file_is_exit_2_for_every_command(
        isolated_env: Path, content: bytes, needle: str, command: list[str]) -> None:
    """A config file that is not UTF-8 or absurdly nested: `error:` naming it, exit 2, no
    traceback, from any command that reads settings."""
    (isolated_env / "config.toml").write_bytes(content)
    result = runner.invoke(app, command, input="")
    assert result.exit_code == 2, result.stderr
    assert needle in result.stderr and str(isolated_env / "config.toml") in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_set_dash_with_stdin_that_is_not_utf8_exits_2(isolated_env: Path) -> None:
    """Bytes that are not UTF-8 on stdin: refused with exit 2; nothing is written."""
    result = runner.invoke(app, ["config", "set", "secrets.ofapi", "-"], input=b"\xff\xfe\n")
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    assert not (isolated_env / "config.toml").exists()


@pytest.mark.parametrize("value", ["5", "true", "[1, 2]", "{ x = 1 }", "1979-05-27"])
def test_a_secret_that_is_not_a_string_is_refused_not_used(isolated_env: Path,
                                                          value: str) -> None:
    """`ofapi = 5` (or a table, a list, a date) is not a secret "5": exit 2 naming the key."""
    (isolated_env / "config.toml").write_text(f"[secrets]\nofapi = {value}\n")
    result = runner.invoke(app, ["trigger", "tip.received", "--dry-run"])
    assert result.exit_code == 2, result.stdout
    assert "config key secrets.ofapi must be a string" in result.stderr
    assert "X-OFAPI-Signature" not in result.stdout


def test_route_secrets_and_sink_passwords_are_listed_masked(isolated_env: Path) -> None:
    """`[[routes]]` secrets and a `[[sinks]]` URL's password never appear in `config list`
    or `config get`, in text or JSON."""
    (isolated_env / "config.toml").write_text(
        f'[[routes]]\nto = "3000"\nsecret = "{SECRET}"\n\n'
        '[[sinks]]\nurl = "redis://:hunter2-password@cache:6379/0?stream=s"\n')
    shown = [runner.invoke(app, args) for args in (["config", "list"],
                                                   ["config", "list", "--json"],
                                                   ["config", "get", "routes"],
                                                   ["config", "get", "sinks"])]
    assert all(result.exit_code == 0 for result in shown)
    text = "".join(result.stdout for result in shown)
    assert SECRET not in text and "hunter2" not in text
    assert "whsec_…aSw" in text and "redis://:…ord@cache:6379/0?stream=s" in text
