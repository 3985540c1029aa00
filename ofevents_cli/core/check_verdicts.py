"""`check`'s verdicts: the answers to each case judged pass / warn / fail with one line of
advice, the slow-path timing, the grade, and the exit code. Pure: answers in, values out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from ofevents_cli.core import providers as registry
from ofevents_cli.core.check_cases import DRIFT, OVERSIZE, Case, Expect, Probe
from ofevents_cli.core.check_setup import Setup
from ofevents_cli.core.masking import mask
from ofevents_cli.core.signing import DEFAULT_TOLERANCE, scheme_key
from ofevents_cli.errors import ExitCode

__all__ = ["Answer", "CaseResult", "Grade", "Verdict", "exit_code", "explain_refusal",
           "grade", "judge", "timing"]


class Verdict(str, Enum):
    """A case's verdict (the values are part of the JSON contract)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NA = "n/a"


@dataclass(frozen=True)
class Answer:
    """What came back for one request: a status, or why there was none."""

    status: int | None
    ms: float
    error: str | None = None
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        """2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """4xx: the endpoint said no, on purpose."""
        return self.status is not None and 400 <= self.status < 500


@dataclass(frozen=True)
class CaseResult:
    """One line of the report card (`--json`: the first seven fields)."""

    case: str
    sent: str
    expected: str
    status: int | None
    ms: float | None
    verdict: Verdict
    advice: str | None
    security: bool = False


# what a REFUSE case is, in the words of its advice
_WHAT = {
    "forged": "a forged signature", "tampered": "a changed body",
    "unsigned": "a missing signature", "stale": "an old timestamp",
    "future": "a future timestamp", "reserialised": "a re-serialised body",
    "bad-input:empty-body": "an empty body", "bad-input:invalid-json": "a body that is not JSON",
    "bad-input:content-type": "a text/plain body",
    "bad-input:oversized": f"a {OVERSIZE >> 20} MiB body",
}
_LAX = {
    "bad-input:empty-body": "accepts an empty body: answer 400 before anything reads it",
    "bad-input:invalid-json": "accepts a body that is not JSON: it fails later, out of sight; "
                              "answer 400",
    "bad-input:content-type": "accepts JSON sent as text/plain: providers send "
                              "application/json, and 415 is the clear answer to anything else",
    "bad-input:oversized": f"accepts a {OVERSIZE >> 20} MiB body: set a request size limit "
                           "(413) so a flood cannot exhaust memory",
}
# cause (core.diagnosis) -> what it says about the endpoint
_MISTAKES = {
    "body_reserialised": "it verifies a re-encoded body, not the raw request bytes: compute "
                         "the HMAC over the body exactly as received",
    "trailing_newline": "it verifies the body with a newline added or removed: use the raw "
                        "bytes exactly as received",
    "secret_encoding": "it derives the HMAC key from the secret differently than the provider",
}


def _accepts(name: str, setup: Setup) -> str:
    header, tolerance = setup.signature_header, DEFAULT_TOLERANCE
    return {
        "forged": f"accepts forged deliveries: anyone who knows the URL can post a fake "
                  f"{setup.event.name}; verify {header} with your secret and answer 401 when "
                  "it does not match",
        "tampered": "accepts a changed body under a genuine signature: the HMAC is not "
                    "checked over the raw bytes, or its result is ignored",
        "unsigned": f"accepts deliveries without {header}: a missing signature must be a 401",
        "stale": f"accepts a delivery signed {DRIFT} s ago: captured deliveries can be "
                 f"replayed; refuse timestamps more than {tolerance} s from your clock",
        "future": f"accepts a timestamp {DRIFT} s ahead: check |now - timestamp| <= "
                  f"{tolerance} s both ways, as the Svix and Standard Webhooks libraries do",
        "reserialised": "accepts bytes that differ from what was signed: it verifies a "
                        "re-serialised body (JSON.stringify(req.body), "
                        "json.dumps(request.json)); verify the raw request bytes",
    }[name]


def _silent(answer: Answer, timeout: float) -> str:
    if answer.error == "timed out":
        return f"no answer within {timeout:g} s"
    return f"no answer ({answer.error or 'no status'})"


def explain_refusal(probes: Sequence[Probe], answers: Sequence[Answer], setup: Setup
                    ) -> str | None:
    """When a probe was accepted where the genuine delivery was refused, the mistake it names."""
    for probe, answer in zip(probes, answers, strict=False):
        if answer.ok:
            advice = _MISTAKES.get(probe.cause, "")
            if probe.cause == "secret_encoding":
                decoded = scheme_key(setup.scheme, setup.secret) != setup.secret.encode()
                advice += (": strip `whsec_` and base64-decode the rest" if decoded
                           else ": use the secret's text exactly as the dashboard shows it")
            return f"yet it accepts one signed with this mistake: {probe.tried}; {advice}"
    return None


def _refused_genuine(answer: Answer, setup: Setup, timeout: float, explained: str | None
                     ) -> str:
    """Why a genuine delivery may have been refused, most likely first."""
    status = answer.status
    if status is None:
        return f"{_silent(answer, timeout)}: a provider counts that as a failure and retries"
    if 300 <= status < 400:
        return f"redirects ({status}): providers do not follow redirects; give the final URL"
    if status >= 500:
        return f"fails on a genuine delivery ({status}): the provider retries it, then gives up"
    if explained:
        return f"refuses a genuine delivery ({status}), {explained}"
    if status in (401, 403):
        others = [s for s in registry.provider(setup.provider).schemes if s != setup.scheme]
        scheme = f"; or does it expect --scheme {' or '.join(others)}?" if others else ""
        return (f"refuses a genuine delivery ({status}): does it hold the same secret "
                f"({mask(setup.secret)})? It must verify the raw body bytes{scheme}")
    if status in (404, 405):
        return f"answers {status}: is this the webhook route (its path, POST)?"
    envelopes = [e.name for e in registry.provider(setup.provider).envelopes]
    if len(envelopes) > 1:
        return (f"refuses the payload ({status}): does it expect another envelope? "
                f"(--envelope {' or '.join(envelopes)})")
    return f"refuses a genuine delivery ({status}): its logs should say why"


def judge(case: Case, answers: Sequence[Answer], setup: Setup, timeout: float,
          explained: str | None = None) -> CaseResult:
    """The verdict on one case (not slow-path: see `timing`); `explained` is what
    `explain_refusal` found for a refused genuine delivery."""
    if case.skipped is not None:
        return CaseResult(case.name, case.sent, case.expected, None, None, Verdict.NA,
                          case.skipped, case.security)
    if case.expect is Expect.ACCEPT:
        verdict, answer, advice = _accept(case, answers, setup, timeout, explained)
    elif case.expect is Expect.REFUSE:
        verdict, answer, advice = _refuse(case, answers[0], setup, timeout)
    else:
        verdict, answer, advice = _reject(case, answers[0], timeout)
    return CaseResult(case.name, case.sent, case.expected, answer.status, answer.ms, verdict,
                      advice, case.security)


Judged = tuple[Verdict, Answer, str | None]


def _accept(case: Case, answers: Sequence[Answer], setup: Setup, timeout: float,
            explained: str | None) -> Judged:
    deadline = setup.deadline.seconds
    for index, answer in enumerate(answers):
        if answer.ok:
            continue
        if case.name == "valid" or (case.name == "duplicate" and index == 0):
            first = "the first copy: " if case.name == "duplicate" else ""
            return (Verdict.FAIL, answer,
                    first + _refused_genuine(answer, setup, timeout, explained))
        got = f"{answer.status}" if answer.status is not None else _silent(answer, timeout)
        if case.name == "duplicate":
            return Verdict.FAIL, answer, (
                f"answers {got} to a redelivery: deliveries are at-least-once and any "
                "non-2xx makes the provider send it again; acknowledge (2xx) an id already "
                "processed and skip the work")
        if case.name == "out-of-order":
            arrived, before = ((setup.later, setup.earlier) if index == 0
                               else (setup.earlier, setup.later))
            where = (f"{arrived.name} arrives before {before.name}" if index == 0
                     else f"{arrived.name} arrives after {before.name}")
            if answer.refused:
                return Verdict.WARN, answer, (
                    f"refuses ({got}) when {where}: it then relies on the provider's retries "
                    "to reorder; accept it and reconcile by timestamp")
            return Verdict.FAIL, answer, (
                f"fails ({got}) when {where}: deliveries arrive out of order (retries, "
                "best-effort delivery); store or skip it, and answer 2xx")
        return Verdict.FAIL, answer, (
            f"refuses an event type it does not know ({got}): providers add types; answer "
            "2xx and ignore it, or the provider retries and may disable the endpoint")
    last = answers[-1]
    if last.ms >= deadline * 1000:
        return Verdict.FAIL, last, (
            f"answered {last.status} after {last.ms / 1000:.1f} s: the provider gave up at "
            f"{deadline:g} s and sends it again; answer first, process later")
    return Verdict.PASS, last, None


def _refuse(case: Case, answer: Answer, setup: Setup, timeout: float) -> Judged:
    if answer.refused:
        return Verdict.PASS, answer, None
    if answer.ok:
        verdict = Verdict.WARN if case.name == "future" else Verdict.FAIL
        return verdict, answer, _accepts(case.name, setup)
    if answer.status is None:
        return Verdict.WARN, answer, f"{_silent(answer, timeout)}: refuse it at once with 401"
    return Verdict.WARN, answer, (
        f"answers {answer.status}, not 4xx: it errors on {_WHAT[case.name]} instead of "
        "refusing it (401)")


def _reject(case: Case, answer: Answer, timeout: float) -> Judged:
    what = _WHAT[case.name]
    if answer.refused:
        return Verdict.PASS, answer, None
    if answer.ok:
        return Verdict.WARN, answer, _LAX[case.name]
    if answer.status is None and answer.error == "timed out":
        return Verdict.FAIL, answer, (
            f"no answer within {timeout:g} s to {what}: a hang holds a worker; refuse it")
    if answer.status is None:
        return Verdict.WARN, answer, (
            f"closed the connection on {what} ({answer.error}): answer it with a 4xx")
    if answer.status >= 500:
        return Verdict.FAIL, answer, (
            f"errors ({answer.status}) on {what}: answer 400 (or 413, 415) instead")
    return Verdict.WARN, answer, f"answers {answer.status} to {what}: answer it with a 4xx"


def timing(case: Case, answers: Sequence[Answer], setup: Setup, timeout: float) -> CaseResult:
    """slow-path: p50 and max latency of the genuine deliveries against the provider's
    timeout (an unanswered one counts as the whole --timeout)."""
    timed = [a.ms if a.status is not None else timeout * 1000 for a in answers
             if a.status is not None or a.error == "timed out"]
    if not timed:
        return CaseResult(case.name, case.sent, case.expected, None, None, Verdict.NA,
                          "no genuine delivery was answered, so there is nothing to time")
    p50, slowest = statistics.median(timed), max(timed)
    sent = (f"timing of {len(timed)} genuine deliveries: p50 {p50:.0f} ms, "
            f"max {slowest:.0f} ms")
    deadline = setup.deadline
    verdict, advice = Verdict.PASS, None
    if slowest >= deadline.seconds * 1000 or any(a.status is None for a in answers
                                                  if a.error == "timed out"):
        verdict = Verdict.FAIL
        advice = (f"the slowest took {slowest / 1000:.1f} s: the provider gives up at "
                  f"{deadline.seconds:g} s ({deadline.source}) and retries; answer 2xx first "
                  "and process later (a queue)")
    elif slowest >= deadline.warn_after * 1000:
        verdict = Verdict.WARN
        advice = (f"the slowest took {slowest / 1000:.1f} s, close to the timeout "
                  f"({deadline.source}): answer first, process later")
    return CaseResult(case.name, sent, case.expected, None, round(slowest, 1), verdict, advice)


@dataclass(frozen=True)
class Grade:
    """The one-line grade: A all pass, B warnings only, C failures an attacker cannot use,
    F the endpoint accepts what an attacker can send."""

    letter: str
    line: str
    counts: dict[str, int] = field(default_factory=dict)


def grade(results: Sequence[CaseResult]) -> Grade:
    """Grade a report card."""
    counts = {v.value: sum(r.verdict is v for r in results) for v in Verdict}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    failed = [r.case for r in results if r.verdict is Verdict.FAIL]
    warned = [r.case for r in results if r.verdict is Verdict.WARN]
    if any(r.security for r in results if r.verdict is Verdict.FAIL):
        security = [r.case for r in results if r.security and r.verdict is Verdict.FAIL]
        return Grade("F", f"grade F: it accepts what an attacker can send ({', '.join(security)})"
                     f"; {tally}", counts)
    if failed:
        return Grade("C", f"grade C: failing {', '.join(failed)}, though none lets an attacker "
                     f"in; {tally}", counts)
    if warned:
        return Grade("B", f"grade B: nothing fails; warnings on {', '.join(warned)}; {tally}",
                     counts)
    return Grade("A", f"grade A: every case passes; {tally}", counts)


def exit_code(results: Sequence[CaseResult], unreachable: bool) -> ExitCode:
    """3 when nothing accepted the first connection, 1 when any case fails, else 0."""
    if unreachable:
        return ExitCode.UNREACHABLE
    if any(r.verdict is Verdict.FAIL for r in results):
        return ExitCode.FAILURES
    return ExitCode.OK
