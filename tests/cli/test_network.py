"""Corporate networks and local HTTPS: proxies for remote targets (never for loopback),
`--insecure` / `--cacert` for a self-signed target, and the timeouts users ask for. Every
server runs on 127.0.0.1; a remote-looking name is reached only through the test proxy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.shells.emulator import EmulatorSettings, running
from ofevents_cli.shells.eventbus import ClientSettings, EventReceived
from ofevents_cli.shells.forwarder import Delivered as Forwarded
from ofevents_cli.shells.forwarder import ForwardSettings
from ofevents_cli.shells.listener import listen
from ofevents_cli.shells.relay import Delivered, RelaySettings, TargetDown
from tests.eventbus_servers import KEY, TOKEN
from tests.network import Certs, make_certs, running_proxy
from tests.target import running_relay, running_target

runner = CliRunner()
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no proxy configured (either case), whatever the machine has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    """A CA made for this test and a certificate it signed for localhost, 127.0.0.1 and
    hooks.example.test."""
    return make_certs(tmp_path)


def trigger(to: str, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    """`trigger tip.received --json`: exit code, the JSON records, stderr."""
    result = runner.invoke(app, ["trigger", "tip.received", "--provider", "ofapi", "--to", to,
                                 "-s", "k", "--json", *extra])
    return (result.exit_code, [json.loads(x) for x in result.stdout.splitlines()],
            result.stderr)


def test_a_remote_https_target_is_reached_through_https_proxy(
        certs: Certs, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY set: `trigger --to https://hooks.example.test/…` asks the proxy for a
    CONNECT tunnel (the name is never resolved here) and the TLS target gets the delivery."""
    with running_target(tls=certs.server_context()) as target, \
            running_proxy(target.port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        code, records, stderr = trigger("https://hooks.example.test/webhooks",
                                        "--cacert", str(certs.ca))
    assert code == 0, stderr
    assert proxy.asked == ["CONNECT hooks.example.test:443 HTTP/1.1"]
    [got] = target.requests
    assert got.path == "/webhooks" and got.values("host") == ["hooks.example.test"]
    assert records[0]["status"] == 200


def test_a_remote_http_target_is_reached_through_http_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY (lower case wins over upper): an http:// remote target goes to the proxy
    in absolute form."""
    with running_target() as target, running_proxy(target.port) as proxy:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would fail: not this one
        monkeypatch.setenv("http_proxy", proxy.url)
        code, _, stderr = trigger("http://hooks.example.test:8080/webhooks")
    assert code == 0, stderr
    assert proxy.asked == ["POST http://hooks.example.test:8080/webhooks HTTP/1.1"]
    assert [r.path for r in target.requests] == ["/webhooks"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.8.9.10"])
def test_loopback_targets_never_go_through_a_proxy(
        host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every proxy variable set and no NO_PROXY: a loopback target is still sent direct."""
    with running_target() as target, running_proxy(target.port) as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        if host == "127.8.9.10":  # any 127/8 address: this target only listens on .1
            host = "127.0.0.1"
        code, _, stderr = trigger(f"http://{host}:{target.port}/webhooks")
    assert code == 0, stderr
    assert proxy.asked == [] and len(target.requests) == 1


def test_a_socks_proxy_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALL_PROXY=socks5://…: exit 2 with a hint, nothing sent."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    code, records, stderr = trigger("http://hooks.example.test/webhooks")
    assert code == 2 and records == [] and "http:// proxy" in stderr


def test_a_remote_eventbus_is_reached_through_the_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`listen --url ws://events.example.test:PORT/v1/events` with HTTP_PROXY: the EventBus
    connection is tunnelled by the proxy, and the events arrive."""
    seen: list[object] = []

    async def main() -> list[str]:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            port = served.url.split(":")[2].split("/")[0]
            with running_proxy(int(port)) as proxy:
                monkeypatch.setenv("HTTP_PROXY", proxy.url)
                task = asyncio.ensure_future(listen(ClientSettings(
                    f"ws://events.example.test:{port}/v1/events", KEY, TOKEN), seen.append,
                    max_events=2))
                while served.app.sessions == 0:
                    await asyncio.sleep(0.01)
                served.app.emit([{"event": "tip"}, {"event": "typing"}])
                await asyncio.wait_for(task, 10)
                return proxy.asked

    asked = asyncio.run(main())
    assert asked == [f"CONNECT events.example.test:{asked[0].split(':')[1].split()[0]} "
                     "HTTP/1.1"]
    assert [v.event.event for v in seen if isinstance(v, EventReceived)] == ["tip", "typing"]


def test_a_self_signed_https_target_needs_cacert_or_insecure(certs: Certs) -> None:
    """Untrusted: not sent, the error names --cacert; --cacert CA or --insecure: delivered."""
    with running_target(tls=certs.server_context()) as target:
        refused = trigger(target.url + "/webhooks")
        trusted = trigger(target.url + "/webhooks", "--cacert", str(certs.ca))
        blind = trigger(f"https://localhost:{target.port}/webhooks", "--insecure")
    assert refused[0] == 3 and "--cacert" in str(refused[1][0]["error"])
    assert trusted[0] == 0 and blind[0] == 0, trusted[2] + blind[2]
    assert len(target.requests) == 2


def test_an_unreadable_cacert_is_a_usage_error(tmp_path: Path) -> None:
    """--cacert of a missing file or one with no certificate: exit 2, nothing sent."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    for path in (tmp_path / "missing.pem", junk):
        code, records, stderr = trigger("https://127.0.0.1:1/webhooks", "--cacert", str(path))
        assert code == 2 and records == [] and "--cacert" in stderr, stderr


def test_trigger_timeout_gives_up_on_a_slow_target() -> None:
    """--timeout 0.3 against a target that takes 2 s: `timed out`, long before 2 s pass."""
    with running_target() as target:
        code, records, _ = trigger(target.url + "/slow/2", "--timeout", "0.3")
    assert code == 3 and records[0]["error"] == "timed out"
    assert float(str(records[0]["ms"])) < 1500


def test_replay_to_a_self_signed_target_with_cacert(certs: Certs, tmp_path: Path) -> None:
    """replay --cacert: the captured delivery reaches the HTTPS target byte for byte."""
    capture = tmp_path / "c.jsonl"
    capture.write_text(Capture("dlv_1", format_timestamp(0), "POST", "/hook",
                               (("content-type", "application/json"),), b'{"a":1}').to_json()
                       + "\n")
    with running_target(tls=certs.server_context()) as target:
        refused = runner.invoke(app, ["replay", str(capture), "--to", target.url])
        result = runner.invoke(app, ["replay", str(capture), "--to", target.url,
                                     "--cacert", str(certs.ca)])
    assert refused.exit_code == 3
    assert result.exit_code == 0, result.stderr
    assert [(r.path, r.body) for r in target.requests] == [("/hook", b'{"a":1}')]


def test_the_relay_reaches_a_self_signed_target_with_cacert(certs: Certs,
                                                            tmp_path: Path) -> None:
    """forward --cacert: the relayed delivery gets the HTTPS target's answer; without it, 502."""
    import httpx

    with running_target(tls=certs.server_context()) as target:
        with running_relay(RelaySettings(target.url, tmp_path / "a.jsonl",
                                         cacert=str(certs.ca))) as relay:
            answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}", timeout=5)
            relay.wait_for(Delivered)
        with running_relay(RelaySettings(target.url, tmp_path / "b.jsonl")) as untrusted:
            refused = httpx.post(f"{untrusted.started.local_url}/hook", content=b"{}",
                                 timeout=5)
            untrusted.wait_for(Delivered)
    assert (answer.status_code, answer.content) == (200, b"{}")
    assert refused.status_code == 502
    assert "--cacert" in str(untrusted.of(Delivered)[0].error)
    assert untrusted.of(TargetDown) == []  # it listens: an untrusted certificate is no outage


def test_the_relay_reaches_a_remote_target_through_the_proxy(
        certs: Certs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """forward --to https://hooks.example.test with HTTPS_PROXY: relayed through a tunnel."""
    import httpx

    with running_target(tls=certs.server_context()) as target, \
            running_proxy(target.port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with running_relay(RelaySettings("https://hooks.example.test", tmp_path / "c.jsonl",
                                         cacert=str(certs.ca))) as relay:
            answer = httpx.post(f"{relay.started.local_url}/hook", content=b"{}", timeout=5,
                                trust_env=False)
            relay.wait_for(Delivered)
    assert answer.status_code == 200
    assert proxy.asked[-1] == "CONNECT hooks.example.test:443 HTTP/1.1"


def _forward(settings: ForwardSettings) -> list[Forwarded]:
    """listen with --forward-to for one emitted event; the delivery attempts."""
    shown: list[object] = []

    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            task = asyncio.ensure_future(listen(ClientSettings(served.url, KEY, TOKEN),
                                                shown.append, max_events=1, forward=settings))
            while served.app.sessions == 0:
                await asyncio.sleep(0.01)
            served.app.emit([{"event": "tip"}])
            await asyncio.wait_for(task, 20)

    asyncio.run(main())
    return [v for v in shown if isinstance(v, Forwarded)]


def test_forward_to_a_self_signed_target_with_cacert(certs: Certs) -> None:
    """listen --forward-to https://… --cacert: the signed event arrives at the HTTPS target."""
    with running_target(tls=certs.server_context()) as target:
        attempts = _forward(ForwardSettings(target.url + "/hooks", SECRET,
                                            cacert=str(certs.ca)))
    assert [a.status for a in attempts] == [200]
    assert json.loads(target.requests[0].body)["_event"] == "tip"


def test_forward_timeout_gives_up_on_each_attempt() -> None:
    """--forward-timeout 0.2 against a 2 s target: each attempt is `timed out`, retried."""
    with running_target() as target:
        attempts = _forward(ForwardSettings(target.url + "/slow/2", SECRET, timeout=0.2,
                                            attempts=2, initial_delay=0.01))
    assert [(a.error, a.attempt) for a in attempts] == [("timed out", 1), ("timed out", 2)]
    assert all(a.ms < 1500 for a in attempts)
