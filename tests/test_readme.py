"""Every README example that needs no network runs, as a user would type it.

Each `ofevents …` line of the README's `sh` blocks is classified below: run to its end, served
(a long-running command: started, seen up, stopped with Ctrl+C, exit 0), or not run here, with
the reason (a real ngrok tunnel; a terminal UI, which tests/tui drives with textual's pilot). A
new example must be classified, so the README cannot drift from what the commands do.

The only changes to an example: the ports a user would have their server on (3000, 4000, 8000,
8080), the emulator's 8765 and Redis's 6379 become the ports this test's own servers (a real
redis-server among them) listen on, and a
`dlv_01JD…` placeholder becomes a delivery id that exists in the sandbox's history.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eventbus_servers import emulator_thread
from tests.redis_server import RedisServer
from tests.target import running_target

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
OFEVENTS = str(Path(sys.executable).with_name("ofevents"))

# how each example is tried: "run" to its end (exit 0 or 1: 1 is a finding, such as a check
# that fails or a signature that does not verify), "serve" until it is up then Ctrl+C
SERVE = {
    "ofevents listen --demo", "ofevents listen --demo --forward-to 3000/webhooks",
    "ofevents emulator &", "ofevents listen -e tip -e ppv_purchase -a 384751629",
    "ofevents listen --json", "ofevents listen --keep", "ofevents emulator",
    "ofevents emulator --rate 0 --seed 1", "ofevents emulator --drop-every 50",
    "ofevents forward --to 3000 --tunnel none --capture today.jsonl --json",
    "ofevents listen --demo --route 'tip,ppv_purchase=3000/money' --route "
    "'chat_message=3000/chat'",
    "ofevents listen --demo --route '*@384751629=4000/vip'",
    "ofevents forward --to 3000 --tunnel none --route 'tip.*=4000/tips'",
    "ofevents listen --demo --sink 'redis://127.0.0.1:6379/0?stream=events' --resume auto",
    "ofevents worker --from 'redis://127.0.0.1:6379/0?stream=events&group=handlers' --to 3000",
}
NOT_HERE = {
    "ofevents forward --to localhost:3000": "opens a real ngrok tunnel (network)",
    'ofevents forward --to 3000/webhooks --secret "$OFAPI_WEBHOOK_SECRET"': "ngrok (network)",
    "ofevents forward --to 3000 --reject-invalid": "opens a real ngrok tunnel (network)",
    "ofevents inspect": "a terminal UI: tests/tui drives it with textual's pilot",
}


def examples() -> list[str]:
    """Each `ofevents …` command line of the README's sh blocks, comment and pipe cut off."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line.strip())
            if "ofevents " in line and not line.startswith(("export ", "python", "bash")):
                line = line[line.index("ofevents "):].split(" | ")[0].strip()
                if line.startswith("ofevents ") and line not in found:
                    found.append(line)
    return found


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
            ) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    """A working directory with the files the examples name, an environment as the README
    sets it up, a target and an emulator to talk to; and the text substitutions."""
    work = tmp_path_factory.mktemp("readme")
    with running_target() as target, emulator_thread(api_key="demo-api-key",
                                                     ws_token="demo-ws-token") as (served, _):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OFAPI", "OFAUTH",
                                                                         "BFL", "NGROK"))}
        env.update({
            "OFEVENTS_CONFIG_DIR": str(work / "config"), "OFEVENTS_HISTORY_DIR": str(work / "h"),
            "OFAPI_WEBHOOK_SECRET": "s3cr3t", "ONLYFANSAPI_WEBHOOK_SECRET": "s3cr3t",
            "OFAUTH_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "BFL_API_KEY": "demo-api-key", "BFL_WS_TOKEN": "demo-ws-token",
            "OFEVENTS_EVENTBUS_URL": served.url, "NO_COLOR": "1"})
        port = str(target.port)
        emulator_port = served.url.split(":")[2].split("/")[0]
        subs = {"3000": port, "4000": port, "8000": port, "8080": port, "8765": emulator_port,
                "6379": str(redis_server.port)}

        def ofevents(*args: str) -> str:
            done = subprocess.run([OFEVENTS, *args], cwd=work, env=env, capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, (args, done.stderr)
            return done.stdout

        url = f"http://127.0.0.1:{port}/webhooks"
        ofevents("trigger", "tip.received", "--to", url, "--save", "capture.jsonl")
        ofevents("trigger", "connection.created", "--to", url, "--save", "capture.jsonl")
        ofevents("trigger", "tip.received", "--to", url, "--secret", "old_secret", "--save",
                 "a.jsonl")
        ofevents("trigger", "tip.received", "--to", url, "--secret", "new_secret", "--save",
                 "b.jsonl")
        ofevents("trigger", "tip.received", "--to", url, "--save")  # into the history
        (work / "body.json").write_text('{"type":"connection.created"}', encoding="utf-8")
        (work / "message.json").write_text('{"id": 1, "text": "hi"}', encoding="utf-8")
        history = ofevents("history", "--last", "1", "--json")
        subs["dlv_01JD…"] = history.split('"id": "', 1)[1].split('"', 1)[0]
        yield work, env, subs


def _command(example: str, subs: dict[str, str]) -> list[str]:
    text = example.removesuffix(" &")
    for old, new in subs.items():
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", new, text)
    text = text.replace('"$OFAUTH_WEBHOOK_SECRET"', "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    return [OFEVENTS, *shlex.split(text)[1:]]


def test_every_readme_example_is_classified() -> None:
    """Each README example is run, served, or named here as needing the network / a
    terminal: a new example cannot go untried by accident."""
    found = examples()
    assert len(found) > 40
    assert set(NOT_HERE) <= set(found) and set(found) >= SERVE


@pytest.mark.parametrize("example", [e for e in examples() if e not in NOT_HERE])
def test_the_readme_example_works(example: str,
                                  sandbox: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    """The example runs (exit 0, or 1 for a reported finding) or, for a long-running one,
    comes up and ends cleanly on Ctrl+C; never a usage error or a traceback."""
    work, env, subs = sandbox
    command = _command(example, subs)
    stdin = (work / "capture.jsonl").read_bytes() if " verify - " in f"{example} " else None
    if example not in SERVE:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, timeout=120,
                              input=stdin)
        errors = done.stderr.decode("utf-8", "replace")
        assert done.returncode in (0, 1), (command, errors)
        assert "Traceback" not in errors and "ofevents: error:" not in errors, errors
        return
    with subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        time.sleep(2.5)  # up by now: banner, first events, or the emulator listening
        assert proc.poll() is None, (command, proc.stderr.read() if proc.stderr else "")
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=30)
    assert proc.returncode == 0, (command, errors)
    assert "Traceback" not in errors and "ofevents: error:" not in errors, errors
