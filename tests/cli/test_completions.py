"""The completion scripts shipped in completions/ match what the app generates today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shipped_completion_script_is_current(shell: str) -> None:
    """completions/ofevents.<shell> equals `ofevents --show-completion <shell>` (else regenerate
    with completions/generate.sh)."""
    exe = Path(sys.executable).with_name("ofevents")
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run([str(exe), "--show-completion", shell], capture_output=True,
                          text=True, env=env, timeout=30, check=True)
    assert done.stdout.strip()
    assert (ROOT / "completions" / f"ofevents.{shell}").read_text() == done.stdout


def test_completion_offers_the_commands() -> None:
    """Asking bash completion for `ofevents tr` offers `trigger`."""
    exe = Path(sys.executable).with_name("ofevents")
    env = {**os.environ, "_OFEVENTS_COMPLETE": "complete_bash", "COMP_WORDS": "ofevents tr",
           "COMP_CWORD": "1"}
    done = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=30)
    assert "trigger" in done.stdout.split()


@pytest.mark.parametrize(("words", "cword", "offered"), [
    ("ofevents ch", "1", {"check"}),
    ("ofevents do", "1", {"doctor"}),
    ("ofevents check 3000 --case bad", "4", {"bad-input", "bad-input:oversized"}),
    ("ofevents wo", "1", {"worker"}),
    ("ofevents listen --ro", "2", {"--route", "--routes"}),
    ("ofevents listen --si", "2", {"--sink"}),
    ("ofevents forward --ro", "2", {"--route", "--routes"}),
    ("ofevents worker --", "2", {"--from", "--to", "--consumer", "--claim-after",
                                 "--max-attempts"}),
])
def test_completion_offers_commands_flags_and_the_case_names(words: str, cword: str,
                                                           offered: set[str]) -> None:
    """Bash completion knows `check`, `doctor`, `worker`, the route, sink and worker flags,
    and the names `check --case` takes."""
    exe = Path(sys.executable).with_name("ofevents")
    env = {**os.environ, "_OFEVENTS_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": cword}
    done = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=30)
    assert offered <= set(done.stdout.split())


def _complete(words: str) -> list[str]:
    exe = Path(sys.executable).with_name("ofevents")
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {**os.environ, "_OFEVENTS_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}
    return subprocess.run([str(exe)], capture_output=True, text=True, env=env,
                          timeout=30).stdout.split()


def test_completion_knows_history_inspect_and_their_flags() -> None:
    """The new commands, `history`'s subcommands and flags, and --status values complete."""
    assert "history" in _complete("ofevents hi")
    assert "inspect" in _complete("ofevents in")
    assert "show" in _complete("ofevents history sh")
    assert "--status" in _complete("ofevents history --st")
    assert _complete("ofevents history --status ") == ["2xx", "3xx", "4xx", "5xx", "none"]
    assert "--explain" in _complete("ofevents history show --ex")
    assert {"--id", "--last", "--since"} <= set(_complete("ofevents replay --"))
    assert "--keep" in _complete("ofevents listen --ke")
