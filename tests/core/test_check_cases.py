"""`check`'s battery (built by trigger's signing code) and its verdicts, as pure values."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ofevents_cli.core import providers as registry
from ofevents_cli.core.catalogue import find
from ofevents_cli.core.check_cases import (
    CASES,
    DRIFT,
    Case,
    Expect,
    battery,
    forged_secret,
    has_timestamp,
    refusal_probes,
    select,
)
from ofevents_cli.core.check_setup import Setup, make_setup
from ofevents_cli.core.check_verdicts import (
    Answer,
    CaseResult,
    Verdict,
    exit_code,
    grade,
    judge,
    timing,
)
from ofevents_cli.core.signing import Reason, verify
from ofevents_cli.errors import ExitCode, InputError

NOW = 1_800_000_000.0
SVIX = "whsec_" + base64.b64encode(b"core-check-tests-key-32-bytes!!!").decode()


def ids() -> Iterator[str]:
    """Distinct ids, in order."""
    return (f"evt_{n:04d}" for n in itertools.count())


def setup_for(scheme: str) -> Setup:
    """A setup signing with `scheme` for its provider's default event."""
    provider = registry.owner(scheme).name
    secret = SVIX if provider == "ofauth" else "plain-secret"
    sample = registry.provider(provider).sample_event
    assert sample is not None
    return make_setup(find(sample, provider), scheme, secret, None, "test")


def built(scheme: str) -> dict[str, Case]:
    """Every case for `scheme`, by name."""
    counter = ids()
    return {c.name: c for c in battery(setup_for(scheme), CASES, NOW, lambda _: next(counter))}


def check(setup: Setup, case: Case, index: int = 0, now: float = NOW) -> Any:
    """Verify one request of a case with the real secret (the verifier ofevents ships)."""
    request = case.requests[index]
    return verify(request.body, request.headers, [setup.secret], now=now, scheme=setup.scheme)


@pytest.mark.parametrize("scheme", sorted(registry.schemes()))
def test_each_case_is_what_it_says_under_the_shipped_verifier(scheme: str) -> None:
    """valid verifies; forged/tampered/reserialised mismatch; unsigned lacks the header;
    stale/future verify only outside the tolerance; bad input is signed (it reaches the
    parser); duplicate is one delivery twice, every other id is fresh."""
    setup, cases = setup_for(scheme), built(scheme)
    assert check(setup, cases["valid"]).valid
    for name in ("forged", "tampered", "reserialised"):
        assert check(setup, cases[name]).reason is Reason.MISMATCH, name
    assert check(setup, cases["unsigned"]).reason is Reason.MISSING_HEADER
    if has_timestamp(scheme):
        for name, sign in (("stale", -1), ("future", 1)):
            assert check(setup, cases[name]).reason is Reason.TIMESTAMP_OUTSIDE_TOLERANCE
            assert check(setup, cases[name], now=NOW + sign * DRIFT).valid
    else:
        assert cases["stale"].skipped and not cases["future"].requests
    first, second = cases["duplicate"].requests
    assert first == second and check(setup, cases["duplicate"]).valid
    for name in ("out-of-order", "unknown-event", "bad-input:empty-body",
                 "bad-input:invalid-json", "bad-input:content-type", "bad-input:oversized"):
        for index in range(len(cases[name].requests)):
            assert check(setup, cases[name], index).valid, name
    assert len(cases["bad-input:oversized"].requests[0].body) > 2 * 1024 * 1024
    assert cases["bad-input:empty-body"].requests[0].body == b""
    with pytest.raises(ValueError):
        json.loads(cases["bad-input:invalid-json"].requests[0].body)
    if scheme == "svix":  # every delivery but the duplicate has its own id
        ids_sent = [dict(r.headers)["svix-id"] for c in cases.values() for r in c.requests]
        assert len(set(ids_sent)) == len(ids_sent) - 1


def test_tampering_changes_one_byte_and_keeps_the_json_valid() -> None:
    """tampered differs from valid by exactly one byte, and still parses."""
    cases = built("ofapi")
    tampered = cases["tampered"].requests[0].body
    payload = json.loads(tampered)
    assert payload["type"] == "tip.received"
    genuine = cases["valid"].requests[0].body
    assert len(tampered) == len(genuine)


def test_forged_secret_has_the_same_form_and_differs() -> None:
    """The forging secret is `whsec_` + base64 (usable by every scheme), never the real one."""
    forged = forged_secret(SVIX)
    assert forged.startswith("whsec_") and forged != SVIX
    base64.b64decode(forged.removeprefix("whsec_"), validate=True)


def test_out_of_order_pairs_share_a_subject() -> None:
    """Each provider's earlier/later pair is in the catalogue and names the same fan,
    connection or message (a shared id value in their data)."""
    def leaves(value: object) -> set[object]:
        if isinstance(value, dict):
            return set().union(*(leaves(v) for v in value.values()))
        if isinstance(value, list):
            return set().union(*(leaves(v) for v in value))
        return {value} if isinstance(value, (int, str)) and len(str(value)) >= 8 else set()

    for entry in registry.providers():
        assert entry.ordered is not None, entry.name
        earlier, later = entry.ordered
        first, second = find(earlier, entry.name), find(later, entry.name)
        assert leaves(first.data) & leaves(second.data), entry.name


def test_refusal_probes_sign_each_mistake_a_verifier_makes() -> None:
    """Every probe is refused by a correct verifier, and each names a diagnosis cause."""
    setup = setup_for("svix")
    counter = ids()
    probes = refusal_probes(setup, NOW, lambda _: next(counter))
    tried = [p.tried for p in probes]
    assert "body re-serialised as spaced JSON" in tried
    assert "whole `whsec_…` string as the key" in tried
    for probe in probes:
        verdict = verify(probe.request.body, probe.request.headers, [setup.secret], now=NOW)
        assert not verdict.valid and probe.cause in ("body_reserialised", "trailing_newline",
                                                     "secret_encoding")


def test_select_expands_groups_and_brings_valid_for_timing() -> None:
    """bad-input means its four; slow-path brings valid; order is the battery's."""
    assert select([]) == CASES
    assert select(["bad-input"]) == tuple(c for c in CASES if c.startswith("bad-input:"))
    assert select(["slow-path", "forged"]) == ("valid", "forged", "slow-path")
    with pytest.raises(InputError, match="unknown case 'tamperd'") as caught:
        select(["tamperd"])
    assert "did you mean tampered" in (caught.value.hint or "")


def test_only_schemes_with_a_timestamp_have_stale_and_future() -> None:
    """ofapi and onlyfansapi sign the body alone; the Svix family and OFAuth-Signature do not."""
    assert not has_timestamp("ofapi") and not has_timestamp("onlyfansapi")
    assert has_timestamp("svix") and has_timestamp("ofauth-signature")


def case_named(name: str, scheme: str = "svix") -> Case:
    """One built case."""
    return built(scheme)[name]


def answer(status: int | None, ms: float = 5.0, error: str | None = None) -> Answer:
    """A fake answer value (what the shell hands the pure judge)."""
    return Answer(status, ms, error)


@pytest.mark.parametrize(("name", "status", "verdict"), [
    ("forged", 401, Verdict.PASS), ("forged", 200, Verdict.FAIL), ("forged", 500, Verdict.WARN),
    ("future", 200, Verdict.WARN), ("stale", 200, Verdict.FAIL),
    ("bad-input:oversized", 413, Verdict.PASS), ("bad-input:oversized", 200, Verdict.WARN),
    ("bad-input:invalid-json", 500, Verdict.FAIL), ("unknown-event", 400, Verdict.FAIL),
    ("valid", 302, Verdict.FAIL), ("valid", 204, Verdict.PASS),
])
def test_verdict_per_answer(name: str, status: int, verdict: Verdict) -> None:
    """The table of docs/check.md: what each answer means for each kind of case."""
    setup = setup_for("svix")
    case = case_named(name)
    result = judge(case, [answer(status)] * len(case.requests), setup, 10)
    assert result.verdict is verdict
    assert (result.advice is None) == (verdict is Verdict.PASS)


def test_duplicate_409_and_out_of_order_4xx() -> None:
    """409 on the redelivery fails; refusing the early-arriving later event only warns."""
    setup = setup_for("svix")
    duplicate = judge(case_named("duplicate"), [answer(200), answer(409)], setup, 10)
    assert duplicate.verdict is Verdict.FAIL and duplicate.status == 409
    assert "answers 409 to a redelivery" in (duplicate.advice or "")
    reordered = judge(case_named("out-of-order"), [answer(404), answer(200)], setup, 10)
    assert reordered.verdict is Verdict.WARN and "connection.updated arrives before" in (
        reordered.advice or "")
    crashed = judge(case_named("out-of-order"), [answer(200), answer(500)], setup, 10)
    assert crashed.verdict is Verdict.FAIL


def test_a_hang_on_bad_input_fails_but_a_closed_connection_warns() -> None:
    """No answer before the timeout holds a worker (fail); hanging up only warns."""
    setup = setup_for("svix")
    case = case_named("bad-input:oversized")
    hung = judge(case, [answer(None, 2000, "timed out")], setup, 2)
    assert hung.verdict is Verdict.FAIL and "no answer within 2 s" in (hung.advice or "")
    closed = judge(case, [answer(None, 3, "the target closed the connection mid-answer")],
                   setup, 2)
    assert closed.verdict is Verdict.WARN


@pytest.mark.parametrize(("slowest", "verdict"), [(40, Verdict.PASS), (6_000, Verdict.WARN),
                                                  (10_000, Verdict.FAIL)])
def test_slow_path_against_the_providers_timeout(slowest: float, verdict: Verdict) -> None:
    """OFAPI's 10 s timeout (one guide: ~5 s): over 5 s warns, 10 s fails; p50 is reported."""
    setup = setup_for("ofapi")
    answers = [answer(200, 10), answer(200, 20), answer(200, slowest)]
    result = timing(case_named("slow-path", "ofapi"), answers, setup, 30)
    assert result.verdict is verdict and result.ms == slowest
    assert "p50 20 ms" in result.sent


def test_slow_path_fails_when_a_genuine_delivery_timed_out() -> None:
    """A genuine delivery never answered counts as the whole timeout, and fails."""
    setup = setup_for("ofapi")
    result = timing(case_named("slow-path", "ofapi"),
                    [answer(200, 5), answer(None, 1000, "timed out")], setup, 1)
    assert result.verdict is Verdict.FAIL


def result(name: str, verdict: Verdict, security: bool = False) -> CaseResult:
    """A report-card line."""
    return CaseResult(name, "", "", 200, 1.0, verdict, None, security)


def test_grade_letters_and_exit_codes() -> None:
    """A all pass, B warnings, C failures no attacker can use, F accepts an attack; exit 1
    on any fail, 3 when unreachable, warnings are 0."""
    passed, warned = result("valid", Verdict.PASS), result("future", Verdict.WARN, True)
    failed, attacked = result("duplicate", Verdict.FAIL), result("forged", Verdict.FAIL, True)
    assert grade([passed]).letter == "A"
    assert grade([passed, warned]).letter == "B"
    assert grade([passed, failed]).letter == "C"
    assert grade([failed, attacked]).letter == "F"
    assert "forged" in grade([failed, attacked]).line
    assert exit_code([passed, warned], False) is ExitCode.OK
    assert exit_code([failed], False) is ExitCode.FAILURES
    assert exit_code([], True) is ExitCode.UNREACHABLE


def test_expectations_per_kind() -> None:
    """The battery's expectation kinds: genuine deliveries accepted, attacks refused."""
    cases = built("svix")
    assert {n for n, c in cases.items() if c.expect is Expect.ACCEPT} == {
        "valid", "duplicate", "out-of-order", "unknown-event"}
    assert {n for n, c in cases.items() if c.security} == {
        "forged", "tampered", "unsigned", "stale", "future", "reserialised"}
