"""The provider registry: everything about a provider derives from its one entry, and adding a
provider is one `register` call plus its fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.cli.options import complete_provider, provider_names
from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import find
from ofevents_cli.core.config_table import known_keys
from ofevents_cli.core.providers import Envelope, Provider
from ofevents_cli.core.schemes import HexScheme
from ofevents_cli.core.signing import detect_scheme, sign, verify
from tests.target import running_target

runner = CliRunner()


def _toy_envelope(name: str, event_id: str, when: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": name, "sent": when, "body": data}


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[Provider]:
    """A provider the code has never heard of: a `t1=<hex>` header and one event type."""
    folder = tmp_path / "toy-fixtures"
    folder.mkdir()
    (folder / "ping.sent.json").write_text(json.dumps({
        "description": "A toy ping.", "source": "the toy's docs",
        "data": {"n": 1, "who": "tester"}}), encoding="utf-8")
    entry = Provider("toy", "Toy", "a provider registered by a test", ("toy-sig",),
                     (Envelope("default", "kind", _toy_envelope),),
                     secret_env="TOY_WEBHOOK_SECRET", fixtures=folder)
    registry.register(entry, HexScheme("toy-sig", ("X-Toy-Signature",), prefix="t1="))
    try:
        yield entry
    finally:
        registry.unregister("toy")


def test_a_registered_provider_triggers_and_verifies_end_to_end(
        toy: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`trigger` signs the toy's event with its secret env var and scheme; `verify` finds the
    scheme by its header and checks it; the catalogue, flags, config keys and completion all
    know the toy, with no other change to the code."""
    monkeypatch.setenv("TOY_WEBHOOK_SECRET", "toy-secret")
    capture = tmp_path / "sent.jsonl"
    with running_target() as target:
        sent = runner.invoke(app, ["trigger", "ping.sent", "--to", target.url, "--save",
                                   str(capture), "--json"])
    assert sent.exit_code == 0, sent.stderr
    [request] = target.requests
    assert json.loads(request.body)["kind"] == "ping.sent"
    [signature] = request.values("x-toy-signature")
    assert signature.startswith("t1=") and len(signature) == 3 + 64
    checked = runner.invoke(app, ["verify", str(capture), "--json"])
    assert checked.exit_code == 0, checked.stderr
    record = json.loads(checked.stdout)
    assert (record["provider"], record["scheme"], record["valid"]) == ("toy", "toy-sig", True)
    listed = runner.invoke(app, ["events", "--provider", "toy", "--json"])
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["ping.sent"]
    assert "secrets.toy" in known_keys() and known_keys()["secrets.toy"].env == \
        "TOY_WEBHOOK_SECRET"
    assert "toy" in complete_provider("t") and "toy" in provider_names("webhook")
    assert find("ping.sent").provider == "toy"


def test_unregistering_removes_every_trace(toy: Provider) -> None:
    """After `unregister`, the toy is gone from the catalogue, detection and the key table."""
    registry.unregister("toy")
    try:
        assert "toy" not in registry.names() and "secrets.toy" not in known_keys()
        headers = sign("ofapi", "s", b"{}", msg_id="x", timestamp=0)
        assert detect_scheme([("X-Toy-Signature", "t1=" + "0" * 64)]) is None
        assert detect_scheme(headers) == "ofapi"
    finally:
        registry.register(toy, HexScheme("toy-sig", ("X-Toy-Signature",), prefix="t1="))


def test_detection_order_prefers_the_most_specific_header() -> None:
    """Three-header schemes first, `Signature` alone last; sha256= before bare hex."""
    order = [s.name for name, s in registry.detection_order() if name == s.signature_header.lower()]
    assert order.index("svix") < order.index("standard-webhooks") < order.index("ofapi")
    assert order.index("ofapi") < order.index("ofapi-hex") < order.index("onlyfansapi")
    assert order.index("ofauth-signature") < order.index("onlyfansapi")


def test_every_provider_names_real_schemes_and_envelopes() -> None:
    """Each provider's schemes exist and sign; each envelope builds a payload that names the
    event under the envelope's event key."""
    for entry in registry.providers():
        for name in entry.schemes:
            scheme = registry.scheme(name)
            secret = "whsec_c2VjcmV0" if "whsec_" in scheme.secret_form else "secret"
            headers = sign(name, secret, b"{}", msg_id="msg_1", timestamp=1)
            assert verify(b"{}", headers, [secret], now=1, scheme=name).valid, name
        for envelope in entry.envelopes:
            payload = envelope.build("x.y", "evt_1", "2026-01-01T00:00:00Z", {"a": 1})
            assert payload[envelope.event_key] == "x.y"
