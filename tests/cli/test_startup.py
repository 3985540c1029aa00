"""Start-up stays fast: what each run imports, checked by module name (timings are
bench/startup.py's job; a module list does not depend on how busy the machine is)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ofevents_cli.cli.app import COMMANDS, app, module_of
from ofevents_cli.cli.examples import short_help
from tests.eventbus_servers import KEY, TOKEN, emulator_thread, publish
from tests.receiver import receiver

# what no --help prints with (help is plain text: rich_markup_mode=None), or needs
NOT_FOR_HELP = {"pydantic", "pydantic_core", "rich", "httpx", "aiohttp", "orjson", "websockets",
                "uvicorn", "pyngrok"}
MACHINERY = ("ofevents_cli.shells", "ofevents_cli.render", "ofevents_cli.core")
# what --help does print: the provider names and choices come from the registry
PRINTED = {"ofevents_cli.core", "ofevents_cli.core.providers", "ofevents_cli.core.schemes",
           "ofevents_cli.core.strictjson"}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# runs the console entry point with argv, then writes the modules it imported to a file
PROBE = """
import json, sys
out, sys.argv = sys.argv[1], ["ofevents", *sys.argv[2:]]
from ofevents_cli.cli.app import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def command_paths() -> list[list[str]]:
    """Every command and subcommand, read from the app (a new one is covered on its own)."""
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def imported(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    """Run `ofevents ARGS` in a fresh interpreter: (exit code, modules imported, stdout)."""
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert out.exists(), done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    return report["code"], set(report["modules"]), done.stdout


def packages(modules: set[str]) -> set[str]:
    """Top-level package names."""
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [[], *command_paths()], ids=lambda a: " ".join(a) or "root")
def test_help_imports_nothing_it_does_not_print(tmp_path: Path, args: list[str]) -> None:
    """`ofevents [COMMAND] --help` prints its usage without pydantic, rich, httpx, websockets,
    uvicorn, pyngrok or any of ofevents' shells, renderers or core (but the registry, whose
    provider names the help prints)."""
    code, modules, stdout = imported(tmp_path, *args, "--help")
    assert code == 0 and "Usage:" in stdout
    assert packages(modules) & NOT_FOR_HELP == set()
    assert sorted(m for m in modules if m.startswith(MACHINERY) and m not in PRINTED) == []


def test_version_imports_no_command_machinery(tmp_path: Path) -> None:
    """`ofevents --version` prints the version and loads none of the heavy modules either."""
    code, modules, stdout = imported(tmp_path, "--version")
    assert code == 0 and stdout.startswith("ofevents ")
    assert packages(modules) & NOT_FOR_HELP == set()
    assert sorted(m for m in modules if m.startswith(MACHINERY) and m not in PRINTED) == []


COMMAND_MODULES = {module_of(name) for name in COMMANDS}


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["verify", "--help"],
                                  ["history", "show", "--help"]], ids=" ".join)
def test_only_the_command_that_runs_is_built(tmp_path: Path, args: list[str]) -> None:
    """Typer builds every command it is given before parsing a flag (most of a `--help`), so
    the root builds a command, and imports its module, only when that command runs: the root's
    `--version` and `--help` import no command module, `verify --help` only verify's."""
    code, modules, stdout = imported(tmp_path, *args)
    assert code == 0 and stdout
    wanted = {module_of(args[0])} if args[0] in COMMANDS else set()
    assert modules & COMMAND_MODULES == wanted


def test_the_command_list_names_every_command_in_order() -> None:
    """`ofevents --help` lists every command with its one line, without building any."""
    listed = CliRunner().invoke(app, ["--help"]).stdout
    rows = [line.split()[0] for line in listed.split("Commands:")[1].splitlines() if line.strip()]
    assert rows == list(COMMANDS)
    assert short_help("verify") in listed


def test_command_annotations_are_not_strings() -> None:
    """Command signatures hold real annotations: typer evaluates string ones (`from __future__
    import annotations`) for every command on every start, ~15 ms of each --help."""
    root = typer.main.get_command(app)
    callbacks = [root.callback]
    for path in command_paths():
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        callbacks.append(command.callback)
    checked = [inspect.unwrap(c) for c in callbacks if c is not None]  # `config` has none
    assert len(checked) >= len(callbacks) - 2 and len(checked) >= 15  # groups: no callback
    for callback in checked:
        hints = inspect.get_annotations(callback)
        assert hints and not [k for k, v in hints.items() if isinstance(v, str)], callback


def test_listen_loads_no_emulator_forwarder_or_secret_without_their_flags(
        tmp_path: Path) -> None:
    """A plain `listen` tails events without importing the emulator, the forwarder or the
    session-secret store (those belong to --demo, --forward-to and --print-secret)."""
    with emulator_thread() as (served, loop):
        publish(served, loop, "tip", "384751629", {"amount": 3})
        code, modules, stdout = imported(tmp_path, "listen", "--url", served.url, "--api-key",
                                         KEY, "--ws-token", TOKEN, "--json", "--max-events",
                                         "1", "--resume", served.app.bus.id_of(0))
    assert code == 0 and json.loads(stdout)["amount"] == 3
    unwanted = {"ofevents_cli.shells.emulator", "ofevents_cli.shells.forwarder",
                "ofevents_cli.shells.session_secret", "ofevents_cli.shells.event_log"}
    assert modules & unwanted == set()


def test_piped_events_list_does_not_load_rich(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`ofevents events | …` prints the plain list without importing rich (no table to draw)."""
    monkeypatch.delenv("NO_COLOR")
    code, modules, stdout = imported(tmp_path, "events")
    assert code == 0 and "tip.received" in stdout and "─" not in stdout
    assert "rich" not in packages(modules)


def test_trigger_does_not_load_httpx_command_line_client(tmp_path: Path) -> None:
    """`trigger` sends with httpx but without httpx's own CLI (click, pygments, rich)."""
    with receiver() as (url, got):
        code, modules, _ = imported(tmp_path, "trigger", "tip.received", "--provider", "ofapi",
                                    "--to", url, "--secret", SECRET)
    assert code == 0 and len(got.requests) == 1
    assert "httpx" in packages(modules)
    assert packages(modules) & {"click", "pygments", "rich"} == set()
