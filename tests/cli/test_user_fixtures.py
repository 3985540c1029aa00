"""Your own event types: a fixtures folder in the config dir or `--fixtures DIR` extends and
overrides the catalogue for `events`, `trigger` and the emulator."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.catalogue import use_fixture_dirs
from tests.eventbus_servers import KEY, TOKEN, emulator_thread

runner = CliRunner()


def fixture(folder: Path, provider: str, name: str, **body: object) -> Path:
    """Write one fixture file."""
    path = folder / provider / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_a_new_event_in_the_config_dir_is_listed_shown_and_triggered(isolated_env: Path) -> None:
    """fixtures/ofapi/vault.updated.json: `events` lists it, `events show` and `trigger`
    build it in the provider's envelope, signed as the provider does."""
    fixture(isolated_env / "fixtures", "ofapi", "vault.updated",
            description="The vault changed (new upstream event).", data={"vaultId": "v_1"})
    try:
        listed = runner.invoke(app, ["events", "--provider", "ofapi", "--json"])
        shown = runner.invoke(app, ["events", "show", "vault.updated", "--raw"])
        sent = runner.invoke(app, ["trigger", "vault.updated", "-s", "k", "--dry-run"])
    finally:
        use_fixture_dirs(())
    assert listed.exit_code == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {"name": "vault.updated", "provider": "ofapi",
            "description": "The vault changed (new upstream event)."} in rows
    payload = json.loads(shown.stdout)
    assert payload["type"] == "vault.updated" and payload["data"] == {"vaultId": "v_1"}
    assert sent.exit_code == 0 and "X-OFAPI-Signature: sha256=" in sent.stdout


def test_a_user_fixture_overrides_the_built_in_one(tmp_path: Path) -> None:
    """--fixtures DIR with tip.received: trigger sends the user's data, not the bundled one."""
    fixture(tmp_path, "ofapi", "tip.received", description="My tip.", data={"amount": 7})
    try:
        sent = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--dry-run",
                                   "--fixtures", str(tmp_path)])
    finally:
        use_fixture_dirs(())
    assert sent.exit_code == 0, sent.stderr
    assert json.loads(sent.stdout.split("\n\n", 1)[1])["data"] == {"amount": 7}


def test_every_bad_fixture_file_is_named_with_what_is_wrong(tmp_path: Path) -> None:
    """Not JSON, no data, a wrong envelope, an unknown provider folder: exit 2, one line per
    bad file, each naming the file and the fix."""
    (tmp_path / "ofapi").mkdir()
    (tmp_path / "ofapi" / "broken.json").write_text("{not json", encoding="utf-8")
    fixture(tmp_path, "ofapi", "nodata", description="x")
    fixture(tmp_path, "ofauth", "wrong.envelope", description="x", data={}, envelope="nope")
    (tmp_path / "nobody").mkdir()
    try:
        result = runner.invoke(app, ["events", "--fixtures", str(tmp_path)])
    finally:
        use_fixture_dirs(())
    assert result.exit_code == 2, result.stdout
    assert "4 user fixture files cannot be used" in result.stderr
    for needle in ("broken.json: not JSON", "nodata.json: `data` must be an object",
                   "wrong.envelope.json: `envelope` must be one of docs, sdk",
                   "nobody: no provider is named 'nobody'"):
        assert needle in result.stderr, needle
    assert "hint: " in result.stderr and "Traceback" not in result.stderr


def test_fixtures_that_is_not_a_folder_is_exit_2(tmp_path: Path) -> None:
    """--fixtures pointing at a file or nothing: exit 2 naming it."""
    result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--dry-run",
                                 "--fixtures", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_the_emulator_accepts_a_user_eventbus_event(isolated_env: Path) -> None:
    """An EventBus type from the config dir's fixtures is injectable into the emulator, its
    missing fields filled from the user's fixture, and reaches listen."""
    fixture(isolated_env / "fixtures", "eventbus", "vault_update",
            description="A vault changed.", data={"vaultId": "v_1", "items": 3})
    try:
        from ofevents_cli.shells.user_fixtures import load_user_fixtures

        load_user_fixtures()
        with emulator_thread() as (served, _):
            before = served.app.bus.id_of(served.app.bus.last)
            sent = runner.invoke(app, ["trigger", "vault_update", "--to", served.url,
                                       "--set", "data.items=5", "--json"],
                                 env={"BFL_API_KEY": KEY, "BFL_WS_TOKEN": TOKEN})
            heard = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                        "--ws-token", TOKEN, "--resume", before,
                                        "--max-events", "1", "--json"])
    finally:
        use_fixture_dirs(())
    assert sent.exit_code == 0, sent.stderr
    event = json.loads(heard.stdout)
    assert event["_event"] == "vault_update" and event["items"] == 5
    assert event["vaultId"] == "v_1"
