"""`check`'s I/O: the secret taken as `trigger` takes it, the battery sent one request at a time
(order matters for duplicate and out-of-order), each case judged as soon as it is answered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ofevents_cli.core import providers as registry
from ofevents_cli.core.check_cases import Expect, Request, battery, refusal_probes, select
from ofevents_cli.core.check_setup import Setup, chosen_event, make_setup
from ofevents_cli.core.check_verdicts import Answer, CaseResult, explain_refusal, judge, timing
from ofevents_cli.core.targets import parse_target
from ofevents_cli.errors import InputError
from ofevents_cli.shells.clock import new_id, now
from ofevents_cli.shells.config import secret_envs, secrets_for
from ofevents_cli.shells.triggering import USER_AGENT

if TYPE_CHECKING:
    import aiohttp

__all__ = ["CheckPlan", "Report", "run_check"]


def signing_secret(provider: str, flag: str | None) -> str:
    """--secret, else the provider's env var, else the config file (as `trigger`); for a
    provider without a secret of its own (eventbus), the `listen --forward-to` session secret
    its endpoint was given."""
    if flag:
        return flag
    if not registry.provider(provider).secret_env:
        from ofevents_cli.shells.session_secret import session_secret

        return session_secret()
    found = secrets_for(None, provider)
    if not found:
        raise InputError(f"no signing secret for {provider}",
                         f"pass --secret or set {secret_envs(provider)}")
    return found[0]


@dataclass(frozen=True)
class CheckPlan:
    """Everything resolved from the flags, env vars and config before anything is sent."""

    url: str
    setup: Setup
    cases: tuple[str, ...]
    timeout: float

    @classmethod
    def make(cls, url: str, *, provider: str | None, event: str | None, secret: str | None,
             scheme: str | None, envelope: str | None, cases: Sequence[str],
             timeout: float | None) -> CheckPlan:
        """InputError (exit 2) for any flag that cannot work, before the first request."""
        target = parse_target(url, flag="URL", default=None)
        names = select(cases)
        chosen = chosen_event(provider, event)
        setup = make_setup(chosen, scheme, signing_secret(chosen.provider, secret), envelope,
                           USER_AGENT)
        return cls(target, setup, names, timeout or setup.deadline.seconds)


@dataclass(frozen=True)
class Report:
    """The judged cases, or why the endpoint could not be reached at all."""

    results: tuple[CaseResult, ...]
    unreachable: str | None = None


async def _post(client: aiohttp.ClientSession, url: str, request: Request) -> Answer:
    from ofevents_cli.shells.http_client import proxy
    from ofevents_cli.shells.sender import send

    sent = await send(client, "POST", url, request.headers, request.body, proxy=proxy(url))
    return Answer(sent.status, sent.ms, sent.error, sent.unreachable)


async def _explain(client: aiohttp.ClientSession, plan: CheckPlan) -> str | None:
    """Send the mistake probes until one is accepted (a refused genuine delivery only)."""
    probes = refusal_probes(plan.setup, now(), new_id)
    answers = []
    for probe in probes:
        answers.append(await _post(client, plan.url, probe.request))
        if answers[-1].ok:
            break
    return explain_refusal(probes, answers, plan.setup)


async def run_check(plan: CheckPlan, on_result: Callable[[CaseResult], None]) -> Report:
    """Send the battery; `Report.unreachable` when the first request found nobody listening."""
    from ofevents_cli.shells.http_client import HttpSettings, session

    results: list[CaseResult] = []
    genuine: list[Answer] = []  # the answers slow-path times
    first = True
    async with session(HttpSettings(plan.timeout), limit=1) as client:
        for case in battery(plan.setup, plan.cases, now(), new_id):
            answers: list[Answer] = []
            for request in case.requests:
                answers.append(await _post(client, plan.url, request))
                if first and answers[-1].unreachable:
                    return Report((), answers[-1].error or "nothing accepted the connection")
                first = False
            if case.expect is Expect.TIMING:
                result = timing(case, genuine, plan.setup, plan.timeout)
            else:
                explained = None
                if case.name == "valid" and answers[0].refused:
                    explained = await _explain(client, plan)
                if case.expect is Expect.ACCEPT:
                    genuine += answers
                result = judge(case, answers, plan.setup, plan.timeout, explained)
            results.append(result)
            on_result(result)
    return Report(tuple(results))
