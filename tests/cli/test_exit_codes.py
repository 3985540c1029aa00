"""One exit policy: every command, through every situation that applies to it, ends with the
README's code (0 ok, 1 failures found, 2 bad input, 3 unreachable, 4 credentials; a closed
stdout is 0). Each row names the command line; `{target}`, `{failing}`, `{closed}`, `{bus}`,
`{good}`, `{garbage}`, `{forged}` are filled with this test's own servers and files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.signing import sign
from tests.eventbus_servers import KEY, TOKEN, emulator_thread, publish
from tests.target import closed_port, running_target

runner = CliRunner()
EXE = str(Path(sys.executable).with_name("ofevents"))
SECRET = "s3cr3t"
ACCOUNT = "384751629"

ROWS = [
    # command line                                                              situation   code
    ("trigger tip.received -s s3cr3t --to {target}", "ok", 0),
    ("trigger tip.received -s s3cr3t --to {failing}", "failures", 1),
    ("trigger no.such.event -s s3cr3t", "bad input", 2),
    ("trigger tip.received -s s3cr3t --count 0", "bad input", 2),
    ("trigger tip.received -s s3cr3t --to {closed}", "unreachable", 3),
    ("trigger tip.received -s s3cr3t --to {target}/slow/2 --timeout 0.3", "timeout", 3),
    ("replay {good} --to {target}", "ok", 0),
    ("replay {good} --to {failing}", "failures", 1),
    ("replay {garbage} --to {target}", "bad input", 2),
    ("replay {good} --to {closed}", "unreachable", 3),
    ("verify {good} -s s3cr3t", "ok", 0),
    ("verify {forged} -s s3cr3t", "failures", 1),
    ("verify {garbage} -s s3cr3t", "bad input", 2),
    ("listen --url {bus} --api-key k --ws-token t --max-events 1 --resume {start}", "ok", 0),
    ("listen --url {gappy} --api-key k --ws-token t --max-events 1 --resume {expired}",
     "failures", 1),
    ("listen --url {bus} --api-key k --ws-token t -e no_such_event", "bad input", 2),
    ("listen --url ws://127.0.0.1:{closed_port}/v1/events --api-key k --ws-token t "
     "--no-reconnect", "unreachable", 3),
    ("listen --url {bus} --api-key k --ws-token wrong", "credentials", 4),
    ("check {target} --provider ofapi -s s3cr3t --case valid", "ok", 0),
    ("check {target} --provider ofapi -s s3cr3t --case forged", "failures", 1),
    ("check {target} --provider nobody -s s3cr3t", "bad input", 2),
    ("check {closed} --provider ofapi -s s3cr3t", "unreachable", 3),
    ("forward --to 3000 --tunnel nowhere", "bad input", 2),
    ("forward --to 3000 --ngrok-config {missing}", "credentials", 4),
    ("events", "ok", 0),
    ("events --provider nobody", "bad input", 2),
    ("config path", "ok", 0),
    ("config get secrets.ofapi", "failures", 1),
    ("config set secret.ofapi x", "bad input", 2),
    ("history {good}", "ok", 0),
    ("history --since yesterday-ish", "bad input", 2),
    ("doctor --to 3000/x --format yaml", "bad input", 2),
    ("nope", "bad input", 2),
]


def _capture(tmp: Path, name: str, secret: str) -> str:
    body = b'{"type":"tip.received","data":{"amount":5}}'
    headers = (("Content-Type", "application/json"),
               *sign("ofapi", secret, body, msg_id="x", timestamp=0))
    path = tmp / name
    path.write_text(Capture("dlv_1", format_timestamp(1.79e9), "POST", "/webhooks", headers,
                            body).to_json() + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The servers and files the rows name."""
    tmp = tmp_path_factory.mktemp("exits")
    garbage = tmp / "garbage.jsonl"
    garbage.write_text("{not a capture\n", encoding="utf-8")
    with running_target() as target, emulator_thread(api_key="k", ws_token="t") as (bus, loop), \
            emulator_thread(api_key="k", ws_token="t", buffer=1) as (gappy, gappy_loop):
        publish(bus, loop, "tip", ACCOUNT, {"amount": 1})
        for _ in range(3):  # a buffer of one: resuming after the first is a gap
            publish(gappy, gappy_loop, "tip", ACCOUNT, {"amount": 1})
        port = closed_port()
        yield {"target": target.url, "failing": f"{target.url}/status/500",
               "closed": f"http://127.0.0.1:{port}", "closed_port": str(port), "bus": bus.url,
               "start": bus.app.bus.id_of(0), "gappy": gappy.url,
               "expired": gappy.app.bus.id_of(1), "good": _capture(tmp, "good.jsonl", SECRET),
               "forged": _capture(tmp, "forged.jsonl", "another"),
               "garbage": str(garbage), "missing": str(tmp / "no-ngrok.yml")}


@pytest.mark.parametrize(("line", "situation", "code"), ROWS,
                         ids=[f"{line.split()[0]}: {situation}" for line, situation, _ in ROWS])
def test_each_command_ends_with_the_documented_code(line: str, situation: str, code: int,
                                                    places: dict[str, str]) -> None:
    """`line` in this situation exits `code`; 3 and 4 say `error:` with a hint, 2 an error or
    the warning naming each unreadable line."""
    args = line.format(**places).split()
    result = runner.invoke(app, args)
    assert result.exit_code == code, (line, result.stdout, result.stderr)
    if code in (3, 4):
        assert "ofevents: error:" in result.stderr and "hint:" in result.stderr, result.stderr
    if code == 2:
        assert "ofevents: error:" in result.stderr or "ofevents: warning:" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize("args", [
    ["events"], ["events", "--json"], ["trigger", "tip.received", "-s", SECRET, "--dry-run"],
    ["verify", "{good}", "-s", SECRET], ["history", "{good}"], ["config", "path"],
    ["listen", "--demo", "--max-events", "1"],
])
def test_a_closed_stdout_ends_every_command_with_0(args: list[str],
                                                   places: dict[str, str]) -> None:
    """The reader of stdout is gone before the first write (`… | head` done): exit 0, and no
    traceback or "Exception ignored" on stderr."""
    reader, writer = os.pipe()
    os.close(reader)
    done = subprocess.run([EXE, *(a.format(**places) for a in args)], stdout=writer,
                          stderr=subprocess.PIPE, timeout=60, env={**os.environ,
                                                                   "BFL_API_KEY": KEY,
                                                                   "BFL_WS_TOKEN": TOKEN})
    os.close(writer)
    assert done.returncode == 0, (args, done.stderr)
    assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr
