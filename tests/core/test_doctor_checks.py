"""`doctor`'s pure judgements: facts in, one plain-words check out."""

from __future__ import annotations

import base64
import email.utils

import pytest

from ofevents_cli.core.doctor_checks import (
    Check,
    FileFacts,
    Status,
    agent_check,
    clock_check,
    clock_skew,
    config_check,
    exit_code,
    proxy_check,
    secret_check,
    token_in_ngrok_config,
)
from ofevents_cli.errors import ExitCode

SVIX = "whsec_" + base64.b64encode(b"doctor-core-tests-key-32-bytes!!").decode()


@pytest.mark.parametrize(("provider", "secret", "status", "words"), [
    ("ofauth", SVIX, Status.OK, "fits svix, standard-webhooks, ofauth-signature"),
    ("ofauth", "whsec_no*base64", Status.FAIL, "`whsec_` followed by base64"),
    ("ofauth", "deadbeef" * 8, Status.WARN, "no `whsec_` prefix"),
    ("ofauth", SVIX + "\n", Status.FAIL, "spaces or a newline"),
    ("ofapi", "any text works", Status.OK, "fits ofapi"),
    ("eventbus", "not base64!", Status.FAIL, "does not fit standard-webhooks"),
])
def test_secret_form_per_scheme(provider: str, secret: str, status: Status, words: str
                                ) -> None:
    """The secret must fit the provider's scheme (`whsec_` + base64 for OFAuth's Svix)."""
    check = secret_check(provider, "env X", secret)
    assert check.status is status and words in check.detail
    assert secret.strip() not in check.detail  # masked


def test_unset_secret_is_skipped_not_failed() -> None:
    """A provider not in use is not a problem."""
    assert secret_check("ofapi", None, None).status is Status.SKIP


def test_config_modes() -> None:
    """Absent is fine, 0600 is fine, 0644 warns, unreadable fails."""
    assert config_check("/c", FileFacts(False)).status is Status.OK
    assert config_check("/c", FileFacts(True, 0o100600)).status is Status.OK
    assert config_check("/c", FileFacts(True, 0o100644)).status is Status.WARN
    assert config_check("/c", FileFacts(True, None, "not UTF-8")).status is Status.FAIL


def test_clock_skew_from_a_date_header() -> None:
    """The skew is the local clock minus the Date (half a second for its truncation)."""
    header = email.utils.formatdate(1_800_000_000, usegmt=True)
    assert clock_skew(1_800_000_100.0, 1_800_000_100.2, header) == pytest.approx(99.6)
    assert clock_skew(0, 0, "yesterday") is None and clock_skew(0, 0, None) is None


@pytest.mark.parametrize(("skew", "status"), [(2.0, Status.OK), (-60.0, Status.WARN),
                                              (301.0, Status.FAIL)])
def test_clock_tolerance(skew: float, status: Status) -> None:
    """Within 10 s is noise, within 300 s drifts, beyond it breaks every timestamped scheme."""
    assert clock_check("http://t/", skew, None).status is status


def test_proxy_passwords_hidden_and_loopback_direct() -> None:
    """Passwords never show; loopback never goes through a proxy, so no warning; the
    lower-case variable is the one used, as the clients read it."""
    check = proxy_check({"https_proxy": "http://u:secret@p:1"})
    assert check.status is Status.OK and "secret" not in check.detail
    assert proxy_check({"HTTP_PROXY": "http://p:1"}).status is Status.OK
    both = proxy_check({"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1"})
    assert "lower" in both.detail and "upper" not in both.detail


def test_agent_named_but_missing_fails_default_missing_warns() -> None:
    """PYNGROK_NGROK_PATH pointing nowhere fails; pyngrok's own copy is downloaded later."""
    assert agent_check("/x", True, FileFacts(False), None).status is Status.FAIL
    assert agent_check("/x", False, FileFacts(False), None).status is Status.WARN
    assert agent_check("/x", True, FileFacts(True, None, "is not executable"),
                       None).status is Status.FAIL
    assert agent_check("/x", True, FileFacts(True), "ngrok version 3").status is Status.OK


def test_ngrok_config_token_v2_and_v3() -> None:
    """`authtoken:` at the top (v2) or under `agent:` (v3), quoted or not."""
    assert token_in_ngrok_config("authtoken: abc123\n") == "abc123"
    assert token_in_ngrok_config('version: "3"\nagent:\n  authtoken: "x_y"\n') == "x_y"
    assert token_in_ngrok_config("version: 3\n") is None


def test_exit_code_fails_only_on_fail() -> None:
    """Warnings and skips exit 0; a failed check exits 1."""
    warn = Check("a", Status.WARN, "")
    assert exit_code([warn, Check("b", Status.SKIP, "")]) is ExitCode.OK
    assert exit_code([warn, Check("c", Status.FAIL, "")]) is ExitCode.FAILURES
