"""Exit codes and the one exception family the CLI's error boundary turns into them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes users script against (cli.md)."""

    OK = 0
    FAILURES = 1  # the job ran and found failures: bad signature, non-2xx, lost events
    USAGE = 2  # bad flag, unknown event, unreadable or malformed input
    UNREACHABLE = 3  # connection refused, DNS, timeout, tunnel agent missing or failing
    CREDENTIALS = 4  # EventBus 4001/4003, ngrok authtoken
    INTERRUPTED = 130  # Ctrl+C during a one-shot command


class OfeventsError(Exception):
    """A user-facing failure: one line of what went wrong, a hint naming the fix, an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(OfeventsError):
    """Bad flag value, unknown event, unreadable file: exit 2."""

    exit_code = ExitCode.USAGE


class UnreachableError(OfeventsError):
    """Something needed could not be reached: exit 3."""

    exit_code = ExitCode.UNREACHABLE


class CredentialsError(OfeventsError):
    """Credentials were rejected: exit 4."""

    exit_code = ExitCode.CREDENTIALS
