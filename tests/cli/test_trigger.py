"""`ofevents trigger` end to end against a real receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from onlyfans_sdk.webhooks import verify_webhook_payload
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.catalogue import all_events
from ofevents_cli.core.signing import verify
from tests.target import Request, closed_port, running_target

SVIX_SECRET = "whsec_" + base64.b64encode(b"trigger-tests-signing-key-32byte").decode()
SECRETS = {"ofapi": "ofapi-secret", "onlyfansapi": "fans-secret", "ofauth": SVIX_SECRET}
runner = CliRunner()


def first(request: Request, name: str) -> str | None:
    """A request header's first value."""
    return next(iter(request.values(name)), None)


@pytest.mark.parametrize(("event", "provider"), [("tip.received", "ofapi"),
                                                 ("messages.received", "onlyfansapi"),
                                                 ("connection.created", "ofauth")])
def test_each_provider_delivery_arrives_signed(event: str, provider: str) -> None:
    """The receiver gets the event's JSON, and its signature verifies with the same secret."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", event, "--to", receiver.url,
                                     "--secret", SECRETS[provider], "--json"])
    assert result.exit_code == 0, result.stderr
    [got] = receiver.requests
    payload = json.loads(got.body)
    assert event in (payload.get("type"), payload.get("event"))
    verdict = verify(got.body, got.headers, [SECRETS[provider]], now=time.time())
    assert verdict.valid, verdict.detail
    record = json.loads(result.stdout)
    assert record["event"] == event and record["provider"] == provider
    assert record["status"] == 200 and record["error"] is None and record["delivery_id"]


def test_every_ofauth_event_verifies_with_the_official_libraries() -> None:
    """Each ofauth event type, triggered, passes svix, standardwebhooks and onlyfans_sdk."""
    names = [e.name for e in all_events() if e.provider == "ofauth"]
    assert names
    with running_target() as receiver:
        receiver.url += "/webhooks"
        for name in names:
            result = runner.invoke(app, ["trigger", name, "--to", receiver.url,
                                         "--secret", SVIX_SECRET])
            assert result.exit_code == 0, result.stderr
    assert len(receiver.requests) == len(names)
    for got in receiver.requests:
        headers = {k.lower(): v for k, v in got.headers}
        SvixWebhook(SVIX_SECRET).verify(got.body, headers)
        assert verify_webhook_payload(got.body, headers, SVIX_SECRET)["type"] in names
        standard = {k.replace("svix-", "webhook-"): v for k, v in headers.items()}
        StandardWebhook(SVIX_SECRET).verify(got.body, standard)


def test_standard_webhooks_and_ofauth_signature_schemes() -> None:
    """--scheme picks the header set: webhook-* names or OFAuth-Signature."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        for scheme in ("standard-webhooks", "ofauth-signature"):
            result = runner.invoke(app, ["trigger", "rules.updated", "--to", receiver.url,
                                         "-s", SVIX_SECRET, "--scheme", scheme])
            assert result.exit_code == 0, result.stderr
    one, two = receiver.requests
    assert first(one, "webhook-signature") and not first(one, "svix-signature")
    assert (first(two, "OFAuth-Signature") or "").startswith("t=")
    assert verify(two.body, two.headers, [SVIX_SECRET], now=time.time()).valid


def test_envelope_variants() -> None:
    """ofapi's reference envelope and ofauth's SDK envelope are selectable."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        runner.invoke(app, ["trigger", "subscriber.new", "--to", receiver.url, "-s", "k",
                            "--envelope", "reference"])
        runner.invoke(app, ["trigger", "connection.created", "--to", receiver.url,
                            "-s", SVIX_SECRET, "--envelope", "sdk"])
    reference, sdk = (json.loads(r.body) for r in receiver.requests)
    assert set(reference) == {"event", "timestamp", "data"}
    assert set(sdk) == {"eventType", "live", "data"}


@pytest.mark.parametrize(("args", "form", "scheme"), [
    ([], "sha256=", "ofapi"),
    (["--envelope", "reference"], "", "ofapi-hex"),
    (["--envelope", "reference", "--scheme", "ofapi"], "sha256=", "ofapi"),
    (["--scheme", "ofapi-hex"], "", "ofapi-hex"),
    (["revenue.received"], "", "ofapi-hex"),  # documented by the event reference only
])
def test_ofapi_signs_the_form_of_its_envelope_unless_scheme_says(
    tmp_path: Path, args: list[str], form: str, scheme: str
) -> None:
    """integration -> sha256=<hex>, reference -> bare hex, --scheme wins; verify names the form."""
    capture = tmp_path / "sent.jsonl"
    with running_target() as receiver:
        receiver.url += "/webhooks"
        event = args.pop(0) if args[:1] == ["revenue.received"] else "subscriber.new"
        result = runner.invoke(app, ["trigger", event, "--to", receiver.url, "-s", "k",
                                     "--save", str(capture), *args])
    assert result.exit_code == 0, result.stderr
    value = first(receiver.requests[0], "X-OFAPI-Signature") or ""
    assert value.startswith(form) and len(value) == len(form) + 64
    checked = runner.invoke(app, ["verify", str(capture), "-s", "k", "--json"])
    [record] = [json.loads(line) for line in checked.stdout.splitlines()]
    assert checked.exit_code == 0 and record["valid"] is True and record["scheme"] == scheme


def test_non_2xx_exits_1() -> None:
    """A 500 from the receiver is shown and the exit code is 1."""
    with running_target() as receiver:
        receiver.url += "/status/500"
        result = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k"])
    assert result.exit_code == 1
    assert "[500]" in result.stdout


def test_connection_refused_exits_3() -> None:
    """Nothing listening: the request's error is shown and the exit code is 3."""
    port = closed_port()
    result = runner.invoke(app, ["trigger", "tip.received", "--to", str(port), "-s", "k",
                                 "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"] == "connection refused"


def test_duplicate_sends_one_identical_delivery_three_times() -> None:
    """--duplicate 3: three requests with identical bytes and signature headers."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", "connection.created", "--to", receiver.url,
                                     "-s", SVIX_SECRET, "--duplicate", "3", "--json"])
    assert result.exit_code == 0
    bodies = {r.body for r in receiver.requests}
    ids = {first(r, "svix-id") for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(bodies) == 1 and len(ids) == 1
    assert len({json.loads(line)["delivery_id"] for line in result.stdout.splitlines()}) == 1


def test_count_sends_fresh_deliveries_concurrently() -> None:
    """--count 5 --concurrency 3: five deliveries, each with its own id and timestamp field."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k",
                                     "--count", "5", "--concurrency", "3"])
    assert result.exit_code == 0
    assert len({json.loads(r.body)["id"] for r in receiver.requests}) == 5
    assert result.stdout.count("[200]") == 5


def test_dry_run_prints_the_signed_request_and_sends_nothing() -> None:
    """--dry-run shows method, headers with signature, body; the receiver gets nothing."""
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url,
                                     "-s", "dry-secret", "--dry-run", "--set", "data.amount=100"])
    assert result.exit_code == 0 and receiver.requests == []
    assert result.stdout.startswith("POST /webhooks HTTP/1.1")
    assert "X-OFAPI-Signature: sha256=" in result.stdout
    body = result.stdout.split("\n\n", 1)[1].strip()
    assert json.loads(body)["data"]["amount"] == 100
    assert "dry-secret" not in result.stdout + result.stderr


def test_save_writes_a_capture_that_verify_accepts(tmp_path: Path) -> None:
    """--save appends captures; `ofevents verify` finds every one valid."""
    capture = tmp_path / "sent.jsonl"
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k",
                                     "--count", "3", "--save", str(capture)])
    assert result.exit_code == 0
    assert len(capture.read_text().splitlines()) == 3
    checked = runner.invoke(app, ["verify", str(capture), "-s", "k", "--json"])
    assert checked.exit_code == 0
    assert all(json.loads(line)["valid"] for line in checked.stdout.splitlines())


def test_data_file_replaces_fixture_data(tmp_path: Path) -> None:
    """--data FILE becomes the payload's data."""
    data = tmp_path / "d.json"
    data.write_text('{"fanId": "f_1", "amount": 7}')
    with running_target() as receiver:
        receiver.url += "/webhooks"
        runner.invoke(app, ["trigger", "tip.received", "--to", receiver.url, "-s", "k",
                            "--data", str(data)])
    assert json.loads(receiver.requests[0].body)["data"] == {"fanId": "f_1", "amount": 7}


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's env var supplies the secret when --secret is absent."""
    monkeypatch.setenv("ONLYFANSAPI_WEBHOOK_SECRET", "from-env")
    with running_target() as receiver:
        receiver.url += "/webhooks"
        result = runner.invoke(app, ["trigger", "messages.sent", "--to", receiver.url])
    assert result.exit_code == 0, result.stderr
    got = receiver.requests[0]
    assert verify(got.body, got.headers, ["from-env"], now=time.time()).valid


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["trigger", "tip.recieved", "-s", "k"], "did you mean tip.received"),
        (["trigger", "tip.received", "-s", "k", "--set", "data.amount.cents=1"], "--set path"),
        (["trigger", "tip.received", "-s", "k", "--set", "novalue"], "PATH=VALUE"),
        (["trigger", "tip.received", "-s", "k", "--envelope", "sdk"], "--envelope"),
        (["trigger", "tip.received", "-s", "k", "--scheme", "svix"], "--scheme"),
        (["trigger", "connection.created", "-s", "not-a-whsec"], "cannot sign"),
        (["trigger", "tip.received"], "OFAPI_WEBHOOK_SECRET"),
        (["trigger", "tip.received", "-s", "k", "--data", "/nonexistent.json"], "--data"),
        (["trigger", "tip.received", "-s", "k", "--to", "ftp://x"], "--to"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    """Each bad input gets `ofevents: error:` with a hint, exit 2, and no traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("ofevents: error:") and needle in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr


def test_non_json_data_is_exit_2(tmp_path: Path) -> None:
    """--data that is not JSON is rejected before anything is sent."""
    data = tmp_path / "d.json"
    data.write_text("amount: 5")
    result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--data", str(data)])
    assert result.exit_code == 2 and "is not JSON" in result.stderr


@pytest.mark.parametrize("to", ["localhost:abc", "http://[::1", "99999", "localhost:0"])
def test_bad_to_values_exit_2(to: str) -> None:
    """Malformed --to values and impossible ports are input errors, not tracebacks."""
    result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--to", to])
    assert result.exit_code == 2 and "--to" in result.stderr and "Traceback" not in result.stderr


def test_set_keeps_non_finite_numbers_as_strings() -> None:
    """--set data.amount=NaN would make invalid JSON: the value is sent as a string."""
    result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--dry-run",
                                 "--set", "data.amount=NaN", "--set", "data.x=1e400"])
    data = json.loads(result.stdout.split("\n\n", 1)[1])["data"]
    assert data["amount"] == "NaN" and data["x"] == "1e400"


def test_data_from_stdin_and_oversized_numbers(tmp_path: Path) -> None:
    """--data - reads stdin; a JSON number too large to read is an input error."""
    result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--dry-run",
                                 "--data", "-"], input='{"amount": 3}')
    assert json.loads(result.stdout.split("\n\n", 1)[1])["data"] == {"amount": 3}
    huge = tmp_path / "huge.json"
    huge.write_text('{"n": ' + "9" * 5000 + "}")
    bad = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--data", str(huge)])
    assert bad.exit_code == 2 and "not readable JSON" in bad.stderr


def test_eventbus_event_is_injected_into_a_running_emulator(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """`trigger tip --to ws://…` emits into the emulator; a listener then receives it."""
    from tests.eventbus_servers import KEY, TOKEN, emulator_thread, publish

    monkeypatch.setenv("BFL_API_KEY", KEY)
    monkeypatch.setenv("BFL_WS_TOKEN", TOKEN)
    with emulator_thread() as (served, loop):
        before = publish(served, loop, "typing", "384751629", {})
        sent = runner.invoke(app, ["trigger", "tip", "--to", served.url, "--set",
                                   "data.amount=99", "--json"])
        assert sent.exit_code == 0, sent.stderr
        record = json.loads(sent.stdout)
        assert record["provider"] == "eventbus" and record["status"] == 202
        heard = runner.invoke(app, ["listen", "--url", served.url, "--resume", before,
                                    "--max-events", "1", "--json"])
    event = json.loads(heard.stdout)
    assert event["_event"] == "tip" and event["amount"] == 99
    assert event["_id"] == record["delivery_id"]


def test_eventbus_event_needs_an_emulator_url() -> None:
    """An EventBus event sent to an http target is an input error naming ws://."""
    result = runner.invoke(app, ["trigger", "tip", "--to", "3000"])
    assert result.exit_code == 2 and "ws://" in result.stderr


def test_eventbus_bad_credentials_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong emulator credentials: exit 4 with a hint naming BFL_API_KEY."""
    from tests.eventbus_servers import emulator_thread

    monkeypatch.setenv("BFL_API_KEY", "wrong")
    with emulator_thread() as (served, _):
        result = runner.invoke(app, ["trigger", "tip", "--to", served.url])
    assert result.exit_code == 4 and "BFL_API_KEY" in result.stderr


def test_eventbus_trigger_count_beyond_one_request_is_sent_in_batches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`trigger tip --count 10001 --to ws://…`: more than one 1 MiB request holds, all arrive."""
    from tests.eventbus_servers import KEY, TOKEN, emulator_thread

    monkeypatch.setenv("BFL_API_KEY", KEY)
    monkeypatch.setenv("BFL_WS_TOKEN", TOKEN)
    with emulator_thread() as (served, _):
        sent = runner.invoke(app, ["trigger", "tip", "--to", served.url, "--count", "10001",
                                   "--json"])
        assert sent.exit_code == 0, sent.stderr[-500:]
        assert served.app.bus.last == 10001
    records = [json.loads(x) for x in sent.stdout.splitlines()]
    assert len(records) == 10001 and len({r["delivery_id"] for r in records}) == 10001


def test_port_slash_path_goes_to_localhost_never_to_a_host_named_after_the_port() -> None:
    """`--to PORT/webhooks` is http://localhost:PORT/webhooks (it used to be host "PORT",
    0.0.11.184 for 3000); a host of digits is refused before anything is sent."""
    with running_target() as target:
        result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--to",
                                     f"{target.port}/hooks/ofapi", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in target.requests] == ["/hooks/ofapi"]
    refused = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--to",
                                  "http://3000/webhooks"])
    assert refused.exit_code == 2 and "only of digits" in refused.stderr


def test_a_target_that_hangs_up_mid_answer_is_exit_1_not_unreachable() -> None:
    """The target read the request and closed without answering: a failed delivery (1), as
    replay says; 3 stays for nothing accepting the connection."""
    from tests.target import scripted

    with scripted({}) as url:
        result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--to", url])
    assert result.exit_code == 1, result.stderr
    assert "closed the connection mid-answer" in result.stdout
    assert "1 request: 0 2xx, 1 without an answer" in result.stderr


def test_count_ends_with_a_summary_on_stderr() -> None:
    """--count: a line per request on stdout (piped), then sent / 2xx / non-2xx and latency."""
    with running_target() as target:
        result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--count", "4",
                                     "--to", target.url])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4
    [summary] = [line for line in result.stderr.splitlines() if "requests:" in line]
    assert summary.startswith("4 requests: 4 2xx; p50 ") and ", p99 " in summary


def test_save_to_a_full_disk_is_reported_once_and_exits_1(tmp_path: Path) -> None:
    """--save /dev/full: every request still goes out, one warning names the file, the
    summary counts what was not saved, exit 1, no traceback."""
    with running_target() as target:
        result = runner.invoke(app, ["trigger", "tip.received", "-s", "k", "--count", "3",
                                     "--to", target.url, "--save", "/dev/full"])
    assert result.exit_code == 1, result.stderr
    assert len(target.requests) == 3
    assert result.stderr.count("cannot save to the capture file: /dev/full") == 1
    assert "3 not saved (capture write failed)" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _in_a_terminal(*args: str) -> tuple[int, str]:
    """Run `ofevents ARGS` with stdout and stderr on a pseudo-terminal: (exit code, output)."""
    import os
    import pty
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("ofevents"))
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.Popen([exe, *args], stdout=follower, stderr=follower,
                            env={**env, "TERM": "xterm", "COLUMNS": "200"})
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, output.decode("utf-8", "replace")


def test_on_a_terminal_count_shows_the_bar_and_only_the_failures() -> None:
    """In a terminal, --count prints the failed requests (above the bar), never a line per
    2xx, then the summary."""
    with running_target() as target:
        failing = _in_a_terminal("trigger", "tip.received", "-s", "k", "--count", "3",
                                 "--to", f"{target.url}/status/500")
        passing = _in_a_terminal("trigger", "tip.received", "-s", "k", "--count", "3",
                                 "--to", target.url)
    assert failing[0] == 1 and failing[1].count("[500] POST") == 3
    assert "3 requests: 0 2xx, 3 non-2xx" in failing[1]
    assert passing[0] == 0 and "[200] POST" not in passing[1]
    assert "3 requests: 3 2xx" in passing[1]


def test_trigger_json_into_a_reader_that_closes_early_exits_quietly() -> None:
    """`trigger --count N --json | head -1`: once the reader has gone, trigger ends with exit
    0, no traceback and no asyncio "Exception in callback" (its lines are flushed once per
    burst, and a flush that finds the pipe closed ends the run like a write does)."""
    import os
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("ofevents"))
    with running_target() as receiver:
        reader, writer = os.pipe()
        os.close(reader)  # gone before the first line: EPIPE for certain
        done = subprocess.run([exe, "trigger", "tip.received", "--provider", "ofapi", "--to",
                               receiver.url + "/webhooks", "--secret", "s" * 20, "--count", "300",
                               "--json"], stdout=writer, stderr=subprocess.PIPE, timeout=60)
        os.close(writer)
    assert done.returncode == 0, done.stderr
    for noise in (b"Traceback", b"Exception in callback", b"Exception ignored"):
        assert noise not in done.stderr, done.stderr
    assert len(receiver.requests) < 300  # it stopped sending
