"""The root command: version, help and the error boundary (start-up: test_startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ofevents_cli import __version__
from ofevents_cli.cli.app import app
from ofevents_cli.errors import ExitCode

runner = CliRunner()
EXE = str(Path(sys.executable).with_name("ofevents"))


def test_version() -> None:
    """--version prints the package version and exits 0."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"ofevents {__version__}"


def test_help_lists_every_command() -> None:
    """--help names each command of the contract."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("events", "trigger", "verify", "listen", "emulator", "forward", "replay",
                    "history", "inspect"):
        assert command in result.stdout


def test_exit_codes_are_the_contract() -> None:
    """The exit-code enum keeps the numbers users script against."""
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130]


def test_user_error_has_no_traceback_but_debug_shows_it() -> None:
    """A user error is one line + hint; with --debug the traceback is shown (subprocess)."""
    plain = subprocess.run([EXE, "trigger", "no.such.event", "-s", "x"], capture_output=True,
                           text=True, timeout=30)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.splitlines()[0].startswith("ofevents: error: unknown event")
    debug = subprocess.run([EXE, "--debug", "trigger", "no.such.event", "-s", "x"],
                           capture_output=True, text=True, timeout=30)
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    assert "ofevents: error: unknown event" in debug.stderr


def test_debug_keeps_the_exit_code_of_each_kind_of_error() -> None:
    """--debug adds the traceback but never changes the exit code: 3 stays 3, 4 stays 4."""
    from tests.eventbus_servers import KEY, emulator_thread
    from tests.target import closed_port

    unreachable = subprocess.run(
        [EXE, "--debug", "listen", "--url", f"ws://127.0.0.1:{closed_port()}/v1/events",
         "--api-key", "k", "--ws-token", "t", "--no-reconnect"],
        capture_output=True, text=True, timeout=30)
    assert unreachable.returncode == 3 and "Traceback" in unreachable.stderr
    with emulator_thread() as (served, _):
        refused = subprocess.run([EXE, "--debug", "listen", "--url", served.url, "--api-key",
                                  KEY, "--ws-token", "wrong"],
                                 capture_output=True, text=True, timeout=30)
    assert refused.returncode == 4 and "Traceback" in refused.stderr


def _imported_after(argv: list[str], modules: set[str]) -> list[str]:
    probe = (f"import sys, runpy; sys.argv = {['ofevents', *argv]!r}\n"
             "try:\n    runpy.run_module('ofevents_cli', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             f"print(sorted({modules!r} & {{m.split('.')[0] for m in sys.modules}}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=30, check=True)
    return list(eval(done.stdout.strip().splitlines()[-1]))


def test_only_inspect_imports_textual() -> None:
    """`--help`, other commands' help and a history listing never load textual; inspect's
    module does."""
    for argv in (["--help"], ["history", "--help"], ["replay", "--help"], ["inspect", "--help"],
                 ["history", "--last", "1"]):
        assert _imported_after(argv, {"textual"}) == [], argv
    probe = "import ofevents_cli.tui.inspector, sys; print('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=30, check=True)
    assert done.stdout.strip() == "True"
