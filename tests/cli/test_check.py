"""`ofevents check URL` against reference endpoints on 127.0.0.1, report card case by case."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core import providers as registry
from ofevents_cli.core.check_cases import CASES, has_timestamp
from tests.target import closed_port, running_target
from tests.webhook_endpoints import VERIFIERS, endpoint, ofauth_seed001, standard_verifier

SVIX_SECRET = "whsec_" + base64.b64encode(b"check-tests-signing-key-32-bytes").decode()
SECRETS = {"ofapi": "ofapi-secret", "onlyfansapi": "fans-secret", "ofauth": SVIX_SECRET,
           "eventbus": SVIX_SECRET}
runner = CliRunner()


def card(url: str, provider: str, *extra: str) -> tuple[int, dict[str, dict[str, Any]],
                                                         dict[str, Any]]:
    """Run `check --json`: the exit code, the case records by name, and the summary line."""
    result = runner.invoke(app, ["check", url, "--provider", provider, "--secret",
                                 SECRETS[provider], "--json", *extra])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["summary"] is True, result.stdout + result.stderr
    cases = {line["case"]: line for line in lines[:-1]}
    return result.exit_code, cases, lines[-1]


def verdicts(cases: dict[str, dict[str, Any]]) -> dict[str, str]:
    """case -> verdict."""
    return {name: record["verdict"] for name, record in cases.items()}


def scheme_args(scheme: str) -> tuple[str, list[str]]:
    """The provider that signs with `scheme`, and the flag choosing it."""
    provider = registry.owner(scheme).name
    return provider, ["--scheme", scheme]


@pytest.mark.parametrize("scheme", sorted(registry.schemes()))
def test_a_correct_endpoint_passes_every_case(scheme: str) -> None:
    """Against an endpoint that verifies correctly (official library or the seed's code),
    every case passes; stale and future are n/a only where the scheme has no timestamp."""
    assert scheme in VERIFIERS, f"add a reference verifier for {scheme} in webhook_endpoints"
    provider, flags = scheme_args(scheme)
    with endpoint("correct", VERIFIERS[scheme](SECRETS[provider])) as ep:
        code, cases, summary = card(ep.url, provider, *flags)
    skipped = set() if has_timestamp(scheme) else {"stale", "future"}
    assert verdicts(cases) == {c: "n/a" if c in skipped else "pass" for c in CASES}
    assert code == 0 and summary["grade"] == "A" and summary["exit_code"] == 0
    assert summary["provider"] == provider and summary["scheme"] == scheme
    for name in skipped:
        assert "signs no timestamp" in cases[name]["advice"]
    assert cases["bad-input:oversized"]["status"] == 413
    assert cases["bad-input:content-type"]["status"] == 415
    assert cases["forged"]["status"] == 401 and cases["valid"]["status"] == 200
    # the two copies of the duplicate delivery were processed once
    assert len(ep.processed) == len(set(ep.processed))


def test_eventbus_means_the_forward_to_deliveries() -> None:
    """--provider eventbus grades an endpoint of `listen --forward-to`: Standard Webhooks."""
    with endpoint("correct", standard_verifier(SVIX_SECRET)) as ep:
        code, cases, summary = card(ep.url, "eventbus")
    assert code == 0 and set(verdicts(cases).values()) == {"pass"}
    assert summary["scheme"] == "standard-webhooks" and summary["event"] == "tip"
    assert "chat_message_like, then the earlier chat_message" in cases["out-of-order"]["sent"]


UNCHECKED = {"valid": "pass", "forged": "fail", "tampered": "fail", "unsigned": "fail",
             "stale": "fail", "future": "warn", "reserialised": "fail", "duplicate": "pass",
             "out-of-order": "pass", "unknown-event": "pass", "slow-path": "pass",
             "bad-input:empty-body": "pass", "bad-input:invalid-json": "pass",
             "bad-input:content-type": "warn", "bad-input:oversized": "warn"}


@pytest.mark.parametrize(("provider", "scheme"), [("ofapi", "ofapi"), ("ofauth", "svix"),
                                                  ("ofauth", "ofauth-signature")])
def test_an_endpoint_that_never_checks_signatures_fails_forged_tampered_unsigned(
        provider: str, scheme: str) -> None:
    """An endpoint that accepts any JSON fails forged, tampered, unsigned, reserialised (and
    stale where there is a timestamp): grade F, exit 1."""
    with endpoint("unchecked", VERIFIERS[scheme](SECRETS[provider])) as ep:
        code, cases, summary = card(ep.url, provider, "--scheme", scheme)
    expected = dict(UNCHECKED)
    if not has_timestamp(scheme):
        expected.update(stale="n/a", future="n/a")
    assert verdicts(cases) == expected
    assert code == 1 and summary["grade"] == "F"
    assert cases["forged"]["advice"].startswith("accepts forged deliveries")
    assert cases["forged"]["status"] == 200
    assert summary["counts"]["fail"] == list(expected.values()).count("fail")


RESERIALISING = {"valid": "fail", "forged": "pass", "tampered": "pass", "unsigned": "pass",
                 "stale": "pass", "future": "pass", "reserialised": "pass",
                 "duplicate": "fail", "out-of-order": "warn", "unknown-event": "fail",
                 "slow-path": "pass", "bad-input:empty-body": "pass",
                 "bad-input:invalid-json": "pass", "bad-input:content-type": "pass",
                 "bad-input:oversized": "pass"}


@pytest.mark.parametrize(("provider", "scheme", "mistake"), [
    ("ofauth", "svix", "body re-serialised as spaced JSON"),
    ("ofapi", "ofapi", "body re-serialised as spaced, ASCII-escaped JSON"),  # 🔥 in the tip
    ("onlyfansapi", "onlyfansapi", "body re-serialised as spaced, ASCII-escaped JSON"),
])
def test_an_endpoint_verifying_a_reserialised_body_fails_valid_and_passes_reserialised(
        provider: str, scheme: str, mistake: str) -> None:
    """json.dumps(request.json) under the HMAC: genuine deliveries are refused (valid fails,
    and its advice names the mistake), the re-serialised one is refused too (passes)."""
    with endpoint("reserialising", VERIFIERS[scheme](SECRETS[provider])) as ep:
        code, cases, summary = card(ep.url, provider)
    expected = dict(RESERIALISING)
    if not has_timestamp(scheme):
        expected.update(stale="n/a", future="n/a")
    assert verdicts(cases) == expected
    assert code == 1 and summary["grade"] == "C"
    advice = cases["valid"]["advice"]
    assert cases["valid"]["status"] == 401
    assert advice.startswith("refuses a genuine delivery (401), yet it accepts one signed")
    assert mistake in advice and "raw request bytes" in advice
    assert cases["duplicate"]["advice"].startswith("the first copy: refuses")


def test_an_endpoint_verifying_the_compact_reencoding_accepts_reserialised_bodies() -> None:
    """JSON.stringify(req.body) under the HMAC matches genuine compact bodies but also any
    re-spaced body: valid passes, reserialised fails (an attacker's way in: grade F)."""
    with endpoint("compact", VERIFIERS["ofapi"](SECRETS["ofapi"])) as ep:
        code, cases, summary = card(ep.url, "ofapi", "--case", "valid", "--case",
                                    "reserialised", "--case", "tampered")
    assert verdicts(cases) == {"valid": "pass", "tampered": "pass", "reserialised": "fail"}
    assert "re-serialised body" in cases["reserialised"]["advice"]
    assert code == 1 and summary["grade"] == "F"


def test_an_endpoint_that_crashes_on_bad_input_and_redeliveries_fails_them() -> None:
    """Unhandled errors (500) on an empty or non-JSON body and on a repeated id are fails."""
    with endpoint("crashy", VERIFIERS["ofapi"](SECRETS["ofapi"])) as ep:
        code, cases, _ = card(ep.url, "ofapi", "--case", "duplicate", "--case", "bad-input",
                              "--case", "forged")
    assert verdicts(cases) == {"forged": "pass", "duplicate": "fail",
                               "bad-input:empty-body": "fail", "bad-input:invalid-json": "fail",
                               "bad-input:content-type": "warn", "bad-input:oversized": "warn"}
    assert cases["duplicate"]["status"] == 500
    assert "redelivery" in cases["duplicate"]["advice"]
    assert cases["bad-input:invalid-json"]["advice"].startswith("errors (500) on a body that")
    assert code == 1


def test_the_seed_checklist_alone_accepts_future_timestamps() -> None:
    """Seed 001's steps reject only *old* timestamps: future is a warning, the grade a B."""
    secret = SECRETS["ofauth"]
    with endpoint("correct", ofauth_seed001(secret, both_ways=False)) as ep:
        code, cases, summary = card(ep.url, "ofauth", "--scheme", "ofauth-signature")
    assert cases["future"]["verdict"] == "warn" and cases["stale"]["verdict"] == "pass"
    assert "both ways" in cases["future"]["advice"]
    assert code == 0 and summary["grade"] == "B"


def test_a_slow_endpoint_fails_valid_and_slow_path() -> None:
    """No answer within --timeout: valid fails, slow-path fails (a provider would retry)."""
    with running_target() as target:
        code, cases, _ = card(f"{target.url}/slow/1/webhooks", "ofapi", "--timeout", "0.3",
                              "--case", "slow-path")
    assert verdicts(cases) == {"valid": "fail", "slow-path": "fail"}
    assert cases["valid"]["advice"].startswith("no answer within 0.3 s")
    assert cases["valid"]["status"] is None
    assert code == 1


def test_nothing_listening_is_exit_3_with_a_summary() -> None:
    """A closed port: exit 3, the error on stderr, no case lines, a summary naming why."""
    result = runner.invoke(app, ["check", str(closed_port()), "--provider", "ofapi", "-s", "x",
                                 "--json"])
    assert result.exit_code == 3
    assert "ofevents: error: nothing answers at http://localhost:" in result.stderr
    assert "Traceback" not in result.stderr
    [summary] = [json.loads(line) for line in result.stdout.splitlines()]
    assert summary["unreachable"] == "connection refused" and summary["exit_code"] == 3


def test_text_report_card_lists_failures_first_and_a_grade() -> None:
    """The human view: a table whose FAIL rows come before WARN and PASS, then the grade."""
    with endpoint("unchecked", VERIFIERS["ofapi"](SECRETS["ofapi"])) as ep:
        result = runner.invoke(app, ["check", ep.url, "--provider", "ofapi", "-s",
                                     SECRETS["ofapi"], "--format", "text"])
    assert result.exit_code == 1
    out = result.stdout
    rows = [line.split()[0] for line in out.splitlines()
            if line.split()[:1] in (["FAIL"], ["WARN"], ["PASS"], ["N/A"])]
    assert rows[:4] == ["FAIL"] * 4 and rows.index("WARN") < rows.index("PASS")
    assert rows[-2:] == ["N/A", "N/A"]
    assert "accepts forged deliveries" in out
    assert out.strip().splitlines()[-1].startswith("grade F: it accepts what an attacker")
    assert "\x1b[" not in out  # NO_COLOR


def test_secret_comes_from_the_env_var_then_the_config(isolated_env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --secret, the provider's env var signs; without it, `secrets.<provider>`."""
    with endpoint("correct", VERIFIERS["ofapi"]("from-env")) as ep:
        monkeypatch.setenv("OFAPI_WEBHOOK_SECRET", "from-env")
        by_env = runner.invoke(app, ["check", ep.url, "--event", "tip.received", "--case",
                                     "valid", "--json"])
        monkeypatch.delenv("OFAPI_WEBHOOK_SECRET")
        (isolated_env / "config.toml").write_text('[secrets]\nofapi = "from-env"\n')
        by_config = runner.invoke(app, ["check", ep.url, "--event", "tip.received", "--case",
                                        "valid", "--json"])
    for result in (by_env, by_config):
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout.splitlines()[0])["verdict"] == "pass"


@pytest.mark.parametrize(("args", "message"), [
    (["3000"], "say whose deliveries to imitate"),
    (["3000", "--provider", "nope"], "unknown provider 'nope'"),
    (["3000", "--provider", "ofapi"], "no signing secret for ofapi"),
    (["3000", "--provider", "ofauth", "-s", "not base64!"], "cannot sign with that secret"),
    (["3000", "--provider", "ofapi", "-s", "x", "--case", "forgd"], "unknown case 'forgd'"),
    (["3000", "--provider", "ofapi", "-s", "x", "--scheme", "svix"], "does not sign with"),
    (["3000", "--provider", "ofapi", "-s", "x", "--envelope", "sdk"], "has no envelope"),
    (["3000", "--provider", "ofapi", "-s", "x", "--json", "--format", "text"], "contradict"),
    (["ftp://x", "--provider", "ofapi", "-s", "x"], "not an http(s) target"),
])
def test_bad_input_is_exit_2_before_anything_is_sent(args: list[str], message: str) -> None:
    """Each unusable flag is a one-line error with a hint, exit 2, no traceback."""
    result = runner.invoke(app, ["check", *args])
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "hint:" in result.stderr
    assert result.stdout == ""


def test_unknown_case_suggests_the_close_name() -> None:
    """A typo in --case names the case it probably meant."""
    result = runner.invoke(app, ["check", "3000", "--provider", "ofapi", "-s", "x", "--case",
                                 "forgd"])
    assert "did you mean forged?" in result.stderr


def test_installed_command_grades_an_endpoint() -> None:
    """The installed `ofevents check --format json` in a subprocess: grade A, exit 0."""
    exe = str(Path(sys.executable).with_name("ofevents"))
    with endpoint("correct", VERIFIERS["svix"](SVIX_SECRET)) as ep:
        done = subprocess.run([exe, "check", ep.url, "--event", "connection.created",
                               "--secret", SVIX_SECRET, "--format", "json"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["case"] for line in lines[:-1]] == list(CASES)
    assert set(lines[0]) == {"case", "sent", "expected", "status", "ms", "verdict", "advice"}
    assert lines[-1]["grade"] == "A" and lines[-1]["event"] == "connection.created"


def test_an_endpoint_that_does_not_speak_http_fails_without_a_traceback() -> None:
    """A server answering garbage accepted the connection (not exit 3): valid fails, plainly."""
    from tests.target import scripted

    with scripted({b"POST": b"this is not HTTP\r\n\r\n"}) as base:
        code, cases, _ = card(f"{base}/webhooks", "ofapi", "--case", "valid")
    assert code == 1 and cases["valid"]["verdict"] == "fail"
    assert cases["valid"]["status"] is None
    assert cases["valid"]["advice"].startswith("no answer (")


def test_help_lists_check_and_doctor() -> None:
    """`ofevents --help` names both commands; each has its own --help with --format."""
    assert {"check", "doctor"} <= set(runner.invoke(app, ["--help"]).stdout.split())
    for command in ("check", "doctor"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "--format" in result.stdout and "--json" in result.stdout
