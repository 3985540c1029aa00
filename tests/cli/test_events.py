"""`ofevents events` and `ofevents events show`, through the real CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.catalogue import all_events, find

runner = CliRunner()


def test_events_lists_every_event_one_per_line_when_piped() -> None:
    """Plain output: one line per event with its name, provider and description."""
    result = runner.invoke(app, ["events"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(all_events())
    for line, event in zip(lines, all_events(), strict=True):
        assert line.split()[:2] == [event.name, event.provider]
        assert line.endswith(event.description)
    assert result.stderr == ""


def test_events_json_prints_one_object_per_event() -> None:
    """`--json`: JSON Lines with exactly name, provider, description."""
    result = runner.invoke(app, ["events", "--json"])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [{"name": e.name, "provider": e.provider, "description": e.description}
                       for e in all_events()]


def test_events_provider_filters_the_list() -> None:
    """`--provider ofauth` lists only OFAuth's events."""
    result = runner.invoke(app, ["events", "--provider", "ofauth", "--json"])
    assert result.exit_code == 0
    providers = {json.loads(line)["provider"] for line in result.stdout.splitlines()}
    assert providers == {"ofauth"}
    assert len(result.stdout.splitlines()) == 18


def test_events_on_a_colour_terminal_draws_a_table_grouped_by_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal the list is a table with a header, one section per provider."""
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    result = runner.invoke(app, ["events", "--provider", "ofapi"])
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout
    assert "Event" in result.stdout and "Description" in result.stdout
    assert result.stdout.count("ofapi") == 8


def test_show_prints_the_payload_trigger_would_send() -> None:
    """`events show` prints the enveloped sample with a fresh evt_ id and timestamp."""
    result = runner.invoke(app, ["events", "show", "tip.received"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["type"] == "tip.received"
    assert payload["id"].startswith("evt_")
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == find("tip.received").data
    assert result.stdout.startswith("{\n  ")
    assert result.stderr == ""


def test_show_twice_gives_fresh_ids() -> None:
    """Each run stamps a new delivery id, as each trigger does."""
    ids = {json.loads(runner.invoke(app, ["events", "show", "tip.received"]).stdout)["id"]
           for _ in range(2)}
    assert len(ids) == 2


def test_show_envelope_picks_the_variant_and_its_data_shape() -> None:
    """`--envelope reference` wraps ofapi's reference data shape in the reference envelope."""
    result = runner.invoke(app, ["events", "show", "subscriber.expired", "--envelope",
                                 "reference"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"event", "timestamp", "data"}
    assert payload["data"]["renewal_count"] == 2


def test_show_keeps_non_ascii_text_readable() -> None:
    """Emoji and HTML in sample text are printed as they are, not \\u-escaped."""
    result = runner.invoke(app, ["events", "show", "messages.received"])
    assert "😘" in result.stdout and "<p>" in result.stdout


@pytest.mark.parametrize(("args", "error", "hint"), [
    (["events", "--provider", "onlyfans"], "unknown provider 'onlyfans'",
     "use one of: ofapi, onlyfansapi, ofauth, eventbus"),
    (["events", "show", "subscriptions.nwe"], "unknown event 'subscriptions.nwe'",
     "did you mean subscriptions.new"),
    (["events", "show", "tip.received", "-p", "onlyfansapi"],
     "unknown event 'tip.received' for provider onlyfansapi", "did you mean tips.received"),
    (["events", "show", "rules.updated", "--envelope", "reference"],
     "provider ofauth has no envelope 'reference'", "use --envelope docs or sdk"),
])
def test_bad_names_exit_2_with_a_hint(args: list[str], error: str, hint: str) -> None:
    """Unknown providers, events (with close names) and envelopes: exit 2, nothing on stdout."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"ofevents: error: {error}" in result.stderr
    assert f"hint: {hint}" in result.stderr


def test_installed_entry_point_prints_the_catalogue_as_json_lines() -> None:
    """The installed `ofevents events --json` prints parseable JSON Lines and exits 0."""
    local = Path(sys.executable).parent / "ofevents"
    exe = str(local) if local.exists() else shutil.which("ofevents")
    assert exe is not None
    done = subprocess.run([exe, "events", "--json"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    names = [json.loads(line)["name"] for line in done.stdout.splitlines()]
    assert names == [e.name for e in all_events()]
    assert done.stderr == ""


def test_show_raw_is_the_body_trigger_sends() -> None:
    """`events show --raw` prints the compact bytes `trigger --dry-run` puts on the wire
    (the fresh id and timestamp aside)."""
    shown = runner.invoke(app, ["events", "show", "tip.received", "--raw"])
    sent = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--dry-run"])
    body = sent.stdout.split("\n\n", 1)[1].strip()
    fresh = re.compile(r'"(id|timestamp)":"[^"]*"')
    assert fresh.sub("", shown.stdout.strip()) == fresh.sub("", body)
    assert shown.stdout.startswith('{"id":"evt_')


def test_events_into_a_reader_that_closes_early_exits_0() -> None:
    """`ofevents events | head -1`: when the reader has gone before ofevents writes, it ends
    quietly with exit 0 (it was 1), as listen does; no traceback, no "Exception ignored"."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).with_name("ofevents"))
    for args in (["events"], ["events", "--json"], ["events", "show", "tip.received"]):
        reader, writer = os.pipe()
        os.close(reader)  # the reader is gone before the first write: EPIPE for certain
        done = subprocess.run([exe, *args], stdout=writer, stderr=subprocess.PIPE, timeout=30)
        os.close(writer)
        assert done.returncode == 0, (args, done.stderr)
        assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr
