"""--help for people: readable placeholders, the command list never cut, examples everywhere,
and the examples are the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.cli.examples import HELP
from tests.cli.test_startup import command_paths

runner = CliRunner()
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
# a Python type where a flag's or an argument's value is shown: `--to <str>`, `{event}`
PYTHON_TYPES = re.compile(r"(^|\s)(-[-\w]+ )?(<[a-z_\[\], ]+>|\{[a-z_]+\})(?=\s|$)", re.MULTILINE)


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_help_has_readable_placeholders_and_an_example(path: list[str]) -> None:
    """No `<str>`, `<int range>`, `<list[str]>`, `{event}` or Click's TEXT; an Examples block
    whose lines are real commands."""
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert not PYTHON_TYPES.search(result.stdout), PYTHON_TYPES.search(result.stdout)
    examples = result.stdout.split("Examples:", 1)[1].strip().splitlines()
    assert examples and all(line.strip().startswith("ofevents ") for line in examples)


def test_the_command_list_is_never_cut() -> None:
    """`ofevents --help` lists every command with its whole line (no "…")."""
    result = runner.invoke(app, ["--help"], terminal_width=80)
    listing = result.stdout.split("Commands:", 1)[1]
    assert "..." not in listing and "…" not in listing
    for name in ("listen", "forward", "trigger", "verify", "check", "history", "config"):
        assert re.search(rf"^\s+{name}\s+\S", listing, re.MULTILINE), name


def test_every_command_has_help_and_every_example_is_in_the_readme() -> None:
    """Each command path has a line and examples in cli/examples.py, and each example appears
    in README.md as it is (so --help and the README never disagree)."""
    paths = {" ".join(p) for p in command_paths()}
    assert paths <= set(HELP), paths - set(HELP)
    missing = [example for _, examples in HELP.values() for example in examples
               if example not in README]
    assert missing == []
