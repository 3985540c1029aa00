"""`ofevents listen` and `ofevents emulator` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from tests.eventbus_servers import (
    KEY,
    READY,
    TOKEN,
    emulator_thread,
    event_frame,
    publish,
    scripted_thread,
)

runner = CliRunner()
ACCOUNT = "384751629"


def test_listen_json_prints_flat_events_and_stops_after_max_events() -> None:
    """--json: one flat event per line on stdout; states on stderr; exit 0 after N."""
    with emulator_thread() as (served, loop):
        for n in range(3):
            publish(served, loop, "tip", ACCOUNT, {"amount": n})
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--json", "--max-events", "2",
                                     "--resume", served.app.bus.id_of(0)])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [list(x)[:4] for x in lines] == [["_event", "_id", "_ts", "accountId"]] * 2
    assert [x["amount"] for x in lines] == [0, 1]
    assert "connected" in result.stderr and "amount" not in result.stderr
    assert "disconnected: 2 event(s) received (--max-events)" in result.stderr


def test_listen_human_line_and_env_credentials() -> None:
    """Credentials from BFL_* env vars; a human line shows time, account, type and money."""
    with emulator_thread() as (served, loop):
        publish(served, loop, "tip", ACCOUNT, {"amount": 25, "message": "<b>hi</b>\x1b[31m"})
        result = runner.invoke(app, ["listen", "-e", "tip", "-a", ACCOUNT, "--max-events", "1",
                                     "--resume", served.app.bus.id_of(0)],
                               env={"BFL_API_KEY": KEY, "BFL_WS_TOKEN": TOKEN,
                                    "OFEVENTS_EVENTBUS_URL": served.url})
    assert result.exit_code == 0, result.stderr
    assert ACCOUNT in result.stdout and "tip" in result.stdout and "$25.00" in result.stdout
    assert '"hi \\x1b[31m"' in result.stdout and "\x1b" not in result.stdout


def test_listen_wrong_credentials_exit_4() -> None:
    """4001 from the server: a clear error naming the flags, exit 4, no retry."""
    with emulator_thread() as (served, _):
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", "nope"])
    assert result.exit_code == 4
    assert "ofevents: error:" in result.stderr and "--ws-token" in result.stderr
    assert result.stdout == ""


def test_listen_unreachable_exit_3() -> None:
    """Nothing listening and --no-reconnect: exit 3 with a hint."""
    result = runner.invoke(app, ["listen", "--url", "ws://127.0.0.1:9/v1/events",
                                 "--api-key", KEY, "--ws-token", TOKEN, "--no-reconnect"])
    assert result.exit_code == 3
    assert "connection refused, no retries left" in result.stderr and "hint:" in result.stderr


def test_listen_without_credentials_is_a_usage_error() -> None:
    """No key anywhere: exit 2, and the hint suggests --demo."""
    result = runner.invoke(app, ["listen"])
    assert result.exit_code == 2 and "--demo" in result.stderr


def test_gap_exits_1() -> None:
    """Resuming from an id that left the buffer is reported loudly on stderr and exits 1."""
    with emulator_thread(buffer=1) as (served, loop):
        for _ in range(3):
            publish(served, loop, "tip", ACCOUNT, {})
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--resume", served.app.bus.id_of(1),
                                     "--max-events", "1", "--json"])
    assert result.exit_code == 1
    assert f"GAP: events after {served.app.bus.id_of(1)} were lost (expired)" in result.stderr
    assert json.loads(result.stdout)["_id"] == served.app.bus.id_of(3)


def test_print_secret_prints_the_same_secret_each_time() -> None:
    """--print-secret prints only the session secret, stable across runs."""
    first = runner.invoke(app, ["listen", "--print-secret"])
    second = runner.invoke(app, ["listen", "--print-secret"])
    assert first.exit_code == 0 and first.stdout.startswith("whsec_")
    assert first.stdout == second.stdout and first.stdout.count("\n") == 1


def test_a_new_session_secret_is_0600_whatever_file_was_there(isolated_env: Path) -> None:
    """An old listen-secret file with mode 0644 (and no secret in it): the new secret is
    written 0600, never with the old file's permissions."""
    old = isolated_env / "listen-secret"
    old.write_text("not a secret\n")
    old.chmod(0o644)
    result = runner.invoke(app, ["listen", "--print-secret"])
    assert result.exit_code == 0 and result.stdout.startswith("whsec_")
    assert old.read_text() == result.stdout
    assert old.stat().st_mode & 0o777 == 0o600


def test_forward_to_shows_masked_secret_and_results() -> None:
    """--forward-to: the secret is masked, each delivery is a `<-- [200] POST` line on stderr."""
    from tests.receiver import receiver

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with emulator_thread() as (served, loop), receiver() as (url, got):
        publish(served, loop, "tip", ACCOUNT, {})
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--max-events", "1", "--json",
                                     "--resume", served.app.bus.id_of(0), "--forward-to", url,
                                     "--secret", secret])
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stderr + result.stdout and "whsec_…aSw" in result.stderr
    assert f"<-- [200] POST {url}" in result.stderr and len(got.requests) == 1


def test_an_event_id_no_header_can_carry_is_reported_and_the_next_event_still_forwarded(
        ) -> None:
    """A server's event id with ESC, CR and LF (it becomes the `webhook-id` header): that
    event is reported not forwarded, with its id escaped on stderr; the same account's next
    event is still forwarded; no traceback; exit 1."""
    from tests.receiver import receiver

    hostile = {**event_frame(1), "id": "evt\x1b[2J\r\nX-Injected: 1", "event": "tip\x1b[2J"}

    async def script(ws: Any) -> None:
        await ws.recv()
        await ws.send(json.dumps(READY))
        await ws.send(json.dumps(hostile))
        await ws.send(json.dumps(event_frame(2)))
        await ws.wait_closed()

    with scripted_thread(script) as url, receiver() as (target, got):
        result = runner.invoke(app, ["listen", "--url", url, "--api-key", KEY, "--ws-token",
                                     TOKEN, "--max-events", "2", "--json", "--forward-to",
                                     target])
    assert result.exit_code == 1, result.stderr
    assert [json.loads(body)["_id"] for _, _, body in got.requests] == ["e2"]
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert "cannot be sent: header webhook-id holds a control character" in result.stderr
    assert "tip\\x1b[2J evt\\x1b[2J\\r\\nX-Injected: 1" in result.stderr


def test_forward_to_port_slash_path_means_localhost() -> None:
    """`--forward-to PORT/path` posts to http://localhost:PORT/path."""
    from tests.receiver import receiver

    with emulator_thread() as (served, loop), receiver() as (url, got):
        publish(served, loop, "tip", ACCOUNT, {})
        port = url.split(":")[2].split("/")[0]
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--max-events", "1", "--json",
                                     "--resume", served.app.bus.id_of(0),
                                     "--forward-to", f"{port}/events/in"])
    assert result.exit_code == 0, result.stderr
    assert [path for path, _, _ in got.requests] == ["/events/in"]
    assert f"POST http://localhost:{port}/events/in" in result.stderr


def test_demo_subprocess_prints_five_json_events() -> None:
    """`ofevents listen --demo --max-events 5 --json` works with zero setup."""
    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    done = subprocess.run([exe, "listen", "--demo", "--max-events", "5", "--json"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    events = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(events) == 5 and all(e["_id"].startswith("evt_") for e in events)
    assert "demo: emulator" in done.stderr


def test_emulator_subprocess_serves_until_interrupted() -> None:
    """`ofevents emulator --port 0` prints its URL and default credentials; SIGINT exits 0."""
    import signal

    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    proc = subprocess.Popen([exe, "emulator", "--port", "0", "--rate", "0"],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("emulator listening on ws://127.0.0.1:")
        proc.stderr.readline()
        assert "--api-key demo-api-key" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


def test_emulator_hint_masks_credentials_the_user_chose() -> None:
    """The `try:` hint shows demo defaults in clear but a user's own WS token only masked."""
    import signal

    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    token = "my-very-secret-ws-token"
    with subprocess.Popen([exe, "emulator", "--port", "0", "--rate", "0", "--ws-token", token],
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        try:
            hint = [proc.stderr.readline() for _ in range(3)][2]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert hint.startswith("try: ofevents listen") and token not in hint
    assert "--api-key demo-api-key" in hint and "--ws-token …ken" in hint


def test_ctrl_c_ends_listen_cleanly_with_exit_0() -> None:
    """SIGINT is the normal end of `listen --demo`: exit 0, `disconnected`, no traceback."""
    import signal
    import time

    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    proc = subprocess.Popen([exe, "listen", "--demo", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())  # at least one event arrived
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "disconnected: interrupted" in err and "Traceback" not in err
    finally:
        proc.kill()
        proc.communicate(timeout=5)


def test_secret_without_forward_to_is_a_usage_error() -> None:
    """--secret alone is a mistake worth saying: exit 2."""
    result = runner.invoke(app, ["listen", "--demo", "--secret", "whsec_x"])
    assert result.exit_code == 2 and "--forward-to" in result.stderr


def test_unknown_event_name_is_a_usage_error_with_a_suggestion() -> None:
    """-e tipp: exit 2 and `did you mean tip`, before any connection."""
    result = runner.invoke(app, ["listen", "--demo", "-e", "tipp"])
    assert result.exit_code == 2 and "did you mean tip" in result.stderr


def test_forward_to_signs_with_the_provider_secret_from_env() -> None:
    """--provider ofapi takes OFAPI_WEBHOOK_SECRET and signs X-OFAPI-Signature with it."""
    from ofevents_cli.core.signing import verify
    from tests.receiver import receiver

    with emulator_thread() as (served, loop), receiver() as (url, got):
        publish(served, loop, "tip", ACCOUNT, {})
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--max-events", "1", "--resume",
                                     served.app.bus.id_of(0), "--forward-to", url,
                                     "--provider", "ofapi"],
                               env={"OFAPI_WEBHOOK_SECRET": "ofapi-secret-123456"})
    assert result.exit_code == 0, result.stderr
    _, headers, body = got.requests[0]
    assert "x-ofapi-signature" in headers
    assert verify(body, list(headers.items()), ["ofapi-secret-123456"], now=0).valid


def test_emulator_on_a_taken_port_is_a_clear_usage_error() -> None:
    """A port already in use: one error line naming --port, exit 2, no traceback."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = runner.invoke(app, ["emulator", "--port", port])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1:" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_emulator_on_a_host_that_is_not_this_machine_blames_host() -> None:
    """A --host that is no address of this machine (or no address at all) is blamed on
    --host, not --port."""
    for host in ("999.1.1.1", "10.255.255.1"):
        result = runner.invoke(app, ["emulator", "--host", host, "--port", "0"])
        assert result.exit_code == 2
        assert f"cannot listen on {host}:0" in result.stderr
        assert "hint: use an address of this machine for --host" in result.stderr


def test_bad_url_is_a_usage_error() -> None:
    """A URL that is not ws:// or has a bad port: exit 2 naming --url, before connecting."""
    for url in ("http://127.0.0.1:1/v1/events", "ws://127.0.0.1:99999/v1/events"):
        result = runner.invoke(app, ["listen", "--url", url, "--api-key", KEY,
                                     "--ws-token", TOKEN])
        assert result.exit_code == 2 and "--url" in result.stderr, url
        assert "Traceback" not in result.stderr


def test_listen_into_a_reader_that_closes_early_exits_quietly() -> None:
    """`listen --json | head -n 2`: once the reader is gone, exit 0 without a traceback."""
    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    with subprocess.Popen([exe, "listen", "--demo", "--json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for _ in range(2):
                assert json.loads(proc.stdout.readline())["_id"].startswith("evt_")
            proc.stdout.close()  # what `head` does after its lines
            assert proc.wait(timeout=20) == 0
            stderr = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "disconnected: output closed" in stderr


def test_a_wrong_url_path_is_fatal_with_a_hint_about_url() -> None:
    """Handshake refused with HTTP 4xx (wrong path): exit 3 at once, hint names --url."""
    with emulator_thread() as (served, _):
        result = runner.invoke(app, ["listen", "--url", served.url.replace("/v1/events", "/v2"),
                                     "--api-key", KEY, "--ws-token", TOKEN])
    assert result.exit_code == 3
    assert "HTTP 403" in result.stderr and "--url" in result.stderr
    assert "reconnecting" not in result.stderr


def test_a_non_ascii_foreign_account_is_refused_4003_and_exits_4() -> None:
    """The 4003 close reason names the account; cut by characters it overflowed the close
    frame, the client saw 1006 and retried forever. Now: exit 4 at once, naming --account."""
    account = "é" * 70  # 140 bytes of UTF-8 in 70 characters
    with emulator_thread() as (served, _):
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "-a", account, "--max-retries", "1"])
    assert result.exit_code == 4, result.stderr
    assert "close code 4003" in result.stderr and "--account" in result.stderr


def test_close_reasons_fit_a_close_frame_at_a_character_boundary() -> None:
    """123 bytes at most, never half a character; short reasons are kept whole."""
    from ofevents_cli.core.frames import MAX_CLOSE_REASON, close_reason

    assert close_reason("drop-every") == "drop-every"
    cut = close_reason("account " + "é" * 100 + " is not one of yours")
    assert len(cut.encode()) <= MAX_CLOSE_REASON and cut.startswith("account éé")
    assert close_reason("\ud800 lone") == "? lone"


def test_a_redirect_is_a_clear_exit_3_naming_where_it_points() -> None:
    """Handshake answered 301: exit 3 at once, no traceback, the target escaped, hint --url."""
    def moved(connection: Any, request: Any) -> Any:
        response = connection.respond(301, "moved\n")
        response.headers["Location"] = "wss://elsewhere.example/v1/\x9b2Jevents"  # C1 CSI
        return response

    async def never(ws: Any) -> None:
        await ws.wait_closed()

    with scripted_thread(never, process_request=moved) as url:
        result = runner.invoke(app, ["listen", "--url", url, "--api-key", KEY,
                                     "--ws-token", TOKEN])
    assert result.exit_code == 3, result.stderr
    assert "redirects to wss://elsewhere.example/v1/\\x9b2Jevents (HTTP 301)" in result.stderr
    assert "does not follow redirects" in result.stderr and "\x9b" not in result.stderr
    assert "hint: if that is your EventBus, pass it as --url" in result.stderr
    assert "reconnecting" not in result.stderr and "Traceback" not in result.stderr


def test_a_server_that_never_says_ready_is_given_up_on_after_10_s() -> None:
    """Socket accepted, hello read, no answer: --no-reconnect exits 3 after the 10 s deadline."""
    import time

    async def mute(ws: Any) -> None:
        await ws.recv()
        await ws.wait_closed()

    with scripted_thread(mute) as url:
        started = time.monotonic()
        result = runner.invoke(app, ["listen", "--url", url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--no-reconnect"])
        waited = time.monotonic() - started
    assert result.exit_code == 3, result.stderr
    assert "connected" not in result.stderr.splitlines()
    assert "no ready within 10 s of the hello, no retries left" in result.stderr
    assert waited >= 9.5  # it waited for the deadline, not for ever


def test_the_last_event_of_max_events_comes_before_disconnected() -> None:
    """With stdout and stderr on one stream, the Nth event's line is printed before the
    `disconnected` line, not after it."""
    exe = shutil.which("ofevents", path=os.path.dirname(sys.executable))
    assert exe
    with emulator_thread() as (served, loop):
        for n in range(3):
            publish(served, loop, "tip", ACCOUNT, {"amount": n})
        done = subprocess.run([exe, "listen", "--url", served.url, "--api-key", KEY,
                               "--ws-token", TOKEN, "--format", "json", "--max-events", "3",
                               "--resume", served.app.bus.id_of(0)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60)
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    events = [n for n, text in enumerate(lines) if text.startswith('{"_event"')]
    [stop] = [n for n, text in enumerate(lines) if text.startswith("disconnected:")]
    assert len(events) == 3 and max(events) < stop


def test_max_events_exits_at_once_while_the_server_still_streams() -> None:
    """--max-events 5 with 20,000 events queued behind them: exit 0 without waiting out
    websockets' close handshake timeout (10 s) while the server sends the rest."""
    import time

    with emulator_thread(buffer=20_001) as (served, loop):
        done = threading.Event()
        batch = [{"event": "typing", "accountId": ACCOUNT}] * 10_000  # the most one emit takes
        loop.call_soon_threadsafe(lambda: (served.app.emit(batch), served.app.emit(batch),
                                           done.set()))
        assert done.wait(10)
        start = time.monotonic()
        result = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--json", "--max-events", "5",
                                     "--resume", served.app.bus.id_of(0)])
        seconds = time.monotonic() - start
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5 and seconds < 8, seconds
